"""Search for the SQLite backend: keeps the tantivy index caught up with the database
and answers text, short-name and title lookups through it. Mixed into SqliteStorage,
which provides `_rows()`, `write()`, `path`, `search_index` and `_index_lock`.

A search used to cost about twenty hops between the event loop and worker threads
(aiosqlite's and asyncio's), and on a busy two-core machine every hop waits for the
scheduler. Now:

- small reads (the change counter, a page of titles, ten papers) run on the event loop
  thread through a plain sqlite3 connection that never waits for a lock (WAL readers
  do not, and a busy answer falls back to aiosqlite): each costs less than the hop;
- a text search is one hop: in the worker thread the index's freshness is checked and
  tantivy answers (a phrase over common words can take many milliseconds, which the
  event loop must not spend);
- lookups that cost tantivy a few term reads (short names) run inline too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import sqlite3
import threading
import weakref
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, TypeVar

import aiosqlite

from bot.core.models import Matches, ParsedQuery
from bot.core.rank import title_name
from bot.core.sources import ALL_SOURCES, SourceFilter
from storage.rows import CATEGORY_SQL
from storage.sqlite.ingest_tx import chunks, placeholders
from storage.sqlite.search_index import IndexBusy, IndexedPaper, SearchIndex

log = logging.getLogger("paperbot.search_index")

WATERMARK = "search_index_seq"
BATCH = 2_000  # papers per index commit while catching up: bounds the memory it takes
# A backlog this large (a snapshot import) is indexed by the bulk writer, committing
# every BULK_COMMIT papers rather than every BATCH.
BULK_PAPERS = 20_000
BULK_COMMIT = 250_000
HEAD_SQL = "SELECT seq FROM sqlite_sequence WHERE name = 'paper_changes'"
WIDEN_BELOW = 10  # autocomplete widens to any word below limit/10 titles holding all
WIDEN_POOL = 4  # ... and then asks for limit/4 more
INLINE_IDS = 128  # reads by at most this many ids run on the event loop thread
T = TypeVar("T")
_STALE = object()


def _connect(path: str, busy_ms: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA query_only = ON")
    conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
    return conn


class SearchReads:
    """Plain sqlite3 connections for reads outside aiosqlite: one for worker threads
    (they take turns on it), one for the event loop thread that never waits."""

    def __init__(self, path: str) -> None:
        self._worker = _connect(path, 10_000)
        self._lock = threading.Lock()
        self._inline = _connect(path, 0)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """In a worker thread."""
        with self._lock:
            return self._worker.execute(sql, tuple(params)).fetchall()

    def rows_now(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]] | None:
        """On the event loop thread; None when SQLite would have to wait for a lock."""
        try:
            return self._inline.execute(sql, tuple(params)).fetchall()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return None
            raise

    def head(self, rows: Callable[[str], list[tuple[Any, ...]] | None] | None = None) -> int | None:
        found = (rows or self.rows)(HEAD_SQL)
        if found is None:
            return None
        return int(found[0][0]) if found else 0

    def titles(self, ids: Sequence[int]) -> list[tuple[int, str]]:
        by_id: dict[int, str] = {}
        for part in chunks(list(ids)):
            sql = f"SELECT id, title FROM papers WHERE id IN ({placeholders(len(part))})"
            by_id.update(self.rows(sql, part))
        return [(pid, by_id[pid]) for pid in ids if pid in by_id]

    def close(self) -> None:
        with self._lock:
            self._worker.close()
        self._inline.close()


class SqliteSearchStore:
    bulk_papers = BULK_PAPERS  # a backlog of this many papers goes to the bulk writer
    path: str
    search_index: SearchIndex
    _index_lock: asyncio.Lock
    _indexed_seq: int
    _search_reads: SearchReads | None = None

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError  # provided by SqliteStorage

    if TYPE_CHECKING:  # provided by SqliteStorage

        def write(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...

        async def get_meta(self, key: str) -> str | None: ...

    def _reads(self) -> SearchReads | None:
        """The extra connections, opened on first use (None in memory, where another
        connection would see another database)."""
        if self._search_reads is None and self.path != ":memory:":
            reads = self._search_reads = SearchReads(self.path)
            # Closed with the storage object: SqliteStorage.close does not know them.
            weakref.finalize(self, reads.close)
        return self._search_reads

    async def _small_rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A read that takes SQLite well under a millisecond: on the event loop thread,
        unless SQLite would wait for a lock (then through aiosqlite, as any read)."""
        reads = self._reads()
        rows = reads.rows_now(sql, params) if reads is not None else None
        return rows if rows is not None else await self._rows(sql, params)

    def _current(self, head: int | None) -> bool:
        return head is not None and head <= self._indexed_seq and not self.search_index.created

    def _if_current(self, lookup: Callable[[], T]) -> T | object:
        """In a worker thread: `lookup()` if the index holds every logged change."""
        reads = self._reads()
        if reads is None or not self._current(reads.head()):
            return _STALE
        return lookup()

    async def _indexed(self, lookup: Callable[[], T]) -> T:
        """`lookup()` in one worker-thread hop, after a catch-up when the index lags."""
        result: Any = await asyncio.to_thread(self._if_current, lookup)
        if result is _STALE:
            await self.sync_search_index()
            result = await asyncio.to_thread(lookup)
        return result

    async def _indexed_now(self, lookup: Callable[[], T]) -> T:
        """`lookup()` on the event loop thread (for lookups of a few terms), after a
        catch-up when the index lags."""
        reads = self._reads()
        if reads is None or not self._current(reads.head(reads.rows_now)):
            await self.sync_search_index()
        return lookup()

    async def sync_search_index(self) -> int:
        """Bring the index up to date with the database; returns papers (re)indexed.

        Safe to call from several processes: the one holding tantivy's writer lock does
        the work, the others see its commit on their next search."""
        async with self._index_lock:
            if self.search_index.rebuilt_elsewhere():
                self.search_index.created = False
                await asyncio.to_thread(self.search_index.refresh)
            head = await self._change_head()
            if head <= self._indexed_seq and not self.search_index.created:
                return 0
            stored = int(await self.get_meta(WATERMARK) or 0)
            if self.search_index.created:
                stored = 0
            if head <= stored and not self.search_index.created:
                await asyncio.to_thread(self.search_index.refresh)
                self._indexed_seq = head
                return 0
            try:
                done = await self._index_changes(stored, head)
            except IndexBusy:
                log.info("another process is updating the search index; using it as is")
                await asyncio.to_thread(self.search_index.refresh)
                return 0
            if self.search_index.created:
                self.search_index.mark_complete()
            await self._advance_watermark(head)
            self._indexed_seq = head
            return done

    async def _change_head(self) -> int:
        # AUTOINCREMENT's counter never goes back, even after the log is pruned.
        rows = await self._small_rows(HEAD_SQL)
        return int(rows[0][0]) if rows else 0

    async def _index_changes(self, after: int, head: int) -> int:
        if after == 0:  # a new or rebuilt index: everything, not just the logged changes
            await asyncio.to_thread(self.search_index.clear)
            count = await self._rows("SELECT COUNT(*) FROM papers")
            bulk = await self._start_bulk(int(count[0][0]))
            # Page through the ids: a million of them at once took ~120 MB.
            done, last = 0, 0
            while batch := [
                r[0]
                for r in await self._rows(
                    "SELECT id FROM papers WHERE id > ? ORDER BY id LIMIT ?", (last, BATCH)
                )
            ]:
                await self._index_batch(
                    batch,
                    commit=not bulk or (done // BATCH + 1) % (BULK_COMMIT // BATCH) == 0,
                    new=True,
                )
                done, last = done + len(batch), batch[-1]
            await self._end_bulk(bulk)
            return done
        ids = [
            r[0]
            for r in await self._rows(
                "SELECT DISTINCT paper_id FROM paper_changes WHERE seq > ? AND seq <= ?"
                " ORDER BY paper_id",
                (after, head),
            )
        ]
        bulk = await self._start_bulk(len(ids))
        for n, part in enumerate(chunks(ids, BATCH), start=1):
            await self._index_batch(part, commit=not bulk or n % (BULK_COMMIT // BATCH) == 0)
        await self._end_bulk(bulk)
        return len(ids)

    async def _start_bulk(self, papers: int) -> bool:
        """Switch to the bulk writer for a large backlog; whether it did."""
        if papers < self.bulk_papers:
            return False
        await asyncio.to_thread(self.search_index.bulk_writer)
        return True

    async def _end_bulk(self, bulk: bool) -> None:
        """Commit what the bulk writer holds and let it go (merges finish first): the
        next change is indexed by the ordinary writer."""
        if bulk:
            await asyncio.to_thread(self.search_index.commit)
            await asyncio.to_thread(self.search_index.close)

    async def _index_batch(
        self, batch: Sequence[int], *, commit: bool = True, new: bool = False
    ) -> None:
        papers = await self._indexable(batch)
        removed = set(batch) - {p.id for p in papers}
        await asyncio.to_thread(self.search_index.apply, papers, removed, commit=commit, new=new)

    async def _indexable(self, ids: Sequence[int]) -> list[IndexedPaper]:
        topics: dict[int, list[str]] = {}
        variants: dict[int, list[str]] = {}
        sources: dict[int, list[str]] = {}
        categories: dict[int, list[str]] = {}
        rows: list[tuple[Any, ...]] = []
        for part in chunks(ids):
            marks = placeholders(len(part))
            rows += await self._rows(
                f"SELECT id, title, abstract, last_seen, ai_keywords FROM papers"
                f" WHERE id IN ({marks})",
                part,
            )
            for pid, topic in await self._rows(
                f"SELECT paper_id, topic FROM paper_topics WHERE paper_id IN ({marks})", part
            ):
                topics.setdefault(pid, []).append(topic)
            for pid, variant in await self._rows(
                f"SELECT paper_id, title FROM title_variants WHERE paper_id IN ({marks})", part
            ):
                variants.setdefault(pid, []).append(variant)
            for pid, source in await self._rows(
                "SELECT DISTINCT l.paper_id, d.paper_source FROM dump_papers l"
                f" JOIN dumps d ON d.id = l.dump_id WHERE l.paper_id IN ({marks})",
                part,
            ):
                sources.setdefault(pid, []).append(source)
            for pid, category in await self._rows(f"{CATEGORY_SQL} IN ({marks})", part):
                categories.setdefault(pid, []).append(category)
        return [
            IndexedPaper(
                pid,
                title,
                abstract,
                tuple(topics.get(pid, ())),
                title_name(title),
                dt.date.fromisoformat(last_seen),
                tuple(v for v in variants.get(pid, ()) if v != title),
                tuple(sources.get(pid, ())),
                tuple(categories.get(pid, ())),
                tuple(json.loads(keywords)) if keywords else (),
            )
            for pid, title, abstract, last_seen, keywords in rows
        ]

    async def _advance_watermark(self, seq: int) -> None:
        """Record progress (never backwards) and drop the change log behind it."""
        async with self.write() as conn:
            await conn.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET"
                " value = excluded.value WHERE CAST(value AS INTEGER) < CAST(excluded.value"
                " AS INTEGER)",
                (WATERMARK, str(seq)),
            )
            await conn.execute("DELETE FROM paper_changes WHERE seq <= ?", (seq,))

    # -- queries ------------------------------------------------------------------------
    async def text_search(
        self,
        query: ParsedQuery,
        *,
        match_all: bool,
        topic: str | None,
        since: dt.date | None,
        limit: int,
        source: SourceFilter = ALL_SOURCES,
    ) -> list[tuple[int, float]]:
        index = self.search_index
        return await self._indexed(
            lambda: index.search(
                query, match_all=match_all, topic=topic, since=since, limit=limit, source=source
            )
        )

    async def text_matches(
        self,
        query: ParsedQuery,
        *,
        match_all: bool,
        topic: str | None,
        since: dt.date | None,
        limit: int,
        count_up_to: int,
        source: SourceFilter = ALL_SOURCES,
    ) -> Matches:
        # tantivy counts every match for next to nothing, so the count is exact, but
        # for a lone phrase over common words without pair postings, counted up to
        # `count_up_to` (SearchIndex.search_counted).
        index = self.search_index
        ranked, total, exact = await self._indexed(
            lambda: index.search_counted(
                query,
                match_all=match_all,
                topic=topic,
                since=since,
                limit=limit,
                source=source,
                count_up_to=count_up_to,
            )
        )
        return Matches(ranked, total, exact)

    async def recent_matches(
        self, *, source: SourceFilter, since: dt.date | None, limit: int, count_up_to: int
    ) -> Matches:
        # The index holds each paper's sources, categories and last day, and sorts by
        # recency: an exact count, however rare the category.
        index = self.search_index
        ids, total = await self._indexed(lambda: index.recent(source, since, limit))
        return Matches([(pid, 0.0) for pid in ids], total)

    async def papers_by_name(self, names: Sequence[str]) -> list[int]:
        index = self.search_index
        return await self._indexed_now(lambda: index.by_name(names))

    async def title_candidates(
        self, query: ParsedQuery, limit: int, written: str = ""
    ) -> list[tuple[int, str]]:
        """(id, title) of papers whose titles hold the typed words in a row (the last
        one perhaps half-typed), then of those holding a word starting with each typed
        word, then with any when too few hold all. One worker-thread hop, titles
        included."""
        typed = list(query.all_words())
        index = self.search_index

        def lookup() -> tuple[list[int], list[tuple[int, str]] | None]:
            # Titles holding the typed words in a row first: a fragment from the middle
            # of a title is often among hundreds holding each of its words.
            found = index.title_phrase_search(typed, written, limit)
            if len(found) < limit:
                seen = set(found)
                more = index.title_search(typed, match_all=True, limit=limit)
                found += [pid for pid in more if pid not in seen]
            if len(found) < max(1, limit // WIDEN_BELOW) and len(typed) > 1:
                # A few titles holding every typed word is the usual answer to a long
                # input. Topping it up with hundreds of titles that share one common
                # word cost more than the rest of autocomplete (5-20 ms at 100k), and
                # rapidfuzz ranks those below anyway: widen only when almost nothing
                # matched, and ask for fewer.
                seen = set(found)
                more = index.title_search(typed, match_all=False, limit=max(1, limit // WIDEN_POOL))
                found += [pid for pid in more if pid not in seen]
            found = found[:limit]
            reads = self._reads()
            return found, reads.titles(found) if reads is not None else None

        found, titles = await self._indexed(lookup)
        return titles if titles is not None else await self.titles(found)

    async def titles(self, ids: Sequence[int]) -> list[tuple[int, str]]:
        read = self._small_rows if len(ids) <= INLINE_IDS else self._rows
        by_id: dict[int, str] = {}
        for part in chunks(list(ids)):
            sql = f"SELECT id, title FROM papers WHERE id IN ({placeholders(len(part))})"
            by_id.update(await read(sql, part))
        return [(pid, by_id[pid]) for pid in ids if pid in by_id]

    async def paper_by_arxiv_id(self, arxiv_ids: Sequence[str]) -> int | None:
        wanted = list(dict.fromkeys(arxiv_ids))
        if not wanted:
            return None
        # papers.arxiv_id is UNIQUE, so indexed: a read for the event loop thread.
        rows = await self._small_rows(
            f"SELECT id FROM papers WHERE arxiv_id IN ({placeholders(len(wanted))})"
            " ORDER BY id LIMIT 1",
            wanted,
        )
        return rows[0][0] if rows else None

    async def recent_titles(self, limit: int) -> list[tuple[int, str]]:
        rows = await self._rows(
            "SELECT id, title FROM papers ORDER BY last_seen DESC, id DESC LIMIT ?", (limit,)
        )
        return [(r[0], r[1]) for r in rows]
