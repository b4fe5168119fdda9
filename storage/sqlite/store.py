"""SqliteStorage: the embedded default backend.

Two connections: one for writes, serialised by a lock so one coroutine's transaction
never absorbs another's statements, and one for reads, which WAL lets run while a
write transaction is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from bot.core.models import Matches, StoredPaper, TopicHit
from storage.base import IngestTransaction, Storage
from storage.rows import stored_paper as _stored_paper
from storage.sqlite.connection import connect, migrate
from storage.sqlite.delivery_store import SqliteDeliveryStore
from storage.sqlite.ingest_tx import SqliteIngestTransaction, chunks, placeholders
from storage.sqlite.portable import SqlitePortableStore
from storage.sqlite.search_index import SearchIndex
from storage.sqlite.search_store import INLINE_IDS, SqliteSearchStore


class SqliteStorage(SqliteSearchStore, SqliteDeliveryStore, SqlitePortableStore, Storage):
    def __init__(
        self,
        path: str | Path,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        search_index: SearchIndex,
    ) -> None:
        self.path = str(path)
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()
        self.search_index = search_index
        self._index_lock = asyncio.Lock()
        self._indexed_seq = 0

    @classmethod
    async def open(cls, path: str | Path) -> SqliteStorage:
        # Every aiosqlite connection runs a non-daemon thread: one left open when a later
        # step fails (or is cancelled by Ctrl-C) keeps the process from ever exiting.
        writer = await connect(path)
        reader = None
        try:
            await migrate(writer)
            reader = await connect(path)
            # The derived search index lives beside the database file.
            index = await asyncio.to_thread(SearchIndex, Path(f"{path}.search"))
        except BaseException:
            try:
                if reader is not None:
                    await reader.close()
            finally:
                await writer.close()
            raise
        return cls(path, writer, reader, index)

    def own_files(self) -> list[Path]:
        # The database, SQLite's journal files beside it, and the derived search index.
        files = [f"{self.path}{suffix}" for suffix in ("", "-wal", "-shm", "-journal")]
        return [Path(p) for p in (*files, f"{self.path}.search", f"{self.path}.search.lock")]

    async def close(self) -> None:
        # Each part is closed even when closing an earlier one fails: the aiosqlite
        # connections last, so a failure elsewhere cannot leave their threads running
        # (and the process unable to exit).
        try:
            try:
                if self._search_reads is not None:
                    self._search_reads.close()
            finally:
                await asyncio.to_thread(self.search_index.close)
        finally:
            try:
                await self._reader.close()
            finally:
                await self._writer.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: BEGIN IMMEDIATE takes the write lock before any read,
        so a read-then-write never fails halfway with SQLITE_BUSY."""
        async with self._write_lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
                yield self._writer
            except BaseException:
                # Also on cancellation: a BEGIN that ran after its awaiter was cancelled
                # must not leave the connection inside a transaction forever.
                with contextlib.suppress(sqlite3.OperationalError):
                    await asyncio.shield(self._writer.execute("ROLLBACK"))
                raise
            await self._writer.execute("COMMIT")

    @asynccontextmanager
    async def ingest_transaction(self) -> AsyncIterator[IngestTransaction]:
        async with self.write() as conn:
            yield SqliteIngestTransaction(conn)

    async def _rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        # One hop to aiosqlite's thread (execute, fetch and close together), not three.
        return list(await self._reader.execute_fetchall(sql, tuple(params)))

    # -- reading papers -------------------------------------------------------------
    async def get_papers(self, ids: Sequence[int], day: dt.date | None = None) -> list[StoredPaper]:
        ids = list(dict.fromkeys(ids))
        # A search result page (ten papers) is read on the event loop thread: cheaper
        # than three hops to aiosqlite's. Larger reads (a day's digest) go through it.
        read = self._small_rows if len(ids) <= INLINE_IDS else self._rows
        rows: dict[int, tuple] = {}
        days: dict[int, list[str]] = {i: [] for i in ids}
        positions: dict[int, int | None] = {}
        topics: dict[int, list[TopicHit]] = {i: [] for i in ids}
        for part in chunks(ids):
            marks = placeholders(len(part))
            for row in await read(
                "SELECT id, norm_title, title, abstract, arxiv_id, authors, upvotes,"
                f" first_seen, last_seen FROM papers WHERE id IN ({marks})",
                part,
            ):
                rows[row[0]] = row
            for pid, seen, position in await read(
                f"SELECT paper_id, day, position FROM appearances WHERE paper_id IN ({marks})"
                " ORDER BY day",
                part,
            ):
                days[pid].append(seen)
                if day is not None and seen == day.isoformat():
                    positions[pid] = position
            for pid, topic, score, why in await read(
                f"SELECT paper_id, topic, score, why FROM paper_topics WHERE paper_id IN ({marks})"
                " ORDER BY score DESC",
                part,
            ):
                topics[pid].append(TopicHit(topic, score, tuple(json.loads(why))))
        return [
            _stored_paper(rows[i], days[i], topics[i], positions.get(i)) for i in ids if i in rows
        ]

    async def papers_on_day(self, day: dt.date) -> list[StoredPaper]:
        ids = [
            r[0]
            for r in await self._rows(
                "SELECT paper_id FROM appearances WHERE day = ? ORDER BY position, paper_id",
                (day.isoformat(),),
            )
        ]
        return await self.get_papers(ids, day=day)

    async def days(self, limit: int = 30) -> list[dt.date]:
        rows = await self._rows(
            "SELECT DISTINCT day FROM appearances ORDER BY day DESC LIMIT ?", (limit,)
        )
        return [dt.date.fromisoformat(r[0]) for r in rows]

    async def all_titles(self) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in await self._rows("SELECT id, title FROM papers ORDER BY id")]

    # -- search (text search lives in SqliteSearchStore) ----------------------------------
    async def topic_papers(
        self, topic: str, *, since: dt.date | None, limit: int
    ) -> list[tuple[int, float]]:
        params: list = [topic]
        where = ""
        if since is not None:
            where = " AND p.last_seen >= ?"
            params.append(since.isoformat())
        rows = await self._rows(
            "SELECT t.paper_id, t.score FROM paper_topics t JOIN papers p ON p.id = t.paper_id"
            f" WHERE t.topic = ?{where} ORDER BY t.score DESC, p.last_seen DESC, p.id DESC"
            " LIMIT ?",
            [*params, limit],
        )
        return [(pid, score) for pid, score in rows]

    async def topic_matches(
        self, topic: str, *, since: dt.date | None, limit: int, count_up_to: int
    ) -> Matches:
        ranked = await self.topic_papers(topic, since=since, limit=limit)
        if len(ranked) < limit:  # every paper of the topic is in hand
            return Matches(ranked, len(ranked))
        # The search index holds each paper's topics and last day: it counts the topic's
        # papers exactly, and far faster than SQLite walking a million rows.
        index = self.search_index
        total = await self._indexed(lambda: index.count_topic(topic, since))
        return Matches(ranked, max(total, len(ranked)))

    async def vocabulary(self) -> dict[str, int]:
        return dict(await self._rows("SELECT term, df FROM vocab"))

    # -- facts --------------------------------------------------------------------------
    async def data_version(self) -> int:
        # Every change to a paper or its topics logs a row in paper_changes (triggers, same
        # transaction); AUTOINCREMENT's counter never goes back, even after pruning.
        return await self._change_head()

    async def stats(self) -> dict:
        (papers,) = (await self._rows("SELECT COUNT(*) FROM papers"))[0]
        (days, latest) = (
            await self._rows("SELECT COUNT(DISTINCT day), MAX(day) FROM appearances")
        )[0]
        (dumps,) = (await self._rows("SELECT COUNT(*) FROM dumps"))[0]
        return {
            "papers": papers,
            "days": days,
            "dumps": dumps,
            "latest_day": latest,
            "topics": await self.topic_counts(None),
            "database": self.path,
        }

    async def topic_counts(self, day: dt.date | None) -> dict[str, int]:
        if day is None:
            rows = await self._rows("SELECT topic, COUNT(*) FROM paper_topics GROUP BY topic")
        else:
            rows = await self._rows(
                "SELECT t.topic, COUNT(*) FROM paper_topics t JOIN appearances a"
                " ON a.paper_id = t.paper_id WHERE a.day = ? GROUP BY t.topic",
                (day.isoformat(),),
            )
        return dict(rows)

    async def last_ingests(self, limit: int = 5) -> list[dict]:
        rows = await self._rows("SELECT report FROM dumps ORDER BY id DESC LIMIT ?", (limit,))
        return [json.loads(r[0]) for r in rows]
