"""Every setting paperbot reads, once: its name, default, rule and documentation.

`bot.cli.settings.Settings.load` reads values by this table, the `Settings` defaults come
from it, and `.env.example` and the README's configuration table are written from it
(`python -m bot.cli.settings_table env-example` / `readme`; a test keeps both in step).
"""

from __future__ import annotations

import datetime as dt
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.core.sources import typed_categories
from storage.urls import is_postgres_url


class SettingScope(StrEnum):
    """Which commands check a setting: every command checks LOG_LEVEL, the commands that
    open the configured database check the database settings, `run` and `sync` check
    them all."""

    DATABASE = "database"
    LOGGING = "logging"
    BOT = "bot"


DATABASE, LOGGING, BOT = SettingScope.DATABASE, SettingScope.LOGGING, SettingScope.BOT
ALL_SCOPES = frozenset(SettingScope)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_SNOWFLAKE = 2**64 - 1


@dataclass(frozen=True)
class Setting:
    name: str
    default: str  # as written in .env; "" means unset
    accepts: str  # what a valid value looks like, for errors and the docs
    doc: str  # what it does, one or two sentences
    read: Callable[[str], Any]  # the stripped text -> the value; ValueError if invalid
    scope: SettingScope = BOT
    field: str | None = None  # the Settings attribute it fills (None: combined in load)
    example: str = ""  # an illustrative value, for the docs only


def _text(raw: str) -> str:
    return raw


def _snowflake(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) <= MAX_SNOWFLAKE:
        raise ValueError("must be a Discord server id: a number such as 1234567890123456789")
    return int(raw)


def _optional_snowflake(raw: str) -> int | None:
    return _snowflake(raw) if raw else None


def _snowflakes(raw: str) -> frozenset[int]:
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not all(part.isdigit() and 0 < int(part) <= MAX_SNOWFLAKE for part in parts):
        raise ValueError("must be comma-separated server ids, e.g. 123456789012345678,987654321")
    return frozenset(int(part) for part in parts)


def _whole(minimum: int, unit: str) -> Callable[[str], int]:
    def read(raw: str) -> int:
        rule = f"must be a whole number of {unit}, at least {minimum}"
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(rule) from None
        if value < minimum:
            raise ValueError(rule)
        return value

    return read


def _optional_whole(minimum: int, unit: str) -> Callable[[str], int | None]:
    whole = _whole(minimum, unit)
    return lambda raw: whole(raw) if raw else None


def _hours(raw: str) -> dt.timedelta:
    return dt.timedelta(hours=_whole(0, "hours")(raw))


def _seconds(minimum: int) -> Callable[[str], dt.timedelta]:
    whole = _whole(minimum, "seconds")
    return lambda raw: dt.timedelta(seconds=whole(raw))


def _log_level(raw: str) -> str:
    if raw.upper() not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
    return raw.upper()


def _db_path(raw: str) -> str:
    if "://" in raw and not raw.startswith("sqlite:///") and not is_postgres_url(raw):
        raise ValueError("must be a file path (or sqlite:///PATH); use DATABASE_URL for a server")
    return raw


def _database_url(raw: str) -> str:
    if raw and not raw.startswith(("postgresql://", "postgres://", "sqlite:///")):
        raise ValueError("must start with postgresql:// or sqlite:/// (e.g. sqlite:///data/x.db)")
    return raw


def _dump_url(raw: str) -> str:
    if raw and not raw.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL with a {date} placeholder")
    if raw and "{date}" not in raw:
        raise ValueError("needs a {date} placeholder, e.g. ...?date={date}")
    return raw


def _arxiv_categories(raw: str) -> tuple[str, ...]:
    return typed_categories(raw) if raw.strip() else ()


def _arxiv_feed_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL with a {categories} placeholder")
    if "{categories}" not in raw:
        raise ValueError("needs a {categories} placeholder, e.g. .../rss/{categories}")
    return raw


def _endpoint(*schemes: str) -> Callable[[str], str]:
    def read(raw: str) -> str:
        if raw and not raw.startswith(schemes):
            raise ValueError(f"must be empty or a URL starting with {' or '.join(schemes)}")
        return raw

    return read


def _port(raw: str) -> int | None:
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ValueError("must be empty (off) or a TCP port number from 1 to 65535")
    return int(raw)


def _host(raw: str) -> str:
    if any(c.isspace() or c in "/@" for c in raw):
        raise ValueError("must be a host name or IP address, e.g. 127.0.0.1 or 0.0.0.0")
    return raw.strip("[]")  # [::1] as in a URL is the address ::1


def shard_ranges(raw: str) -> tuple[int, ...]:
    """`0,1`, `2-3` or a mix like `0-1,5` -> the sorted shard numbers (unchecked range)."""
    ids: set[int] = set()
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        low, dash, high = part.partition("-")
        if not low.strip().isdigit() or (dash and not high.strip().isdigit()):
            raise ValueError("must be comma-separated shard numbers or ranges like 0-1")
        first, last = int(low), int(high) if dash else int(low)
        if first > last:
            raise ValueError(f"range {part!r} runs backwards; write {last}-{first}")
        ids.update(range(first, last + 1))
    return tuple(sorted(ids))


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DISCORD_TOKEN",
        "",
        "the token from the Discord developer portal",
        "The bot token (developer portal: Bot -> Reset Token). Without it `paperbot run` "
        "explains what is missing and starts the offline console when there is a terminal "
        "or piped commands to read; with no input (a service manager) it exits 1.",
        _text,
        field="token",
    ),
    Setting(
        "DEV_GUILD_ID",
        "",
        "empty, or a Discord server id (a number)",
        "Sync slash commands to this one server only (instant, good while developing). "
        "Empty syncs globally (can take up to an hour to show up everywhere).",
        _optional_snowflake,
        field="dev_guild_id",
    ),
    Setting(
        "PAPERBOT_DB",
        "data/paperbot.db",
        "a file path",
        "The SQLite database file. Back it up by copying it (or with "
        '`sqlite3 data/paperbot.db ".backup backup.db"` while the bot runs).',
        _db_path,
        scope=DATABASE,
        field="db",
    ),
    Setting(
        "DATABASE_URL",
        "",
        "empty, postgresql://USER:PASSWORD@HOST/DB or sqlite:///PATH",
        "A database URL; wins over PAPERBOT_DB. PostgreSQL lets several bot processes "
        "share one database (see Deploying at scale).",
        _database_url,
        scope=DATABASE,
        example="postgresql://paperbot:PASSWORD@127.0.0.1/paperbot",
    ),
    Setting(
        "DUMPS_DIR",
        "data/dumps",
        "a folder path",
        "A folder the bot watches for new daily dumps (.txt page dumps or .json API output).",
        lambda raw: Path(raw),
        field="dumps_dir",
    ),
    Setting(
        "DUMP_URL",
        "",
        "empty, or an http(s) URL with a {date} placeholder",
        "Optional: download each day's dump into DUMPS_DIR; {date} becomes YYYY-MM-DD.",
        _dump_url,
        field="dump_url",
        example="https://huggingface.co/api/daily_papers?date={date}",
    ),
    Setting(
        "ARXIV_CATEGORIES",
        "",
        "empty, or comma-separated arXiv categories such as cs.CL,cs.LG",
        "Optional: download arXiv's announcement feed for these categories into DUMPS_DIR "
        "each weekday (arXiv announces nothing on weekends and holidays).",
        _arxiv_categories,
        field="arxiv_categories",
        example="cs.CL,cs.LG",
    ),
    Setting(
        "ARXIV_FEED_URL",
        "https://rss.arxiv.org/rss/{categories}",
        "an http(s) URL with a {categories} placeholder",
        "Where ARXIV_CATEGORIES' feed is fetched from; {categories} becomes cs.CL+cs.LG.",
        _arxiv_feed_url,
        field="arxiv_feed_url",
    ),
    Setting(
        "INGEST_EVERY_MINUTES",
        "30",
        "a whole number of minutes, 1 or more",
        "How often to look in DUMPS_DIR and fetch DUMP_URL and arXiv's feed.",
        _whole(1, "minutes"),
        field="ingest_every_minutes",
    ),
    Setting(
        "MISFIRE_GRACE_HOURS",
        "6",
        "a whole number of hours, 0 or more",
        "A digest missed while the bot was down (or busy) still goes out up to this many "
        "hours late; 0 means no grace: a late digest waits for the next day.",
        _hours,
        field="misfire_grace",
    ),
    Setting(
        "LOG_LEVEL",
        "INFO",
        ", ".join(LOG_LEVELS),
        "How much the bot logs. DEBUG also shows the full traceback of any error, as --debug does.",
        _log_level,
        scope=LOGGING,
        field="log_level",
    ),
    Setting(
        "SWEEP_EVERY_SECONDS",
        "300",
        "a whole number of seconds, 1 or more",
        "How often to look for digests missed during downtime (within the grace window).",
        _whole(1, "seconds"),
        field="sweep_every_seconds",
    ),
    Setting(
        "SEARCH_PROCESSES",
        "0",
        "a whole number of processes, 0 or more",
        "Processes answering /search and autocomplete beside the bot (SQLite only): "
        "bursts are answered sooner; each costs 100+ MB at 100k papers. 0: none.",
        _whole(0, "processes"),
        field="search_processes",
    ),
    Setting(
        "DISCORD_API_BASE",
        "",
        "empty, or an http(s) URL",
        "Advanced/testing: send Discord REST traffic elsewhere, e.g. the loopback fake "
        "Discord the tests run (http://127.0.0.1:PORT/api/v10). Empty: the real Discord.",
        _endpoint("http://", "https://"),
        field="discord_api_base",
    ),
    Setting(
        "DISCORD_GATEWAY_URL",
        "",
        "empty, or a ws(s) URL",
        "Advanced/testing: the gateway to connect to instead (ws://127.0.0.1:PORT/).",
        _endpoint("ws://", "wss://"),
        field="discord_gateway_url",
    ),
    Setting(
        "INGEST_GUILD_IDS",
        "",
        "empty, or comma-separated Discord server ids",
        "Papers are shared by every server the bot is in. On an instance serving several "
        "communities, list the servers whose admins may /ingest; empty lets any server's "
        "Manage Server members ingest.",
        _snowflakes,
        field="ingest_guild_ids",
    ),
    Setting(
        "SHARD_COUNT",
        "",
        "empty, or a whole number of shards, 1 or more",
        "Sharding for large bots: the total number of gateway shards (empty: not sharded).",
        _optional_whole(1, "shards"),
        field="shard_count",
    ),
    Setting(
        "SHARD_IDS",
        "",
        "empty, or shard numbers and ranges below SHARD_COUNT, e.g. 0,1 or 0-1",
        "The shards this process runs (empty: all). Splitting the shards across processes "
        "needs DATABASE_URL=postgresql://...",
        shard_ranges,
    ),
    Setting(
        "CLAIM_TIMEOUT_SECONDS",
        "120",
        "a whole number of seconds, 5 or more",
        "How long a digest claim and a shard heartbeat last before another process takes "
        "the work over.",
        _seconds(5),
        field="claim_timeout",
    ),
    Setting(
        "HTTP_PORT",
        "",
        "empty (off), or a port from 1 to 65535",
        "Optional: `paperbot run` serves the `export-site` site here.",
        lambda raw: _port(raw) if raw else None,
        field="http_port",
        example="8080",
    ),
    Setting(
        "HTTP_HOST",
        "127.0.0.1",
        "a host name or IP address",
        "Where HTTP_PORT listens (0.0.0.0: every network).",
        _host,
        field="http_host",
    ),
)

BY_NAME = {setting.name: setting for setting in SETTINGS}


# The value each setting has when it is not set anywhere.
DEFAULTS: dict[str, Any] = {s.name: s.read(s.default) for s in SETTINGS}


def env_example() -> str:
    """The text of `.env.example`: every setting with its default and what it does."""
    lines = [
        "# paperbot settings. Copy to `.env` (git-ignored) and fill in. Each setting is read",
        "# from the real environment first, then from this file, then its default; an empty",
        "# value means the default. `paperbot CMD --db PATH-OR-URL` overrides the database.",
        "# Generated from bot/cli/settings_table.py:"
        " `python -m bot.cli.settings_table env-example`.",
    ]
    for setting in SETTINGS:
        lines.append("")
        lines += [f"# {line}" for line in textwrap.wrap(setting.doc, 86)]
        lines.append(f"# Accepts: {setting.accepts}.")
        if setting.example:
            lines.append(f"# Example: {setting.example}")
        lines.append(f"{setting.name}={setting.default}")
    return "\n".join(lines) + "\n"


def readme_table() -> str:
    """The README's configuration table, one row per setting."""
    rows = ["| setting | default | accepts | what it does |", "|---|---|---|---|"]
    for setting in SETTINGS:
        shown = f"`{setting.default}`" if setting.default else "—"
        doc = setting.doc.replace("|", "\\|")
        rows.append(f"| `{setting.name}` | {shown} | {setting.accepts} | {doc} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # regenerate the docs after changing the table
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what not in ("env-example", "readme"):
        sys.exit("usage: python -m bot.cli.settings_table env-example|readme")
    sys.stdout.write(env_example() if what == "env-example" else readme_table())
