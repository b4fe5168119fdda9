"""What the two storage backends share: the migration loader, the placeholder
conversion for asyncpg and the row mapping."""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys

import asyncpg
import pytest

from bot.core.models import ParsedPaper, PlannedPaper
from storage.ingest_rows import refold
from storage.migrations import Migration, bundled_migrations, pending
from storage.postgres.connection import migrations as postgres_migrations
from storage.rows import stored_papers
from storage.sqlite.connection import migrations as sqlite_migrations
from tests.conftest import SAMPLE_DAY, backend_of


def fake_package(tmp_path, monkeypatch, name: str, files: list[str]) -> str:
    folder = tmp_path / name / "migrations"
    folder.mkdir(parents=True)
    (tmp_path / name / "__init__.py").write_text("", encoding="utf-8")
    for file in files:
        (folder / file).write_text(f"-- {file}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop(name, None)
    return name


def test_both_backends_load_their_migrations_through_the_one_loader() -> None:
    for loaded, package in (
        (sqlite_migrations(), "storage.sqlite"),
        (postgres_migrations(), "storage.postgres"),
    ):
        assert loaded == bundled_migrations(package)
        assert [m.version for m in loaded] == list(range(1, len(loaded) + 1))
        assert all(m.name.endswith(".sql") and m.sql.strip() for m in loaded)


def test_migrations_are_ordered_by_number_and_other_files_ignored(tmp_path, monkeypatch) -> None:
    files = ["002_b.sql", "010_j.sql", "001_a.sql", "README.md", "notes.sql"]
    files += [f"{n:03d}_x.sql" for n in range(3, 10)]
    name = fake_package(tmp_path, monkeypatch, "paperbot_fake_ordered", files)
    assert [m.version for m in bundled_migrations(name)] == list(range(1, 11))


def test_a_gap_in_the_numbers_is_refused(tmp_path, monkeypatch) -> None:
    name = fake_package(tmp_path, monkeypatch, "paperbot_fake_gap", ["001_a.sql", "003_c.sql"])
    with pytest.raises(RuntimeError, match=r"1..N without gaps, found \[1, 3\]"):
        bundled_migrations(name)


def test_pending_is_what_a_database_still_needs_and_refuses_a_newer_one() -> None:
    known = [Migration(v, f"00{v}_x.sql", "") for v in (1, 2, 3)]
    assert [m.version for m in pending(known, 0)] == [1, 2, 3]
    assert [m.version for m in pending(known, 2)] == [3]
    assert pending(known, 3) == []
    with pytest.raises(RuntimeError, match="schema version 4 is newer than this paperbot"):
        pending(known, 4)


def test_placeholders_are_numbered_for_asyncpg_outside_quotes_and_comments() -> None:
    from storage.postgres.sql import numbered

    assert numbered("SELECT a FROM t WHERE b = ? AND c IN (?, ?)") == (
        "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
    )
    assert numbered("UPDATE t SET x = '?', \"y?\" = ? -- why?\nWHERE z = ?") == (
        "UPDATE t SET x = '?', \"y?\" = $1 -- why?\nWHERE z = $2"
    )
    assert numbered("SELECT 'it''s ?' /* ? */, ?") == "SELECT 'it''s ?' /* ? */, $1"
    assert numbered("SELECT 1") == "SELECT 1"


def planned(title: str, abstract: str, titles: tuple[str, ...] = ()) -> PlannedPaper:
    paper = ParsedPaper(title=title, abstract=abstract, position=1)
    return PlannedPaper(paper, "known", (), (), title.casefold(), (), 7, titles=titles)


def test_a_reappearance_folds_in_the_same_way_for_both_backends() -> None:
    stored = (7, "Old Title", "old title", "The stored abstract.", "2026-03-14")
    # A newer day's title wins; the one it replaces stays searchable.
    newer = refold(planned("New Title", "The new abstract."), stored, "2026-03-15")
    assert (newer.title, newer.abstract, newer.changed) == ("New Title", "The new abstract.", True)
    assert newer.variants == [(7, "Old Title")]
    # An older day changes nothing that shows; a missing abstract never erases one.
    older = refold(planned("New Title", "The new abstract."), stored, "2026-03-13")
    assert (older.title, older.abstract, older.changed) == (
        "Old Title",
        "The stored abstract.",
        False,
    )
    bare = refold(planned("Old Title", ""), stored, "2026-03-15")
    assert (bare.abstract, bare.changed, bare.variants) == ("The stored abstract.", False, [])
    assert bare.values()[:3] == ("Old Title", "old title", "The stored abstract.")


def test_stored_papers_keep_the_asked_order_and_the_days_position() -> None:
    no_extras = ("", "[]", None, None, None, "", None)  # HF_COLUMNS
    paper = (3, "t", "T", "A", None, "[]", None, "2026-03-13", "2026-03-14", *no_extras)
    other = (5, "u", "U", "B", "2403.00001", '["X"]', 4, "2026-03-14", "2026-03-14", *no_extras)
    appearances = [(3, "2026-03-13", 2, None), (3, "2026-03-14", 9, None), (5, "2026-03-14", 1, 4)]
    topics = [(5, "robotics", 2.0, '["robot"]')]
    found = stored_papers([5, 4, 3], [paper, other], appearances, topics, dt.date(2026, 3, 14))
    assert [p.id for p in found] == [5, 3]  # 4 is not stored
    assert [p.position for p in found] == [1, 9]
    assert found[1].days == (dt.date(2026, 3, 13), dt.date(2026, 3, 14))
    assert found[0].topics[0].why == ("robot",) and found[0].authors == ("X",)


async def test_paper_ids_are_every_stored_paper_in_order(backend_sample_storage) -> None:
    ids = await backend_sample_storage.paper_ids()
    assert ids == [pid for pid, _ in await backend_sample_storage.all_titles()]
    assert len(ids) == (await backend_sample_storage.stats())["papers"] > 0
    assert ids == sorted(set(ids))


async def rewrite_topics_in_reverse(store, paper_id: int) -> None:
    """Delete `paper_id`'s topic rows and insert them again in reverse topic order, so
    that they lie on disk in that order: what updates and a copy leave behind."""
    if backend_of(store) == "sqlite":
        conn = sqlite3.connect(store.path)
        try:
            with conn:
                rows = conn.execute(
                    "SELECT * FROM paper_topics WHERE paper_id = ? ORDER BY topic DESC", (paper_id,)
                ).fetchall()
                conn.execute("DELETE FROM paper_topics WHERE paper_id = ?", (paper_id,))
                conn.executemany("INSERT INTO paper_topics VALUES (?, ?, ?, ?)", rows)
        finally:
            conn.close()
        return
    conn = await asyncpg.connect(store.url)
    try:
        async with conn.transaction():
            rows = await conn.fetch(
                "DELETE FROM paper_topics WHERE paper_id = $1 RETURNING *", paper_id
            )
            for row in sorted(rows, key=lambda r: r["topic"], reverse=True):
                await conn.execute("INSERT INTO paper_topics VALUES ($1, $2, $3, $4)", *row)
    finally:
        await conn.close()


async def test_tied_topics_come_back_by_name_however_the_rows_lie(backend_sample_storage) -> None:
    # The tagger orders a paper's topics best first, ties by name. Without a tie-break
    # in SQL, PostgreSQL returned tied topics in the order they lay on disk.
    store = backend_sample_storage
    papers = await store.papers_on_day(SAMPLE_DAY)
    tied = [p.id for p in papers if len({t.score for t in p.topics}) < len(p.topics)]
    assert tied  # the sample has papers with two topics of one score
    for paper_id in tied:
        await rewrite_topics_in_reverse(store, paper_id)
    # One paper at a time, as /paper reads it: which of a larger read's ties PostgreSQL's
    # sort happened to put first depends on the other rows.
    for paper_id in tied:
        (paper,) = await store.get_papers([paper_id])
        assert list(paper.topics) == sorted(paper.topics, key=lambda t: (-t.score, t.topic))
    for paper in await store.papers_on_day(SAMPLE_DAY):
        assert list(paper.topics) == sorted(paper.topics, key=lambda t: (-t.score, t.topic))
