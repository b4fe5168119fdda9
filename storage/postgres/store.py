"""PostgresStorage: the backend for several bot processes sharing one database.

An asyncpg pool (small: the bot does a handful of queries at a time). Every write is a
transaction on one pooled connection; writes to papers and their topics also take an
advisory lock, so ingests run one at a time as they do on SQLite (dedupe reads, then
writes, and must not miss another ingest's uncommitted papers).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg

from bot.core.models import Matches, StoredPaper, TopicHit
from storage.base import IngestTransaction, Storage
from storage.postgres.connection import PAPERS_LOCK, create_pool, prepare
from storage.postgres.delivery_store import PostgresDeliveryStore
from storage.postgres.ingest_tx import PostgresIngestTransaction
from storage.postgres.portable import PostgresPortableStore
from storage.postgres.search_store import PostgresSearchStore
from storage.rows import capped_matches
from storage.rows import stored_paper as _stored_paper
from storage.urls import redact


class PostgresStorage(PostgresSearchStore, PostgresDeliveryStore, PostgresPortableStore, Storage):
    def __init__(self, url: str, pool: asyncpg.Pool) -> None:
        self.url = url
        self._pool = pool

    @classmethod
    async def open(cls, url: str) -> PostgresStorage:
        search_path = await prepare(url)
        return cls(url, await create_pool(url, search_path))

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def write(self, *, papers: bool = False) -> AsyncIterator[asyncpg.Connection]:
        """One transaction: commits on normal exit, rolls back on any exception.
        `papers=True` for writes to papers or paper_topics (see the module doc)."""
        async with self._pool.acquire() as conn, conn.transaction():
            if papers:
                await conn.execute("SELECT pg_advisory_xact_lock($1)", PAPERS_LOCK)
            yield conn

    @asynccontextmanager
    async def ingest_transaction(self) -> AsyncIterator[IngestTransaction]:
        async with self.write(papers=True) as conn:
            yield PostgresIngestTransaction(conn)

    async def _rows(self, sql: str, *params: object) -> list[tuple]:
        return [tuple(r) for r in await self._pool.fetch(sql, *params)]

    # -- reading papers -------------------------------------------------------------
    async def get_papers(self, ids: Sequence[int], day: dt.date | None = None) -> list[StoredPaper]:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return []
        rows = {
            r[0]: r
            for r in await self._rows(
                "SELECT id, norm_title, title, abstract, arxiv_id, authors, upvotes,"
                " first_seen, last_seen FROM papers WHERE id = ANY($1::bigint[])",
                ids,
            )
        }
        days: dict[int, list[str]] = {i: [] for i in ids}
        positions: dict[int, int | None] = {}
        for pid, seen, position in await self._rows(
            "SELECT paper_id, day, position FROM appearances WHERE paper_id = ANY($1::bigint[])"
            " ORDER BY day",
            ids,
        ):
            days[pid].append(seen)
            if day is not None and seen == day.isoformat():
                positions[pid] = position
        topics: dict[int, list[TopicHit]] = {i: [] for i in ids}
        for pid, topic, score, why in await self._rows(
            "SELECT paper_id, topic, score, why FROM paper_topics"
            " WHERE paper_id = ANY($1::bigint[]) ORDER BY score DESC",
            ids,
        ):
            topics[pid].append(TopicHit(topic, score, tuple(json.loads(why))))
        return [
            _stored_paper(rows[i], days[i], topics[i], positions.get(i)) for i in ids if i in rows
        ]

    async def papers_on_day(self, day: dt.date) -> list[StoredPaper]:
        rows = await self._rows(
            "SELECT paper_id FROM appearances WHERE day = $1 ORDER BY position, paper_id",
            day.isoformat(),
        )
        return await self.get_papers([r[0] for r in rows], day=day)

    async def days(self, limit: int = 30) -> list[dt.date]:
        rows = await self._rows(
            "SELECT DISTINCT day FROM appearances ORDER BY day DESC LIMIT $1", limit
        )
        return [dt.date.fromisoformat(r[0]) for r in rows]

    async def all_titles(self) -> list[tuple[int, str]]:
        return await self._rows("SELECT id, title FROM papers ORDER BY id")

    # -- search (text search lives in PostgresSearchStore) --------------------------------
    async def topic_papers(
        self, topic: str, *, since: dt.date | None, limit: int
    ) -> list[tuple[int, float]]:
        return await self._rows(
            "SELECT t.paper_id, t.score FROM paper_topics t JOIN papers p ON p.id = t.paper_id"
            " WHERE t.topic = $1 AND ($2::text IS NULL OR p.last_seen >= $2)"
            " ORDER BY t.score DESC, p.last_seen DESC, p.id DESC LIMIT $3",
            topic,
            since.isoformat() if since else None,
            limit,
        )

    async def topic_matches(
        self, topic: str, *, since: dt.date | None, limit: int, count_up_to: int
    ) -> Matches:
        ranked = await self.topic_papers(topic, since=since, limit=limit)
        if len(ranked) < limit:  # every paper of the topic is in hand
            return Matches(ranked, len(ranked))
        # Counting stops one past the cap: a topic on most of a million papers would
        # otherwise cost more than the search itself.
        counted = await self._pool.fetchval(
            "SELECT COUNT(*) FROM (SELECT 1 FROM paper_topics t JOIN papers p"
            " ON p.id = t.paper_id WHERE t.topic = $1"
            " AND ($2::text IS NULL OR p.last_seen >= $2) LIMIT $3) s",
            topic,
            since.isoformat() if since else None,
            count_up_to + 1,
        )
        return capped_matches(ranked, int(counted), count_up_to)

    async def vocabulary(self) -> dict[str, int]:
        return dict(await self._rows("SELECT term, df FROM vocab"))

    # -- facts --------------------------------------------------------------------------
    async def data_version(self) -> int:
        # Bumped by statement triggers on papers and paper_topics in the writing
        # transaction, so it changes exactly when another process's commit is visible.
        return int(await self._pool.fetchval("SELECT version FROM data_version WHERE id = 1"))

    async def stats(self) -> dict:
        papers = await self._pool.fetchval("SELECT COUNT(*) FROM papers")
        days, latest = (await self._rows("SELECT COUNT(DISTINCT day), MAX(day) FROM appearances"))[
            0
        ]
        dumps = await self._pool.fetchval("SELECT COUNT(*) FROM dumps")
        return {
            "papers": papers,
            "days": days,
            "dumps": dumps,
            "latest_day": latest,
            "topics": await self.topic_counts(None),
            "database": redact(self.url),
        }

    async def topic_counts(self, day: dt.date | None) -> dict[str, int]:
        if day is None:
            rows = await self._rows("SELECT topic, COUNT(*) FROM paper_topics GROUP BY topic")
        else:
            rows = await self._rows(
                "SELECT t.topic, COUNT(*) FROM paper_topics t JOIN appearances a"
                " ON a.paper_id = t.paper_id WHERE a.day = $1 GROUP BY t.topic",
                day.isoformat(),
            )
        return dict(rows)

    async def last_ingests(self, limit: int = 5) -> list[dict]:
        rows = await self._rows("SELECT report FROM dumps ORDER BY id DESC LIMIT $1", limit)
        return [json.loads(r[0]) for r in rows]
