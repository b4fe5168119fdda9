"""Runtime settings: the one loader every `paperbot` command goes through.

Each setting is read from the real environment, then from `.env` in the working
directory, then its default; `--db` on the command line wins over all three. The
settings themselves (defaults, rules, documentation) are in `bot.cli.settings_table`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from bot.cli.settings_table import ALL_SCOPES, BOT, BY_NAME, DEFAULTS, SETTINGS, SettingScope
from storage.urls import is_postgres_url, redact, url_password

ENV_FILE = ".env"


class SettingsError(ValueError):
    """A setting has a value paperbot cannot use; the one-line message names it and
    says what it accepts."""


@dataclass(frozen=True)
class Settings:
    token: str = field(default=DEFAULTS["DISCORD_TOKEN"], repr=False)  # never printed
    dev_guild_id: int | None = DEFAULTS["DEV_GUILD_ID"]
    db: str = DEFAULTS["PAPERBOT_DB"]
    dumps_dir: Path = DEFAULTS["DUMPS_DIR"]
    dump_url: str = DEFAULTS["DUMP_URL"]
    arxiv_categories: tuple[str, ...] = DEFAULTS["ARXIV_CATEGORIES"]
    arxiv_feed_url: str = DEFAULTS["ARXIV_FEED_URL"]
    ingest_every_minutes: int = DEFAULTS["INGEST_EVERY_MINUTES"]
    misfire_grace: dt.timedelta = DEFAULTS["MISFIRE_GRACE_HOURS"]
    log_level: str = DEFAULTS["LOG_LEVEL"]
    sweep_every_seconds: int = DEFAULTS["SWEEP_EVERY_SECONDS"]
    max_posts_per_second: float = 47.0  # with a burst of 2: at most 49 in any second, under 50
    # Worker processes that work out searches beside the event loop (SQLite database
    # files; 0: searches run in the bot's own process). Off by default: each worker
    # costs memory of its own (docs/PERFORMANCE.md).
    search_processes: int = DEFAULTS["SEARCH_PROCESSES"]
    # Point the client at another Discord (the loopback fake in tests); empty = real one.
    discord_api_base: str = DEFAULTS["DISCORD_API_BASE"]
    discord_gateway_url: str = DEFAULTS["DISCORD_GATEWAY_URL"]
    # Papers are shared by every server the bot is in, so on a shared instance only these
    # servers may /ingest; empty = any server's Manage Server members.
    ingest_guild_ids: frozenset[int] = DEFAULTS["INGEST_GUILD_IDS"]
    # Sharding: None = one plain (unsharded) client. Otherwise this process runs
    # `shard_ids` of `shard_count` shards and posts only to their guilds' channels.
    shard_count: int | None = DEFAULTS["SHARD_COUNT"]
    shard_ids: tuple[int, ...] = DEFAULTS["SHARD_IDS"]
    # How long a delivery claim (and a shard's heartbeat) stays valid before another
    # process may take the work over; also how late a foreign shard's post may be.
    claim_timeout: dt.timedelta = DEFAULTS["CLAIM_TIMEOUT_SECONDS"]
    # The live site (`paperbot run`): off unless a port is set; this machine only unless
    # the host says otherwise.
    http_port: int | None = DEFAULTS["HTTP_PORT"]
    http_host: str = DEFAULTS["HTTP_HOST"]

    @property
    def sharded(self) -> bool:
        return self.shard_count is not None

    @property
    def debug(self) -> bool:
        return self.log_level == "DEBUG"

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never be shown: the token and the database password."""
        return tuple(s for s in (self.token, url_password(self.db)) if s)

    def owns_guild(self, guild_id: int | None) -> bool:
        """Whether this process posts to `guild_id`'s channels (None, a DM: any process)."""
        if self.shard_count is None or guild_id is None:
            return True
        return (guild_id >> 22) % self.shard_count in self.shard_ids

    @classmethod
    def load(
        cls,
        env_file: str | Path | None = ENV_FILE,
        environ: Mapping[str, str] | None = None,
        *,
        db: str | None = None,
        check: Collection[SettingScope] = ALL_SCOPES,
    ) -> Settings:
        """The settings from `environ` (default: the process environment), then
        `env_file`, then the defaults; `db` (the command line's --db) overrides the
        database settings. Raises SettingsError for the first bad value among the
        settings whose scope is in `check` (what the command uses); any other setting
        that is bad is left at its default, as the command never looks at it."""
        return _Loader(env_file, environ, check).settings(db)


class _Loader:
    def __init__(
        self,
        env_file: str | Path | None,
        environ: Mapping[str, str] | None,
        check: Collection[SettingScope],
    ) -> None:
        self.values: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        if env_file and Path(env_file).is_file():
            for name, value in dotenv_values(env_file).items():
                self.values[name], self.sources[name] = value or "", str(env_file)
        for name, value in (os.environ if environ is None else environ).items():
            self.values[name], self.sources[name] = value, "the environment"
        self.check = check

    def error(self, name: str, problem: str) -> SettingsError:
        raw = self.values.get(name, "").strip()
        shown = "…" if name == "DISCORD_TOKEN" else redact(raw)
        where = f" (from {self.sources[name]})" if name in self.sources else ""
        return SettingsError(f"{name}={shown}{where}: {problem}")

    def read(self, name: str) -> object:
        """The setting's value; its default when unset, empty or (unchecked) invalid."""
        setting = BY_NAME[name]
        raw = self.values.get(name, "").strip()
        if not raw:
            return DEFAULTS[name]
        try:
            return setting.read(raw)
        except ValueError as exc:
            if setting.scope in self.check:
                raise self.error(name, str(exc)) from None
            return DEFAULTS[name]

    def settings(self, db: str | None) -> Settings:
        # Each value has its own setting's type (what its `read` returns): the table
        # cannot tell the checker which, so they are Any until Settings holds them.
        fields: dict[str, Any] = {
            s.field: self.read(s.name) for s in SETTINGS if s.field and s.field != "db"
        }
        fields["db"] = db or self.database()
        fields["shard_ids"] = self.shard_ids(fields["shard_count"], fields["db"])
        return Settings(**fields)

    def database(self) -> str:
        return str(self.read("DATABASE_URL") or self.read("PAPERBOT_DB"))

    def shard_ids(self, shard_count: int | None, db: str) -> tuple[int, ...]:
        ids = self.read("SHARD_IDS")
        assert isinstance(ids, tuple)
        if shard_count is None:
            if ids and BOT in self.check:
                raise self.error("SHARD_IDS", "needs SHARD_COUNT (the total number of shards)")
            return ()
        outside = [i for i in ids if i >= shard_count]
        if outside and BOT in self.check:
            raise self.error(
                "SHARD_IDS",
                f"{outside} out of range: with SHARD_COUNT={shard_count} shards are "
                f"0-{shard_count - 1}",
            )
        ids = tuple(i for i in ids if i < shard_count) or tuple(range(shard_count))
        # Other processes run the other shards, and they must all see one ledger: a
        # SQLite file cannot be shared between hosts (nor safely leased across them).
        if len(ids) < shard_count and not is_postgres_url(db) and BOT in self.check:
            raise self.error(
                "SHARD_IDS",
                f"covers {len(ids)} of {shard_count} shards, so other processes run the "
                "rest; they need a shared database: set DATABASE_URL=postgresql://... "
                "(one process running all shards may use SQLite)",
            )
        return ids
