"""The real `paperbot` command as a subprocess, in a working directory of the test's own
(where a test may put a `.env`), with none of the runner's paperbot settings leaking in."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from tests.forked_cli import run_cli

# Every variable paperbot reads (bot/cli/settings_table.py), listed here so these helpers
# also run against older code: a runner's own settings must never leak into a test.
SETTING_NAMES = {
    "DISCORD_TOKEN",
    "DEV_GUILD_ID",
    "PAPERBOT_DB",
    "DATABASE_URL",
    "DUMPS_DIR",
    "DUMP_URL",
    "ARXIV_CATEGORIES",
    "ARXIV_FEED_URL",
    "INGEST_EVERY_MINUTES",
    "MISFIRE_GRACE_HOURS",
    "LOG_LEVEL",
    "SWEEP_EVERY_SECONDS",
    "SEARCH_PROCESSES",
    "DISCORD_API_BASE",
    "DISCORD_GATEWAY_URL",
    "INGEST_GUILD_IDS",
    "SHARD_COUNT",
    "SHARD_IDS",
    "CLAIM_TIMEOUT_SECONDS",
    "HTTP_PORT",
    "HTTP_HOST",
}


def clean_environment(**env: str) -> dict[str, str]:
    """os.environ without any paperbot setting, plus `env`."""
    environ = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    environ.update(env)
    return environ


def paperbot(
    cwd: Path, *args: str, stdin: str | None = "", timeout: float = 120, **env: str
) -> subprocess.CompletedProcess:
    """Run `paperbot ARGS` in `cwd`; stdin is the given text (None: /dev/null)."""
    return run_cli(args, cwd=cwd, env=clean_environment(**env), input=stdin, timeout=timeout)


def write_env(folder: Path, **settings: str) -> None:
    """A `.env` in `folder` with these settings."""
    lines = [f"{name}={value}" for name, value in settings.items()]
    (folder / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")


def rows(db: Path, sql: str) -> list[tuple]:
    """Read a SQLite database directly, the way an operator would inspect it."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def one_line(stderr: str) -> str:
    """The single line of an error on stderr (asserting there is exactly one)."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr, stderr
    return lines[0]
