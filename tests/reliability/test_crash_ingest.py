"""Scenario 1: SIGKILL the real `paperbot ingest` at random points, 20 trials.

After every kill the database must be intact, hold no half-applied dump, keep every dump
whose commit was reported, finish on a re-run, and then equal a clean run's database
table by table."""

from __future__ import annotations

import asyncio
import os
import random
import select
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from storage import open_storage
from tests.conftest import assert_index_matches
from tests.forked_cli import ForkedCommand, start_cli
from tests.reliability.dumps import papers_written, write_dump_folder

Command = ForkedCommand | subprocess.Popen[bytes]
TRIALS = 20
# Eight dumps: every commit count from 0 to 8 is killed at least twice in TRIALS, and
# each trial costs half what sixteen did (its two ingests were a tenth of CI's CPU).
DAYS = 8
# Timestamps of when a dump was ingested legitimately differ between runs.
VOLATILE = {("dumps", "ingested_at"), ("dumps", "report")}


# Generous for a loaded 2-core machine: an ingest of DAYS dumps takes a few seconds.
DEADLINE = 300


def ingest(folder: Path, db: Path, *, quiet: bool = True) -> Command:
    """The real `paperbot ingest`, a process of its own (forked from one that has
    imported paperbot: tests/forked_cli.py). Without `quiet`, a `[n/DAYS]` line on
    stderr follows the commit of each dump."""
    return start_cli(["ingest", str(folder), "--db", str(db), *(["--quiet"] if quiet else [])])


def wait_for_commits(proc: Command, count: int) -> int:
    """Block until the ingest has reported `count` committed dumps (or has exited);
    returns how many it reported."""
    assert proc.stderr is not None
    reported, pending = 0, b""
    deadline = time.monotonic() + DEADLINE
    while reported < count:
        left = deadline - time.monotonic()
        assert left > 0, f"only {reported} of {count} dumps reported after {DEADLINE}s"
        if not select.select([proc.stderr], [], [], left)[0]:
            continue
        chunk = os.read(proc.stderr.fileno(), 4096)
        if not chunk:
            break  # the ingest exited
        *lines, pending = (pending + chunk).split(b"\n")
        reported += sum(1 for line in lines if line.startswith(b"["))
    return reported


def snapshot(db: Path) -> dict[str, list]:
    conn = sqlite3.connect(db)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " AND name NOT LIKE 'papers_fts_%' ORDER BY name"
            )
        ]
        snap = {}
        for table in tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            keep = [c for c in columns if (table, c) not in VOLATILE] or columns
            rows = conn.execute(f"SELECT {', '.join(keep)} FROM {table}").fetchall()
            snap[table] = sorted(rows, key=repr)
        return snap
    finally:
        conn.close()


def check_consistent(db: Path, per_day: dict[str, int]) -> int:
    """Integrity ok and every dump either fully present or absent.
    Returns how many dumps were applied."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        if not conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'papers'").fetchone()[
            0
        ]:
            return 0  # killed before the first migration committed: an empty database
        applied = {d for (d,) in conn.execute("SELECT day FROM dumps")}
        rows = dict(conn.execute("SELECT day, COUNT(*) FROM appearances GROUP BY day"))
        for day, expected in per_day.items():
            if day in applied:
                assert rows.get(day) == expected, f"dump {day} half-applied"
            else:
                assert day not in rows, f"appearances for {day} without its dump"
        return len(applied)
    finally:
        conn.close()


def dump_figures(db: Path, written: dict[str, int]) -> tuple[int, int, int]:
    """(dumps applied whole, papers stored twice, dumps missing or short), read from the
    database and measured against the papers each dump file holds, not against a clean
    run that a bug would have shortened just the same."""
    conn = sqlite3.connect(db)
    try:
        applied = {d for (d,) in conn.execute("SELECT day FROM dumps")}
        rows = dict(conn.execute("SELECT day, COUNT(*) FROM appearances GROUP BY day"))
        titles = [t for (t,) in conn.execute("SELECT title FROM papers")]
    finally:
        conn.close()
    whole = sum(1 for day, count in written.items() if day in applied and rows.get(day) == count)
    twice = len(titles) - len({" ".join(t.split()).casefold() for t in titles})
    return whole, twice, len(written) - whole


async def index_matches(db: Path) -> None:
    """The search index (derived, written after each commit) caught up exactly."""
    store = await open_storage(db)
    try:
        await assert_index_matches(store, sample=10)
    finally:
        await store.close()


@pytest.mark.heavy
def test_sigkill_during_ingest_never_half_applies(tmp_path, figures) -> None:
    folder = tmp_path / "dumps"
    written = {path.stem: papers_written(path) for path in write_dump_folder(folder, DAYS)}
    clean = tmp_path / "clean.db"
    assert ingest(folder, clean).wait(timeout=DEADLINE) == 0
    expected = snapshot(clean)
    conn = sqlite3.connect(clean)
    per_day = dict(conn.execute("SELECT day, COUNT(*) FROM appearances GROUP BY day"))
    conn.close()
    assert len(per_day) == DAYS

    rng = random.Random(2026)
    partial_states = []
    for trial in range(TRIALS):
        db = tmp_path / f"trial{trial}.db"
        proc = ingest(folder, db, quiet=False)
        # Where the kill lands is set by the ingest's own progress, not by a fraction of
        # one clean run's duration: on a loaded machine one run's time says little about
        # the next one's, and the kills could all land before or after the dumps. Wait
        # for 0..DAYS commits (DAYS: the kill hits the index build or the exit), then a
        # random moment into the next dump (from start-up on, before the first). Every
        # count comes up at least once in TRIALS, so no phase goes untested.
        commits = trial % (DAYS + 1)
        committed = wait_for_commits(proc, commits)
        time.sleep(rng.uniform(0.05, 1.0) if commits == 0 else rng.uniform(0, 0.2))
        proc.kill()
        proc.wait(timeout=30)
        proc.stderr.close()
        applied = check_consistent(db, per_day) if db.exists() else 0
        # A dump whose commit was reported survives the kill.
        assert applied >= committed, f"trial {trial}: {committed} reported, {applied} kept"
        partial_states.append(applied)
        rerun = ingest(folder, db)
        exit_code = rerun.wait(timeout=DEADLINE)
        whole, twice, short = dump_figures(db, written)
        figures.trials += 1
        figures.posts_expected += len(written)
        figures.posts_seen += whole  # dumps applied exactly once, every paper in
        figures.duplicates += twice
        figures.losses += short
        assert exit_code == 0, rerun.stderr.read().decode()
        assert (whole, twice, short) == (DAYS, 0, 0), f"trial {trial}"
        assert check_consistent(db, per_day) == DAYS, f"trial {trial}"
        assert snapshot(db) == expected, f"trial {trial} differs from a clean run"
        asyncio.run(index_matches(db))
    # The kills really landed mid-ingest, not only before or after it.
    assert any(0 < applied < DAYS for applied in partial_states), partial_states
    assert figures.trials == TRIALS
    figures.notes.append(f"dumps applied when killed: {partial_states}")
