"""Ingest into real databases: counts, idempotence, dedupe, rollback, index consistency.
Interface tests run on both backends (`backend_storage`); SQLite file specifics use
`storage`."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import asyncpg
import pytest

from bot.core.ingest import content_hash, ingest_bytes
from bot.core.models import ParsedQuery
from storage.sqlite.connection import migrations
from tests.conftest import SAMPLE_DAY, TODAY, assert_index_matches, backend_of


def table_snapshot(path) -> dict[str, list]:
    """Every row of every real table, for "the database is exactly as it was"."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        snap = {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
        return snap
    finally:
        conn.close()


async def snapshot(store) -> dict[str, list]:
    """Every row of every table of either backend (PostgreSQL: of the storage's schema,
    with derived columns and the data_version counter), for "exactly as it was"."""
    if backend_of(store) == "sqlite":
        return table_snapshot(store.path)
    conn = await asyncpg.connect(store.url)
    try:
        tables = [
            r[0]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema() ORDER BY table_name"
            )
        ]
        return {
            t: sorted(r[0] for r in await conn.fetch(f"SELECT to_jsonb(x)::text FROM {t} x"))
            for t in tables
        }
    finally:
        await conn.close()


FAULT_DAY = "2026-03-21"


async def set_fault(store, on: bool) -> None:
    """A real database failure halfway through an ingest's writes: a trigger that aborts
    the 50th appearance on FAULT_DAY (installed with `on`, removed without)."""
    if backend_of(store) == "sqlite":
        conn = sqlite3.connect(store.path)
        conn.execute(
            "CREATE TRIGGER fail_midway BEFORE INSERT ON appearances WHEN "
            f"(SELECT COUNT(*) FROM appearances WHERE day = '{FAULT_DAY}') >= 49 "
            "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
            if on
            else "DROP TRIGGER fail_midway"
        )
        conn.commit()
        conn.close()
        return
    conn = await asyncpg.connect(store.url)
    try:
        if on:
            await conn.execute(
                "CREATE FUNCTION fail_midway() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                f" IF (SELECT COUNT(*) FROM appearances WHERE day = '{FAULT_DAY}') >= 49"
                " THEN RAISE EXCEPTION 'disk on fire'; END IF; RETURN NEW; END $$;"
                " CREATE TRIGGER fail_midway BEFORE INSERT ON appearances"
                " FOR EACH ROW EXECUTE FUNCTION fail_midway()"
            )
        else:
            await conn.execute("DROP FUNCTION fail_midway() CASCADE")
    finally:
        await conn.close()


async def test_sample_ingests_98_new_then_nothing(backend_storage, sample_bytes) -> None:
    first = await ingest_bytes(backend_storage, sample_bytes, "sample_dump.txt", today=TODAY)
    assert (first.parsed, first.new, first.known, first.merged) == (98, 98, 0, 0)
    assert first.day == SAMPLE_DAY and first.day_source == "date line"
    assert first.format == "text"
    second = await ingest_bytes(backend_storage, sample_bytes, "sample_dump.txt", today=TODAY)
    assert second.already_ingested and second.new == 0
    stats = await backend_storage.stats()
    assert stats["papers"] == 98 and stats["days"] == 1 and stats["dumps"] == 1


async def test_schema_version_is_the_latest_migration(storage) -> None:
    conn = sqlite3.connect(storage.path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(migrations())
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


async def test_same_papers_on_another_day_are_known_and_keep_every_date(
    backend_sample_storage, sample_bytes
) -> None:
    # A different file (CRLF) with the same papers: new content hash, same papers.
    again = sample_bytes.replace(b"\n", b"\r\n")
    report = await ingest_bytes(backend_sample_storage, again, "2026-03-15.txt", today=TODAY)
    assert report.day == dt.date(2026, 3, 15) and report.day_source == "file name"
    assert (report.new, report.known, report.merged) == (0, 98, 0)
    papers = await backend_sample_storage.papers_on_day(dt.date(2026, 3, 15))
    assert len(papers) == 98
    assert all(p.days == (SAMPLE_DAY, dt.date(2026, 3, 15)) for p in papers)
    assert all(p.first_seen == SAMPLE_DAY and p.last_seen == dt.date(2026, 3, 15) for p in papers)
    assert [p.position for p in papers] == list(range(1, 99))


def _dump(*pairs: tuple[str, str]) -> bytes:
    body = "\n\n".join(f"{t}\n\n{a}" for t, a in pairs)
    return f"new\n\nSubscribe\n\nMar 20\n\n{body}\n".encode()


ABSTRACT = (
    "We study a problem at length. Our method improves results on many benchmarks. "
    "Code and models are released for everyone to use."
)


async def test_edited_titles_merge_as_near_duplicates(backend_sample_storage) -> None:
    dump = _dump(
        ("Long-context Protein Langauge Model", ABSTRACT),  # typo introduced
        ("RAD-DINO: Scalable Medical Image Encoders Without Text Supervision", ABSTRACT),
        (
            "Rewrite Caption Semantics: Bridging Semantic Gaps for Language Supervised "
            "Semantic Segmentation",
            ABSTRACT,
        ),  # punctuation only: exact key
        ("A Completely Different Paper About Graph Coloring", ABSTRACT),
    )
    report = await ingest_bytes(backend_sample_storage, dump, "edits.txt", today=TODAY)
    assert report.error is None
    assert (report.parsed, report.new, report.known, report.merged) == (4, 1, 1, 2)
    merged_into = {stored for _, stored in report.merges}
    assert "Long-context Protein Language Model" in merged_into
    assert any(s.startswith("RAD-DINO: Exploring") for s in merged_into)
    stats = await backend_sample_storage.stats()
    assert stats["papers"] == 99
    # The newest day's title wins, and the variant is remembered as a key.
    day_papers = await backend_sample_storage.papers_on_day(dt.date(2026, 3, 20))
    titles = {p.title for p in day_papers}
    assert "Long-context Protein Langauge Model" in titles


async def test_distinct_papers_with_similar_titles_are_not_merged(backend_storage) -> None:
    dump = _dump(
        ("Aligning Large Language Models with Human: A Survey", ABSTRACT),
        ("Aligning Large Language Models with Human Feedback: A Survey", ABSTRACT),
        ("Survey: Image Segmentation", ABSTRACT),
        ("Survey: Speech Recognition", ABSTRACT),
    )
    report = await ingest_bytes(backend_storage, dump, "x.txt", today=TODAY)
    assert report.new == 4, report.merges


async def test_duplicates_within_one_file_collapse(backend_storage) -> None:
    dump = _dump(
        ("Token-Supervised Value Models", ABSTRACT),
        ("Something Else Entirely Here", ABSTRACT),
        ("Token-Supervised Value Models", ABSTRACT),
        ("Token Supervised Value Modles", ABSTRACT),
    )
    report = await ingest_bytes(backend_storage, dump, "x.txt", today=TODAY)
    assert (report.parsed, report.new, report.duplicates_in_file) == (4, 2, 2)
    papers = await backend_storage.papers_on_day(dt.date(2026, 3, 20))
    assert [p.position for p in papers] == [1, 2]


async def test_json_dump_with_arxiv_ids_joins_text_papers(backend_sample_storage) -> None:
    items = [
        {
            "paper": {
                "id": "2401.06199",
                "title": "Long-context Protein Language Model",
                "summary": "Self-supervised training of language models on protein sequences.",
                "authors": [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}],
                "upvotes": 42,
                "publishedAt": "2026-03-12T00:00:00.000Z",
                "submittedOnDailyAt": "2026-03-16T08:00:00.000Z",
            },
            "title": "Long-context Protein Language Model",
        }
    ]
    report = await ingest_bytes(
        backend_sample_storage, json.dumps(items).encode(), "api.json", today=TODAY
    )
    assert report.format == "json" and report.day == dt.date(2026, 3, 16)
    assert (report.new, report.known) == (0, 1)
    [paper] = await backend_sample_storage.papers_on_day(dt.date(2026, 3, 16))
    assert paper.arxiv_id == "2401.06199"
    assert paper.authors == ("Ada Lovelace", "Alan Turing") and paper.upvotes == 42
    assert paper.days == (SAMPLE_DAY, dt.date(2026, 3, 16))


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \n\n",
        "caf\xe9 au lait\n\nun papier".encode("latin-1"),
        b"\x00\x01\x02" * 50,
        b"new\n\nSubscribe\n\nMar 14\n",
    ],
)
async def test_refused_dumps_write_nothing(backend_storage, raw) -> None:
    before = await snapshot(backend_storage)
    report = await ingest_bytes(backend_storage, raw, "bad.txt", today=TODAY)
    assert report.error and "\n" not in report.error
    assert await snapshot(backend_storage) == before


async def test_failure_mid_write_rolls_back_everything(backend_sample_storage) -> None:
    """A real database failure halfway through the writes must leave every table
    exactly as before."""
    store = backend_sample_storage
    await set_fault(store, True)
    before = await snapshot(store)
    dump = _dump(*[(f"Brand New Paper Number {i} On Topic {i * 7}", ABSTRACT) for i in range(60)])
    with pytest.raises((sqlite3.IntegrityError, asyncpg.RaiseError), match="disk on fire"):
        await ingest_bytes(store, dump, f"{FAULT_DAY}.txt", today=TODAY)
    assert await snapshot(store) == before
    # The storage is still usable, and the same dump goes in once the fault is gone.
    await set_fault(store, False)
    report = await ingest_bytes(store, dump, f"{FAULT_DAY}.txt", today=TODAY)
    assert report.new == 60
    await assert_index_matches(store)


async def test_search_index_follows_updates(backend_sample_storage, sample_bytes) -> None:
    edited = sample_bytes.replace(
        b"Long-context Protein Language Model", b"Long-context Protein Language Models"
    )
    report = await ingest_bytes(backend_sample_storage, edited, "2026-03-15.txt", today=TODAY)
    assert report.known + report.merged == 98
    await assert_index_matches(backend_sample_storage)
    hits = await backend_sample_storage.text_search(
        ParsedQuery(phrases=(("protein", "language", "models"),)),
        match_all=True,
        topic=None,
        since=dt.date(2026, 3, 15),
        limit=5,
    )
    [(paper_id, _)] = hits
    [paper] = await backend_sample_storage.get_papers([paper_id])
    assert paper.title == "Long-context Protein Language Models"


async def test_a_lost_search_index_is_rebuilt(sample_storage, tmp_path) -> None:
    """The index is derived data: delete it and the next open rebuilds it in full."""
    import shutil

    from storage import open_storage

    path = sample_storage.path
    await sample_storage.close()
    shutil.rmtree(f"{path}.search")
    reopened = await open_storage(path)
    try:
        await assert_index_matches(reopened)
    finally:
        await reopened.close()


async def test_report_is_stored_with_the_dump(backend_sample_storage, sample_bytes) -> None:
    [last] = await backend_sample_storage.last_ingests(1)
    assert last["new"] == 98 and last["content_hash"] == content_hash(sample_bytes)
    assert last["day"] == SAMPLE_DAY.isoformat()
