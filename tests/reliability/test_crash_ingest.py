"""Scenario 1: SIGKILL the real `paperbot ingest` at random points, 20 trials.

After every kill the database must be intact, hold no half-applied dump, finish on a
re-run, and then equal a clean run's database table by table."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage import open_storage
from tests.conftest import assert_index_matches
from tests.reliability.dumps import write_dump_folder

TRIALS = 20
DAYS = 16
# Timestamps of when a dump was ingested legitimately differ between runs.
VOLATILE = {("dumps", "ingested_at"), ("dumps", "report")}


def ingest(folder: Path, db: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "ingest", str(folder), "--db", str(db), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


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
    write_dump_folder(folder, DAYS)
    clean = tmp_path / "clean.db"
    started = time.monotonic()
    assert ingest(folder, clean).wait(timeout=300) == 0
    duration = time.monotonic() - started
    expected = snapshot(clean)
    conn = sqlite3.connect(clean)
    per_day = dict(conn.execute("SELECT day, COUNT(*) FROM appearances GROUP BY day"))
    conn.close()
    assert len(per_day) == DAYS

    rng = random.Random(2026)
    partial_states = []
    for trial in range(TRIALS):
        db = tmp_path / f"trial{trial}.db"
        proc = ingest(folder, db)
        time.sleep(rng.uniform(0.05, duration * 0.95))
        proc.kill()
        proc.wait(timeout=30)
        partial_states.append(check_consistent(db, per_day) if db.exists() else 0)
        rerun = ingest(folder, db)
        assert rerun.wait(timeout=300) == 0, rerun.stderr.read().decode() if rerun.stderr else ""
        assert check_consistent(db, per_day) == DAYS
        assert snapshot(db) == expected, f"trial {trial} differs from a clean run"
        asyncio.run(index_matches(db))
    # The kills really landed mid-ingest, not only before or after it.
    assert any(0 < applied < DAYS for applied in partial_states), partial_states
    figures.trials = TRIALS
    figures.posts_expected = figures.posts_seen = TRIALS * DAYS  # dumps applied exactly once
    figures.notes.append(f"dumps applied when killed: {partial_states}")
