"""`paperbot run` settings and start-up errors, run as the real console script in a
subprocess (nothing reaches Discord: it is pointed at a closed port)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOSED = "127.0.0.1:1"  # nothing listens there: connecting fails at once


def paperbot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PAPERBOT_DB")}
    clean = {k: v for k, v in clean.items() if not k.startswith(("SHARD_", "DISCORD_"))}
    clean.update(
        DISCORD_TOKEN="x",
        DISCORD_API_BASE=f"http://{CLOSED}/api/v10",
        DISCORD_GATEWAY_URL=f"ws://{CLOSED}",
        PYTHONPATH=str(ROOT),
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=tmp_path,  # no .env here
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_db_option_is_checked_like_database_url_for_partial_shards(tmp_path) -> None:
    """`--db file.db` with SHARD_IDS covering part of SHARD_COUNT must be refused like
    PAPERBOT_DB is: another process runs the other shards and cannot share the file."""
    done = paperbot(
        tmp_path,
        "run",
        "--db",
        str(tmp_path / "x.db"),
        SHARD_COUNT="4",
        SHARD_IDS="0,1",
        DATABASE_URL=f"postgresql://paperbot:sekrit@{CLOSED}/paperbot",  # --db wins
    )
    assert done.returncode == 2, done.stderr  # a bad setting: exit 2, like any other
    assert "shared database" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_db_option_with_a_postgres_url_is_enough_for_partial_shards(tmp_path) -> None:
    done = paperbot(
        tmp_path,
        "run",
        "--db",
        f"postgresql://paperbot:sekrit@{CLOSED}/paperbot",
        SHARD_COUNT="4",
        SHARD_IDS="0,1",
    )
    assert "shared database" not in done.stderr, done.stderr


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path) -> None:
    done = paperbot(tmp_path, "run", DATABASE_URL=f"postgresql://paperbot:sekrit@{CLOSED}/x")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("paperbot: cannot open database postgresql://paperbot:***@"), line
    assert "sekrit" not in done.stderr
