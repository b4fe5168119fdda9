"""Runtime settings from the environment and an optional `.env` file."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values


class SettingsError(ValueError):
    """A setting has a value paperbot cannot use; the message names it."""


def _int(env: dict[str, str], name: str, default: int | None) -> int | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None


def _id_set(env: dict[str, str], name: str) -> frozenset[int]:
    parts = [p.strip() for p in (env.get(name) or "").split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        raise SettingsError(f"{name} must be comma-separated server ids, not {env.get(name)!r}")
    return frozenset(int(p) for p in parts)


def _shard_ids(raw: str, count: int) -> tuple[int, ...]:
    """`0,1`, `2-3` or a mix like `0-1,5`; every id must lie in 0..count-1."""
    ids: set[int] = set()
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        low, dash, high = part.partition("-")
        if not low.strip().isdigit() or (dash and not high.strip().isdigit()):
            raise SettingsError(
                f"SHARD_IDS must be comma-separated shard numbers or ranges like 0-1, not {raw!r}"
            )
        first, last = int(low), int(high) if dash else int(low)
        if first > last:
            raise SettingsError(f"SHARD_IDS range {part!r} runs backwards; write {last}-{first}")
        ids.update(range(first, last + 1))
    outside = sorted(i for i in ids if i >= count)
    if outside:
        raise SettingsError(
            f"SHARD_IDS {outside} out of range: with SHARD_COUNT={count} shards are 0-{count - 1}"
        )
    return tuple(sorted(ids)) or tuple(range(count))


def _database(env: dict[str, str]) -> str:
    url = (env.get("DATABASE_URL") or "").strip()
    if not url:
        return (env.get("PAPERBOT_DB") or "").strip() or "data/paperbot.db"
    if not url.startswith(("postgresql://", "postgres://", "sqlite:///")):
        raise SettingsError(
            "DATABASE_URL must start with postgresql:// or sqlite:/// (e.g. sqlite:///data/x.db)"
        )
    return url


@dataclass(frozen=True)
class Settings:
    token: str = field(default="", repr=False)  # never printed, never logged
    dev_guild_id: int | None = None
    db: str = "data/paperbot.db"
    dumps_dir: Path = Path("data/dumps")
    dump_url: str = ""
    ingest_every_minutes: int = 30
    misfire_grace: dt.timedelta = dt.timedelta(hours=6)
    log_level: str = "INFO"
    sweep_every_seconds: int = 300
    max_posts_per_second: float = 47.0  # with a burst of 2: at most 49 in any second, under 50
    # Point the client at another Discord (the loopback fake in tests); empty = real one.
    discord_api_base: str = ""
    discord_gateway_url: str = ""
    # Papers are shared by every server the bot is in, so on a shared instance only these
    # servers may /ingest; empty = any server's Manage Server members.
    ingest_guild_ids: frozenset[int] = frozenset()
    # Sharding: None = one plain (unsharded) client. Otherwise this process runs
    # `shard_ids` of `shard_count` shards and posts only to their guilds' channels.
    shard_count: int | None = None
    shard_ids: tuple[int, ...] = ()
    # How long a delivery claim (and a shard's heartbeat) stays valid before another
    # process may take the work over; also how late a foreign shard's post may be.
    claim_timeout: dt.timedelta = dt.timedelta(seconds=120)

    @property
    def sharded(self) -> bool:
        return self.shard_count is not None

    def owns_guild(self, guild_id: int | None) -> bool:
        """Whether this process posts to `guild_id`'s channels (None, a DM: any process)."""
        if self.shard_count is None or guild_id is None:
            return True
        return (guild_id >> 22) % self.shard_count in self.shard_ids

    @classmethod
    def load(cls, env_file: str | Path | None = ".env", environ: dict | None = None) -> Settings:
        """Environment variables win over the `.env` file."""
        env: dict[str, str] = {}
        if env_file and Path(env_file).is_file():
            env.update({k: v or "" for k, v in dotenv_values(env_file).items()})
        env.update(environ if environ is not None else os.environ)
        grace_hours = _int(env, "MISFIRE_GRACE_HOURS", 6)
        every = _int(env, "INGEST_EVERY_MINUTES", 30)
        if every is not None and every < 1:
            raise SettingsError("INGEST_EVERY_MINUTES must be at least 1")
        dump_url = env.get("DUMP_URL", "").strip()
        if dump_url and "{date}" not in dump_url:
            raise SettingsError("DUMP_URL needs a {date} placeholder, e.g. ...?date={date}")
        db = _database(env)
        shard_count = _int(env, "SHARD_COUNT", None)
        shard_ids: tuple[int, ...] = ()
        if shard_count is None:
            if (env.get("SHARD_IDS") or "").strip():
                raise SettingsError("SHARD_IDS needs SHARD_COUNT (the total number of shards)")
        else:
            if shard_count < 1:
                raise SettingsError("SHARD_COUNT must be at least 1 (or empty: no sharding)")
            shard_ids = _shard_ids(env.get("SHARD_IDS") or "", shard_count)
            # Other processes run the other shards, and they must all see one ledger: a
            # SQLite file cannot be shared between hosts (nor safely leased across them).
            if len(shard_ids) < shard_count and not db.startswith(("postgresql://", "postgres://")):
                raise SettingsError(
                    f"SHARD_IDS covers {len(shard_ids)} of {shard_count} shards, so other "
                    "processes run the rest; they need a shared database: set "
                    "DATABASE_URL=postgresql://... (one process running all shards may use SQLite)"
                )
        claim_timeout = _int(env, "CLAIM_TIMEOUT_SECONDS", 120)
        if claim_timeout is not None and claim_timeout < 5:
            raise SettingsError(
                "CLAIM_TIMEOUT_SECONDS must be at least 5 (heartbeats have 1 s resolution)"
            )
        return cls(
            token=env.get("DISCORD_TOKEN", "").strip(),
            dev_guild_id=_int(env, "DEV_GUILD_ID", None),
            db=db,
            dumps_dir=Path(env.get("DUMPS_DIR", "").strip() or "data/dumps"),
            dump_url=dump_url,
            ingest_every_minutes=every or 30,
            misfire_grace=dt.timedelta(hours=grace_hours or 0),
            log_level=(env.get("LOG_LEVEL", "").strip() or "INFO").upper(),
            sweep_every_seconds=_int(env, "SWEEP_EVERY_SECONDS", 300) or 300,
            ingest_guild_ids=_id_set(env, "INGEST_GUILD_IDS"),
            discord_api_base=env.get("DISCORD_API_BASE", "").strip(),
            discord_gateway_url=env.get("DISCORD_GATEWAY_URL", "").strip(),
            shard_count=shard_count,
            shard_ids=shard_ids,
            claim_timeout=dt.timedelta(seconds=claim_timeout or 120),
        )
