"""Reading papers off the event loop (storage/sqlite/read_pool.py): a burst of searches
must not queue every interaction behind the decoding of fifty papers each."""

from __future__ import annotations

import asyncio

from bot.core.ingest import ingest_bytes
from tests.conftest import TODAY


async def test_loading_a_page_of_papers_leaves_the_event_loop_free(sample_storage) -> None:
    ids = [pid for pid, _ in await sample_storage.all_titles()][:50]
    order: list[str] = []

    async def load() -> None:
        papers = await sample_storage.get_papers(ids)
        assert [p.id for p in papers] == ids
        order.append("papers loaded")

    async def meanwhile() -> None:
        order.append("other work ran")

    # Both start in the same turn of the loop: the other work runs while the papers are
    # read and decoded, not after.
    await asyncio.gather(load(), meanwhile())
    assert order == ["other work ran", "papers loaded"]


async def test_papers_read_at_once_are_whole_and_the_same_as_read_alone(
    sample_storage, sample_bytes
) -> None:
    ids = [pid for pid, _ in await sample_storage.all_titles()]
    alone = {p.id: p for p in await sample_storage.get_papers(ids)}
    pages = [ids[i : i + 10] for i in range(0, len(ids), 10)]
    # Many reads at once (more than the pool has threads), one of them of a single
    # paper, beside a write: every read is whole and equal to the one made alone.
    results = await asyncio.gather(
        *(sample_storage.get_papers(page) for page in pages * 4),
        sample_storage.get_papers(ids[:1]),
        ingest_bytes(sample_storage, sample_bytes, "again.txt", today=TODAY),
    )
    for page, papers in zip(pages * 4 + [ids[:1]], results, strict=False):
        assert [p.id for p in papers] == page
        assert all(p == alone[p.id] for p in papers)
