"""SqliteStorage: the embedded default backend.

Two connections: one for writes, serialised by a lock so one coroutine's transaction
never absorbs another's statements, and one for reads, which WAL lets run while a
write transaction is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import aiosqlite

from bot.core.models import Matches, StoredPaper
from bot.core.sources import ALL_SOURCES, SourceFilter
from storage.base import IngestTransaction, Storage
from storage.common import CommonPaperReads, CommonRelevance, Step
from storage.rows import CATEGORY_SQL, LISTING_SQL, PAPER_COLUMNS, stored_papers
from storage.source_sql import question_marks, source_condition
from storage.sqlite.connection import connect, migrate
from storage.sqlite.delivery_store import SqliteDeliveryStore
from storage.sqlite.ingest_tx import SqliteIngestTransaction, chunks, placeholders
from storage.sqlite.portable import SqlitePortableStore
from storage.sqlite.read_pool import ReadPool
from storage.sqlite.search_index import SearchIndex
from storage.sqlite.search_store import INLINE_IDS, SqliteSearchStore
from storage.sqlite.snapshot_store import SqliteSnapshotStore


class _NothingChanged(Exception):
    """A required step changed no row: roll the write back."""


class SqliteStorage(
    SqliteSearchStore,
    SqliteSnapshotStore,
    SqliteDeliveryStore,
    SqlitePortableStore,
    CommonPaperReads,
    CommonRelevance,
    Storage,
):
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
        self._reads_pool: ReadPool | None = None

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
        store = cls(path, writer, reader, index)
        try:
            await store.backfill_paper_authors()
        except BaseException:
            await store.close()
            raise
        return store

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
                try:
                    if self._reads_pool is not None:
                        await asyncio.to_thread(self._reads_pool.close)
                finally:
                    await asyncio.to_thread(self.search_index.close)
        finally:
            try:
                await self._reader.close()
            finally:
                await self._writer.close()

    def _read_pool(self) -> ReadPool | None:
        """Worker threads with their own connections, started on first use (None in
        memory, where another connection would see another database)."""
        if self._reads_pool is None and self.path != ":memory:":
            self._reads_pool = ReadPool(self.path)
        return self._reads_pool

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

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        # One hop to aiosqlite's thread (execute, fetch and close together), not three.
        rows = await self._reader.execute_fetchall(sql, tuple(params))
        # aiosqlite types rows as sqlite3.Row; with no row_factory set they are tuples.
        return cast("list[tuple[Any, ...]]", list(rows))

    async def _query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        return await self._rows(sql, params)

    async def _change(self, sql: str, *params: object) -> int:
        async with self.write() as conn:
            cursor = await conn.execute(sql, params)
            return cursor.rowcount

    async def _atomic(self, steps: Sequence[Step]) -> list[int] | None:
        counts: list[int] = []
        try:
            async with self.write() as conn:
                for step in steps:
                    if step.rows is not None:
                        cursor = await conn.executemany(step.sql, step.rows)
                    else:
                        cursor = await conn.execute(step.sql, step.params)
                    if step.required and cursor.rowcount < 1:
                        raise _NothingChanged
                    counts.append(max(cursor.rowcount, 0))
        except _NothingChanged:
            return None
        return counts

    def shown_name(self) -> str:
        return self.path

    # -- reading papers -------------------------------------------------------------
    async def get_papers(self, ids: Sequence[int], day: dt.date | None = None) -> list[StoredPaper]:
        ids = list(dict.fromkeys(ids))
        pool = self._read_pool()
        if pool is not None and ids:
            # Reading and decoding in a worker thread: the event loop stays free for
            # the interactions of a burst of searches (storage/sqlite/read_pool.py).
            return await pool.run(lambda conn: _papers(conn, ids, day))
        # In memory (no second connection sees the database): on the event loop
        # thread for a search result page, through aiosqlite's for larger reads.
        read = self._small_rows if len(ids) <= INLINE_IDS else self._rows
        papers: list[tuple[Any, ...]] = []
        appearances: list[tuple[Any, ...]] = []
        topics: list[tuple[Any, ...]] = []
        categories: list[tuple[Any, ...]] = []
        listings: list[tuple[Any, ...]] = []
        for part in chunks(ids):
            marks = placeholders(len(part))
            papers += await read(f"SELECT {PAPER_COLUMNS} FROM papers WHERE id IN ({marks})", part)
            appearances += await read(
                "SELECT paper_id, day, position, upvotes FROM appearances"
                f" WHERE paper_id IN ({marks})"
                " ORDER BY day",
                part,
            )
            topics += await read(
                f"SELECT paper_id, topic, score, why FROM paper_topics WHERE paper_id IN ({marks})"
                " ORDER BY score DESC, topic",
                part,
            )
            categories += await read(f"{CATEGORY_SQL} IN ({marks}) ORDER BY position", part)
            listings += await read(f"{LISTING_SQL} IN ({marks}) ORDER BY 2, 3", part)
        return stored_papers(ids, papers, appearances, topics, day, categories, listings)

    # -- search (text search lives in SqliteSearchStore) ----------------------------------
    async def topic_papers(
        self,
        topic: str,
        *,
        since: dt.date | None,
        limit: int,
        source: SourceFilter = ALL_SOURCES,
    ) -> list[tuple[int, float]]:
        params: list[object] = [topic]
        where = ""
        if since is not None:
            where = " AND p.last_seen >= ?"
            params.append(since.isoformat())
        where += source_condition(source, question_marks(params))
        rows = await self._rows(
            "SELECT t.paper_id, t.score FROM paper_topics t JOIN papers p ON p.id = t.paper_id"
            f" WHERE t.topic = ?{where} ORDER BY t.score DESC, p.last_seen DESC, p.id DESC"
            " LIMIT ?",
            [*params, limit],
        )
        return [(pid, score) for pid, score in rows]

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
        # The search index holds each paper's topics and last day: it counts the topic's
        # papers exactly, and far faster than SQLite walking a million rows.
        index = self.search_index
        total = await self._indexed(lambda: index.count_topic(topic, since, source))
        return Matches(ranked, max(total, len(ranked)))

    # -- facts --------------------------------------------------------------------------
    async def data_version(self) -> int:
        # Every change to a paper or its topics logs a row in paper_changes (triggers, same
        # transaction); AUTOINCREMENT's counter never goes back, even after pruning.
        return await self._change_head()


def _papers(conn: sqlite3.Connection, ids: list[int], day: dt.date | None) -> list[StoredPaper]:
    """get_papers's reads and decoding, in a ReadPool thread."""
    papers: list[tuple[Any, ...]] = []
    appearances: list[tuple[Any, ...]] = []
    topics: list[tuple[Any, ...]] = []
    categories: list[tuple[Any, ...]] = []
    listings: list[tuple[Any, ...]] = []
    for part in chunks(ids):
        marks = placeholders(len(part))
        papers += conn.execute(
            f"SELECT {PAPER_COLUMNS} FROM papers WHERE id IN ({marks})", part
        ).fetchall()
        appearances += conn.execute(
            f"SELECT paper_id, day, position, upvotes FROM appearances WHERE paper_id IN ({marks})"
            " ORDER BY day",
            part,
        ).fetchall()
        topics += conn.execute(
            f"SELECT paper_id, topic, score, why FROM paper_topics WHERE paper_id IN ({marks})"
            " ORDER BY score DESC, topic",
            part,
        ).fetchall()
        categories += conn.execute(
            f"{CATEGORY_SQL} IN ({marks}) ORDER BY position", part
        ).fetchall()
        listings += conn.execute(f"{LISTING_SQL} IN ({marks}) ORDER BY 2, 3", part).fetchall()
    return stored_papers(ids, papers, appearances, topics, day, categories, listings)
