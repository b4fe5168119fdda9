"""Writers of papers take an advisory lock of their schema: two ingests into one schema
run one at a time (the second waits for the first's commit), while a bot in another
schema of the same database goes on. Real server, real ingests of the sample dump."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot.core.ingest import ingest_bytes
from storage import Storage, open_storage
from storage.postgres.connection import PAPERS_LOCK_CLASS
from tests.conftest import SAMPLE_DUMP, TODAY, create_schema, drop_schema, with_search_path

# Generous: an ingest of the sample takes about a second; a blocked one never ends.
FINISHES_WITHIN = 60.0


@pytest.fixture
async def two_schemas(postgres_url) -> AsyncIterator[list[str]]:
    names = [await create_schema(postgres_url) for _ in range(2)]
    try:
        yield names
    finally:
        for name in names:
            await drop_schema(postgres_url, name)


async def ingest_sample(store: Storage) -> int:
    report = await ingest_bytes(store, SAMPLE_DUMP.read_bytes(), "sample_dump.txt", today=TODAY)
    assert report.error is None, report.error
    return report.new


async def waiting_for_papers_lock(url: str, schema: str) -> int:
    """How many sessions wait for `schema`'s papers lock (other tests' schemas aside)."""
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid = $1::int4::oid AND objid = hashtext($2)::oid AND objsubid = 2",
            PAPERS_LOCK_CLASS,
            schema,
        )
    finally:
        await conn.close()


async def test_an_ingest_waits_for_its_own_schema_only(two_schemas, postgres_url) -> None:
    first = two_schemas[0]
    first_url, second_url = (with_search_path(postgres_url, name) for name in two_schemas)
    holder, same, other = [await open_storage(u) for u in (first_url, first_url, second_url)]
    taken, released = asyncio.Event(), asyncio.Event()
    tasks: list[asyncio.Task] = []
    try:

        async def hold_the_papers_lock() -> None:
            async with holder.write(papers=True):  # what every writer of papers takes
                taken.set()
                await released.wait()

        holding = asyncio.create_task(hold_the_papers_lock())
        await asyncio.wait_for(taken.wait(), FINISHES_WITHIN)
        blocked = asyncio.create_task(ingest_sample(same))
        tasks += [holding, blocked]
        # Another schema's ingest runs to its end while the first schema's lock is held.
        assert await asyncio.wait_for(ingest_sample(other), FINISHES_WITHIN) == 98
        # The same schema's ingest is waiting on the lock, not finished.
        for _ in range(600):
            if await waiting_for_papers_lock(postgres_url, first) > 0:
                break
            await asyncio.sleep(0.05)
        assert await waiting_for_papers_lock(postgres_url, first) == 1
        assert not blocked.done()
        released.set()
        await holding
        assert await asyncio.wait_for(blocked, FINISHES_WITHIN) == 98
        assert (await same.stats())["papers"] == 98
        assert (await other.stats())["papers"] == 98
    finally:
        released.set()  # a failed check must not leave the lock held and the pools busy
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for store in (holder, same, other):
            await store.close()
