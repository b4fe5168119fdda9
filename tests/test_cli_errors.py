"""No traceback reaches a user of the CLI or the console: each failure is one line on
stderr and exit 1, passwords masked; `--debug` (or LOG_LEVEL=DEBUG) adds the
traceback. Read-only commands refuse a database that is not there and create nothing.
All through the real CLI as a subprocess."""

from __future__ import annotations

import sqlite3

import pytest

from bot.fakediscord import FakeDiscord
from tests.cli_process import one_line, paperbot, write_env
from tests.conftest import SAMPLE_DUMP
from tests.reliability.botproc import TOKEN, BotProcess, just_passed, subscribe_channels
from tests.reliability.botproc import wait_until as wait_for

READ_ONLY = (["search", "protein"], ["paper", "Super Mario"], ["digest"], ["topics"], ["stats"])
PASSWORD = "s3cret-pw"
POST_MESSAGE = "POST /channels/{channel_id}/messages"


@pytest.mark.parametrize("command", READ_ONLY, ids=lambda c: c[0])
def test_read_only_commands_refuse_a_missing_database_and_create_nothing(
    tmp_path, command: list[str]
) -> None:
    done = paperbot(tmp_path, *command, "--db", "data/nope/papers.db")
    assert done.returncode == 1
    assert one_line(done.stderr) == (
        "paperbot: no database at data/nope/papers.db; run `paperbot ingest` first"
    )
    write_env(tmp_path, PAPERBOT_DB="elsewhere.db")  # the configured one, the same way
    done = paperbot(tmp_path, *command)
    assert one_line(done.stderr).startswith("paperbot: no database at elsewhere.db;")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]  # no folder, file or index


@pytest.fixture
def not_databases(tmp_path) -> dict[str, tuple[str, str]]:
    """name -> (a --db value that is no database, what the error line must say)."""
    folder = tmp_path / "a-folder"
    folder.mkdir()
    text = tmp_path / "notes.txt"
    text.write_text("just some notes\n", encoding="utf-8")
    return {
        "folder": (str(folder), "is a folder, not a database file"),
        "text file": (str(text), "cannot open database"),
        "under a file": (str(text / "papers.db"), "notes.txt/papers.db"),
    }


@pytest.mark.parametrize("case", ["folder", "text file", "under a file"])
@pytest.mark.parametrize(
    "command", [["stats"], ["ingest", str(SAMPLE_DUMP)]], ids=["stats", "ingest"]
)
def test_a_path_that_is_no_database_is_one_line(
    tmp_path, not_databases, case: str, command: list[str]
) -> None:
    path, says = not_databases[case]
    done = paperbot(tmp_path, *command, "--db", path)
    assert done.returncode == 1
    line = one_line(done.stderr)  # also: no thread's traceback after the line
    assert line.startswith("paperbot: ") and says in line, line
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "just some notes\n"


def test_sqlite_that_cannot_open_the_file_leaves_no_thread_traceback(tmp_path) -> None:
    # SQLite itself refuses (aiosqlite's worker thread then used to report into a
    # closed event loop, printing two tracebacks after the error line).
    done = paperbot(tmp_path, "ingest", str(SAMPLE_DUMP), "--db", "/proc/papers.db")
    assert done.returncode == 1
    assert one_line(done.stderr) == (
        "paperbot: cannot open database /proc/papers.db: unable to open database file"
    )


def test_an_unreachable_postgresql_is_one_line_without_the_password(tmp_path) -> None:
    url = f"postgresql://paperbot:{PASSWORD}@127.0.0.1:9/paperbot"
    for command in (["stats", "--db", url], ["ingest", str(SAMPLE_DUMP), "--db", url]):
        done = paperbot(tmp_path, *command)
        assert done.returncode == 1
        line = one_line(done.stderr)
        assert "cannot connect to PostgreSQL at 127.0.0.1:9" in line
        assert PASSWORD not in line and "paperbot:***@" in line
    done = paperbot(tmp_path, "run", DISCORD_TOKEN="x", DATABASE_URL=url, LOG_LEVEL="ERROR")
    assert done.returncode == 1
    assert PASSWORD not in done.stderr and "Traceback" not in done.stderr
    assert "cannot open database postgresql://paperbot:***@127.0.0.1:9" in done.stderr


def test_no_network_at_start_is_one_line(tmp_path) -> None:
    done = paperbot(
        tmp_path,
        "run",
        DISCORD_TOKEN="not-a-real-token",
        DISCORD_API_BASE="http://127.0.0.1:9/api/v10",
        DISCORD_GATEWAY_URL="ws://127.0.0.1:9/",
        PAPERBOT_DB="bot.db",
        LOG_LEVEL="ERROR",
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("paperbot: cannot reach Discord (127.0.0.1): "), done.stderr
    assert "not-a-real-token" not in done.stderr


@pytest.fixture
def damaged_db(tmp_path) -> str:
    """A paperbot database someone damaged by hand: opening works, reading does not."""
    db = tmp_path / "damaged.db"
    assert paperbot(tmp_path, "ingest", str(SAMPLE_DUMP), "--db", str(db)).returncode == 0
    conn = sqlite3.connect(db)
    conn.execute("DROP TABLE appearances")
    conn.close()
    return str(db)


def test_an_unforeseen_failure_is_one_line_and_debug_shows_the_traceback(
    tmp_path, damaged_db
) -> None:
    done = paperbot(tmp_path, "stats", "--db", damaged_db)
    assert done.returncode == 1
    assert one_line(done.stderr) == (
        "paperbot: unexpected error: OperationalError: no such table: appearances "
        "(run again with --debug to see the traceback)"
    )
    for debug in (["--debug", "stats"], ["stats", "--debug"]):
        done = paperbot(tmp_path, *debug, "--db", damaged_db)
        assert done.returncode == 1
        assert done.stderr.startswith("Traceback (most recent call last):")
        assert done.stderr.strip().splitlines()[-1] == (
            "paperbot: unexpected error: OperationalError: no such table: appearances"
        )
    done = paperbot(tmp_path, "stats", "--db", damaged_db, LOG_LEVEL="debug")
    assert done.returncode == 1 and "Traceback" in done.stderr


def test_a_failing_console_command_is_one_line(tmp_path, damaged_db) -> None:
    done = paperbot(tmp_path, "console", "--db", damaged_db, stdin="/topics\n/help\n")
    assert done.returncode == 0, done.stderr
    assert "Something went wrong on my side" in done.stdout  # the user's reply
    assert "/digest subscribe" in done.stdout  # and the console carried on
    assert one_line(done.stderr) == (
        "ERROR paperbot.errors: command /topics failed: CommandInvokeError: Command "
        "'topics' raised an exception: OperationalError: no such table: appearances"
    )


async def test_stopping_the_bot_mid_fanout_logs_no_cancelled_error(tmp_path) -> None:
    async with FakeDiscord(token=TOKEN) as fake:
        guild = fake.add_guild("Fan-out")
        channels = [fake.add_channel(guild, f"papers-{n}") for n in range(6)]
        done = paperbot(tmp_path, "ingest", str(SAMPLE_DUMP), "--db", str(tmp_path / "bot.db"))
        assert done.returncode == 0, done.stderr
        await subscribe_channels(tmp_path / "bot.db", guild, channels, just_passed())
        # The third post is accepted by Discord but its answer never comes back: the
        # catch-up sweep is busy when the service manager stops the bot.
        fake.faults.hold_response(POST_MESSAGE, skip=2, seconds=60)
        bot = BotProcess(fake, tmp_path / "bot.db", tmp_path)
        await bot.start()
        held = await wait_for(fake.faults.holding.is_set, timeout=60, step=0.01)
        code = await bot.stop()  # SIGTERM
        log = bot.log_text()
    assert held, log[-3000:]
    assert code == 0, log[-3000:]
    assert "CancelledError" not in log and "Traceback" not in log, log[-3000:]
    assert "sweep stopped: shutting down" in log
