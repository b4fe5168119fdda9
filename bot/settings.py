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
        return cls(
            token=env.get("DISCORD_TOKEN", "").strip(),
            dev_guild_id=_int(env, "DEV_GUILD_ID", None),
            db=env.get("PAPERBOT_DB", "").strip() or "data/paperbot.db",
            dumps_dir=Path(env.get("DUMPS_DIR", "").strip() or "data/dumps"),
            dump_url=dump_url,
            ingest_every_minutes=every or 30,
            misfire_grace=dt.timedelta(hours=grace_hours or 0),
            log_level=(env.get("LOG_LEVEL", "").strip() or "INFO").upper(),
            sweep_every_seconds=_int(env, "SWEEP_EVERY_SECONDS", 300) or 300,
            ingest_guild_ids=_id_set(env, "INGEST_GUILD_IDS"),
            discord_api_base=env.get("DISCORD_API_BASE", "").strip(),
            discord_gateway_url=env.get("DISCORD_GATEWAY_URL", "").strip(),
        )
