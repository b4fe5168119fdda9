"""Shared fixtures: a real SQLite file in a temp dir, and the bundled sample dump."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import bot
from bot.core.ingest import ingest_bytes
from storage import open_storage

SAMPLE_DUMP = Path(bot.__file__).parent / "data" / "sample_dump.txt"
# The sample's date line says `Mar 14` with no year; with this "today" it is 2026-03-14.
TODAY = dt.date(2026, 11, 26)
SAMPLE_DAY = dt.date(2026, 3, 14)


@pytest.fixture
def sample_bytes() -> bytes:
    return SAMPLE_DUMP.read_bytes()


@pytest.fixture
async def storage(tmp_path):
    store = await open_storage(tmp_path / "paperbot.db")
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def sample_storage(storage, sample_bytes):
    report = await ingest_bytes(storage, sample_bytes, "sample_dump.txt", today=TODAY)
    assert report.error is None, report.error
    assert report.new == 98
    return storage


async def assert_index_matches(store, sample: int = 25) -> None:
    """The derived search index holds exactly the stored papers, once each, and finds
    papers by their current titles: what crash and update tests check after the fact."""
    from bot.core.query import parse_query

    await store.sync_search_index()
    papers = await store.all_titles()
    indexed = store.search_index.all_ids()
    assert sorted(indexed) == sorted(pid for pid, _ in papers), "index and papers differ"
    step = max(1, len(papers) // sample)
    for paper_id, title in papers[::step]:
        hits = await store.text_search(
            parse_query(title), match_all=True, topic=None, since=None, limit=500
        )
        assert paper_id in [pid for pid, _ in hits], f"{title!r} not found by its title"
