"""One configuration for every command: the environment, then `.env` in the working
directory, then the defaults, with `--db` over all three; every setting checked at
start (exit 2 and one line naming it); the docs written from the one settings table.
All through the real CLI as a subprocess, in a folder of the test's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_process import SETTING_NAMES, one_line, paperbot, rows, write_env
from tests.conftest import SAMPLE_DUMP

REPO = Path(__file__).resolve().parent.parent
DATABASE_COMMANDS = (
    ["search", "protein"],
    ["digest", "--json"],
    ["topics", "--json"],
    ["stats", "--json"],
)


def paper_count(db: Path) -> int:
    return rows(db, "SELECT count(*) FROM papers")[0][0]


def test_ingest_writes_the_database_named_in_dot_env(tmp_path) -> None:
    write_env(tmp_path, PAPERBOT_DB="served.db")
    done = paperbot(tmp_path, "ingest", str(SAMPLE_DUMP), "--quiet")
    assert done.returncode == 0, done.stderr
    assert paper_count(tmp_path / "served.db") == 98
    assert not (tmp_path / "data").exists()  # not the built-in default beside it
    for command in DATABASE_COMMANDS:  # every command reads the same file
        done = paperbot(tmp_path, *command)
        assert done.returncode == 0, (command, done.stderr)
    assert json.loads(paperbot(tmp_path, "stats", "--json").stdout)["papers"] == 98


def test_environment_wins_over_dot_env_and_db_wins_over_both(tmp_path) -> None:
    write_env(tmp_path, PAPERBOT_DB="from-dot-env.db", DATABASE_URL="")
    done = paperbot(tmp_path, "ingest", str(SAMPLE_DUMP), "--date", "2026-03-01")
    assert done.returncode == 0, done.stderr
    assert paper_count(tmp_path / "from-dot-env.db") == 98
    done = paperbot(tmp_path, "ingest", str(SAMPLE_DUMP), PAPERBOT_DB="from-env.db")
    assert done.returncode == 0, done.stderr
    assert paper_count(tmp_path / "from-env.db") == 98
    assert rows(tmp_path / "from-dot-env.db", "SELECT count(*) FROM dumps") == [(1,)]
    done = paperbot(tmp_path, "ingest", str(SAMPLE_DUMP), "--db", "flag.db", PAPERBOT_DB="x.db")
    assert done.returncode == 0, done.stderr
    assert paper_count(tmp_path / "flag.db") == 98
    assert not (tmp_path / "x.db").exists()


def test_database_url_in_dot_env_wins_over_paperbot_db(tmp_path) -> None:
    write_env(tmp_path, PAPERBOT_DB="plain.db", DATABASE_URL="sqlite:///url.db")
    done = paperbot(tmp_path, "ingest", str(SAMPLE_DUMP))
    assert done.returncode == 0, done.stderr
    assert paper_count(tmp_path / "url.db") == 98
    assert not (tmp_path / "plain.db").exists()


# A closed loopback port: an unchecked setting would let `run` go on to connect there
# (and fail with exit 1), never out to the real Discord.
OFFLINE = {
    "DISCORD_TOKEN": "not-a-real-token",
    "DISCORD_API_BASE": "http://127.0.0.1:9/api/v10",
    "DISCORD_GATEWAY_URL": "ws://127.0.0.1:9/",
}


@pytest.mark.parametrize(
    ("setting", "value", "accepts"),
    [
        ("MISFIRE_GRACE_HOURS", "-1", "whole number of hours, at least 0"),
        ("LOG_LEVEL", "chatty", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("SWEEP_EVERY_SECONDS", "0", "at least 1"),
        ("SEARCH_PROCESSES", "two", "whole number of processes, at least 0"),
        ("SHARD_IDS", "0-x", "ranges like 0-1"),
        ("DEV_GUILD_ID", "my-server", "Discord server id"),
        ("INGEST_GUILD_IDS", "12,abc", "server ids"),
        ("INGEST_EVERY_MINUTES", "half an hour", "whole number of minutes"),
        ("DUMP_URL", "ftp://example.org/{date}", "http"),
        ("DISCORD_API_BASE", "127.0.0.1:9", "http://"),
    ],
)
def test_a_bad_setting_stops_run_with_exit_2_and_one_line(
    tmp_path, setting: str, value: str, accepts: str
) -> None:
    env = dict(OFFLINE, SHARD_COUNT="2")
    env[setting] = value
    done = paperbot(tmp_path, "run", **env)
    assert done.returncode == 2, done.stderr
    line = one_line(done.stderr)
    assert line.startswith(f"paperbot: bad setting {setting}="), line
    assert accepts in line and "(from the environment)" in line


def test_a_bad_setting_in_dot_env_is_named_with_its_file(tmp_path) -> None:
    write_env(tmp_path, LOG_LEVEL="verbose")
    for command in (["run"], ["stats"], ["ingest", str(SAMPLE_DUMP)], ["console"]):
        done = paperbot(tmp_path, *command, **OFFLINE)
        assert done.returncode == 2, (command, done.stderr)
        assert one_line(done.stderr) == (
            "paperbot: bad setting LOG_LEVEL=verbose (from .env): must be one of "
            "DEBUG, INFO, WARNING, ERROR, CRITICAL"
        )
    assert not (tmp_path / "data").exists()  # stopped before anything was written


def test_offline_commands_are_not_stopped_by_bot_only_settings(tmp_path) -> None:
    # SWEEP_EVERY_SECONDS is the bot's: `run` refuses it, `ingest` never reads it.
    write_env(tmp_path, SWEEP_EVERY_SECONDS="0", PAPERBOT_DB="p.db")
    assert paperbot(tmp_path, "run", **OFFLINE).returncode == 2
    done = paperbot(tmp_path, "ingest", str(SAMPLE_DUMP))
    assert done.returncode == 0, done.stderr
    assert paper_count(tmp_path / "p.db") == 98


def test_the_password_in_a_bad_database_url_is_never_shown(tmp_path) -> None:
    done = paperbot(tmp_path, "stats", DATABASE_URL="mysql://bot:hunter2@db.example/papers")
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert "DATABASE_URL=mysql://bot:***@db.example/papers" in line and "hunter2" not in line


def test_env_example_and_readme_are_written_from_the_settings_table() -> None:
    from bot.cli.settings_table import SETTINGS, env_example, readme_table

    assert {s.name for s in SETTINGS} == SETTING_NAMES
    assert (REPO / ".env.example").read_text(encoding="utf-8") == env_example()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert readme_table() in readme
    for setting in SETTINGS:  # every default once, in the table
        assert f"{setting.name}={setting.default}\n" in env_example()


def test_search_processes_are_off_unless_set() -> None:
    # Each search worker holds its own view of the database (100+ MB at 100k papers), so
    # a bot serving 100k papers stays within its memory unless the operator asks for them.
    from bot.cli.settings import Settings

    assert Settings.load(None, {}).search_processes == 0
    assert Settings.load(None, {"SEARCH_PROCESSES": "2"}).search_processes == 2
