"""An arXiv snapshot import on each backend, through the service: a daily dump after the
import gets ids past the imported papers, the vectors catch up over every paper (gaps
below the newest vector included), and on PostgreSQL the planner's statistics are
refreshed at the end."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from bot.core.ingest import ingest_bytes
from bot.core.snapshot import SnapshotFilter
from bot.services.snapshot_import import import_snapshot
from tests.conftest import TODAY, backend_of

FIRST = Path(__file__).resolve().parent / "data" / "snapshot" / "snapshot_first100.jsonl"


async def test_a_daily_dump_after_an_import_gets_new_ids(backend_storage, sample_bytes) -> None:
    result = await import_snapshot(backend_storage, FIRST, SnapshotFilter(), workers=0, batch=30)
    assert result.counts.imported == 100
    report = await ingest_bytes(backend_storage, sample_bytes, "sample_dump.txt", today=TODAY)
    assert report.error is None and report.new == 98
    ids = [pid for pid, _ in await backend_storage.all_titles()]
    assert sorted(ids) == list(range(1, 199))


async def test_vectors_catch_up_over_gaps_below_the_newest(backend_storage) -> None:
    await import_snapshot(backend_storage, FIRST, SnapshotFilter(), workers=0)
    missing = await backend_storage.papers_without_vectors(limit=1000)
    assert sorted(missing) == list(range(1, 101))
    # Vectors for the newest papers only (a catch-up that stopped half-way, another
    # process's batch): the older ones are still found, a batch at a time.
    await backend_storage.put_vectors([(pid, b"v") for pid in range(60, 101)], b"s", 0)
    found: list[int] = []
    while batch := await backend_storage.papers_without_vectors(limit=7):
        assert len(batch) <= 7
        found += batch
        stats = await backend_storage.vector_stats()
        assert stats is not None
        await backend_storage.put_vectors([(pid, b"v") for pid in batch], b"s", stats.version)
    assert sorted(found) == list(range(1, 60))


async def test_postgresql_statistics_are_refreshed_after_an_import(postgres_storage) -> None:
    assert backend_of(postgres_storage) == "postgres"
    await import_snapshot(postgres_storage, FIRST, SnapshotFilter(), workers=0)
    conn = await asyncpg.connect(postgres_storage.url)
    try:
        analyzed = await conn.fetch(
            "SELECT relname, last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL"
            " FROM pg_stat_user_tables WHERE schemaname = current_schema()"
            " AND relname IN ('papers', 'paper_topics', 'paper_authors')"
        )
        estimate = await conn.fetchval(
            "SELECT reltuples FROM pg_class WHERE relname = 'papers'"
            " AND relnamespace = current_schema()::regnamespace"
        )
    finally:
        await conn.close()
    assert sorted(analyzed) == [("paper_authors", True), ("paper_topics", True), ("papers", True)]
    assert estimate == 100
