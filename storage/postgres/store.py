"""PostgresStorage: the backend for several bot processes sharing one database.

An asyncpg pool (small: the bot does a handful of queries at a time). Every write is a
transaction on one pooled connection; writes to papers and their topics also take an
advisory lock of their schema, so ingests into one schema run one at a time as they do
on SQLite (dedupe reads, then writes, and must not miss another ingest's uncommitted
papers), while bots in other schemas of the same database go on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from bot.core.models import Matches, StoredPaper
from bot.core.sources import ALL_SOURCES, SourceFilter
from storage.base import IngestTransaction, Storage
from storage.common import CommonPaperReads, CommonRelevance, Step
from storage.postgres.connection import PAPERS_LOCK_CLASS, PAPERS_LOCK_SQL, create_pool, prepare
from storage.postgres.delivery_store import PostgresDeliveryStore
from storage.postgres.ingest_tx import PostgresIngestTransaction
from storage.postgres.portable import PostgresPortableStore
from storage.postgres.search_store import PostgresSearchStore
from storage.postgres.snapshot_store import PostgresSnapshotStore
from storage.postgres.sql import numbered, rows_changed
from storage.rows import CATEGORY_SQL, LISTING_SQL, PAPER_COLUMNS, capped_matches, stored_papers
from storage.source_sql import numbered_marks, source_condition
from storage.urls import redact


class _NothingChanged(Exception):
    """A required step changed no row: roll the write back."""


class PostgresStorage(
    PostgresSnapshotStore,  # before PostgresSearchStore: its sync_search_index runs
    PostgresSearchStore,
    PostgresDeliveryStore,
    PostgresPortableStore,
    CommonPaperReads,
    CommonRelevance,
    Storage,
):
    def __init__(self, url: str, pool: asyncpg.Pool) -> None:
        self.url = url
        self._pool = pool

    @classmethod
    async def open(cls, url: str) -> PostgresStorage:
        search_path = await prepare(url)
        store = cls(url, await create_pool(url, search_path))
        try:
            await store.backfill_paper_authors()
        except BaseException:
            await store.close()
            raise
        return store

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def write(self, *, papers: bool = False) -> AsyncIterator[PoolConnectionProxy]:
        """One transaction: commits on normal exit, rolls back on any exception.
        `papers=True` for writes to papers or paper_topics (see the module doc)."""
        async with self._pool.acquire() as conn, conn.transaction():
            if papers:
                await conn.execute(PAPERS_LOCK_SQL, PAPERS_LOCK_CLASS)
            yield conn

    @asynccontextmanager
    async def ingest_transaction(self) -> AsyncIterator[IngestTransaction]:
        async with self.write(papers=True) as conn:
            yield PostgresIngestTransaction(conn)

    async def _rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self._pool.fetch(sql, *params)]

    async def _query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        return await self._rows(numbered(sql), *params)

    async def _change(self, sql: str, *params: object) -> int:
        return rows_changed(await self._pool.execute(numbered(sql), *params))

    async def _atomic(self, steps: Sequence[Step]) -> list[int] | None:
        counts: list[int] = []
        try:
            async with self.write() as conn:
                for step in steps:
                    sql = numbered(step.sql)
                    if step.rows is not None:
                        await conn.executemany(sql, step.rows)
                        counts.append(len(step.rows))
                        continue
                    changed = rows_changed(await conn.execute(sql, *step.params))
                    if step.required and changed < 1:
                        raise _NothingChanged
                    counts.append(changed)
        except _NothingChanged:
            return None
        return counts

    def shown_name(self) -> str:
        return redact(self.url)

    # -- reading papers -------------------------------------------------------------
    async def get_papers(self, ids: Sequence[int], day: dt.date | None = None) -> list[StoredPaper]:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return []
        papers = await self._rows(
            f"SELECT {PAPER_COLUMNS} FROM papers WHERE id = ANY($1::bigint[])", ids
        )
        appearances = await self._rows(
            "SELECT paper_id, day, position, upvotes FROM appearances"
            " WHERE paper_id = ANY($1::bigint[]) ORDER BY day",
            ids,
        )
        topics = await self._rows(
            "SELECT paper_id, topic, score, why FROM paper_topics"
            " WHERE paper_id = ANY($1::bigint[]) ORDER BY score DESC, topic",
            ids,
        )
        categories = await self._rows(f"{CATEGORY_SQL} = ANY($1::bigint[]) ORDER BY position", ids)
        listings = await self._rows(f"{LISTING_SQL} = ANY($1::bigint[]) ORDER BY 2, 3", ids)
        return stored_papers(ids, papers, appearances, topics, day, categories, listings)

    # -- search (text search lives in PostgresSearchStore) --------------------------------
    async def topic_papers(
        self,
        topic: str,
        *,
        since: dt.date | None,
        limit: int,
        source: SourceFilter = ALL_SOURCES,
    ) -> list[tuple[int, float]]:
        params: list[object] = [topic, since.isoformat() if since else None, limit]
        return await self._rows(
            "SELECT t.paper_id, t.score FROM paper_topics t JOIN papers p ON p.id = t.paper_id"
            " WHERE t.topic = $1 AND ($2::text IS NULL OR p.last_seen >= $2)"
            + source_condition(source, numbered_marks(params))
            + " ORDER BY t.score DESC, p.last_seen DESC, p.id DESC LIMIT $3",
            *params,
        )

    async def topic_matches(
        self,
        topic: str,
        *,
        since: dt.date | None,
        limit: int,
        count_up_to: int,
        source: SourceFilter = ALL_SOURCES,
    ) -> Matches:
        ranked = await self.topic_papers(topic, since=since, limit=limit, source=source)
        if len(ranked) < limit:  # every paper of the topic is in hand
            return Matches(ranked, len(ranked))
        # Counting stops one past the cap: a topic on most of a million papers would
        # otherwise cost more than the search itself.
        params: list[object] = [topic, since.isoformat() if since else None, count_up_to + 1]
        counted = await self._pool.fetchval(
            "SELECT COUNT(*) FROM (SELECT 1 FROM paper_topics t JOIN papers p"
            " ON p.id = t.paper_id WHERE t.topic = $1"
            " AND ($2::text IS NULL OR p.last_seen >= $2)"
            + source_condition(source, numbered_marks(params))
            + " LIMIT $3) s",
            *params,
        )
        return capped_matches(ranked, int(counted), count_up_to)

    # -- facts --------------------------------------------------------------------------
    async def data_version(self) -> int:
        # Bumped by statement triggers on papers and paper_topics in the writing
        # transaction, so it changes exactly when another process's commit is visible.
        return int(await self._pool.fetchval("SELECT version FROM data_version WHERE id = 1"))
