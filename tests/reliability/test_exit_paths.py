"""A process must be able to exit whatever path it leaves the database by.

aiosqlite runs one non-daemon thread per connection, and the interpreter waits for
every non-daemon thread before it exits: a SQLite storage left open on some path (a
failed open, a close that raised half-way, Ctrl-C) turns `paperbot ingest` into a
process that prints its error and then never ends."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from storage import open_storage
from storage.sqlite.store import SqliteStorage
from tests.reliability.dumps import write_dump_folder

# Generous for a loaded 2-core machine; a leaked connection thread never ends at all.
EXIT_DEADLINE = 60


def connection_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


def assert_all_ended(threads: set[threading.Thread]) -> None:
    for thread in threads:
        thread.join(EXIT_DEADLINE)
    assert not [t for t in threads if t.is_alive()], "aiosqlite connections left open"


def break_search_index(db: Path) -> None:
    """A plain file where the search index folder goes: opening the index fails after
    both database connections are open (the latest step of SqliteStorage.open)."""
    Path(f"{db}.search").write_text("not a folder")


async def test_failed_open_closes_the_connections_it_made(tmp_path) -> None:
    db = tmp_path / "t.db"
    break_search_index(db)
    before = connection_threads()
    with pytest.raises(OSError):
        await open_storage(db)
    assert_all_ended(connection_threads() - before)


async def test_close_closes_the_connections_when_the_index_fails_to(tmp_path, monkeypatch) -> None:
    storage = await open_storage(tmp_path / "t.db")
    assert isinstance(storage, SqliteStorage)
    threads = connection_threads()

    def fail() -> None:
        # Injected: there is no cheap real way to make tantivy fail to let its writer go.
        raise RuntimeError("index close failed")

    monkeypatch.setattr(storage.search_index, "close", fail)
    with pytest.raises(RuntimeError, match="index close failed"):
        await storage.close()
    assert_all_ended(threads)


def run_cli(*argv: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_exits_after_failing_to_open_the_database(tmp_path) -> None:
    db = tmp_path / "t.db"
    break_search_index(db)
    # `ingest` opens (creating) the database; a read-only command like `stats` now
    # refuses a database that is not there before opening anything.
    dump = tmp_path / "2026-03-14.txt"
    dump.write_text("new\n\nMar 14\n\nA Title\n\nAn abstract. It has two sentences.\n")
    proc = run_cli("ingest", str(dump), "--db", str(db))
    try:
        _, err = proc.communicate(timeout=EXIT_DEADLINE)
    finally:
        proc.kill()
    assert proc.returncode == 1, err
    assert err.startswith("paperbot: cannot open database") and "Traceback" not in err


@pytest.mark.heavy
def test_ctrl_c_during_a_folder_ingest_exits(tmp_path) -> None:
    folder = tmp_path / "dumps"
    write_dump_folder(folder, days=16)
    proc = run_cli("ingest", str(folder), "--db", str(tmp_path / "t.db"))
    try:
        assert proc.stderr is not None
        # Interrupted mid-ingest (after the first dump's commit, with the storage open),
        # whenever the loaded machine gets there.
        first = proc.stderr.readline()
        assert first.startswith("[1/16]"), first
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=EXIT_DEADLINE)
    finally:
        proc.kill()
    # 130 when the interrupt landed mid-ingest; 0 if the ingest had already finished.
    assert proc.returncode in (0, 130), first + rest
    assert "Traceback" not in rest, rest
