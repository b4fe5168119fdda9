"""Search for the SQLite backend: keeps the tantivy index caught up with the database
and answers text, short-name and title lookups through it. Mixed into SqliteStorage,
which provides `_rows()`, `write()`, `search_index` and `_index_lock`."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence

from bot.core.models import ParsedQuery
from bot.core.rank import title_name
from storage.sqlite.ingest_tx import chunks, placeholders
from storage.sqlite.search_index import IndexBusy, IndexedPaper, SearchIndex

log = logging.getLogger("paperbot.search_index")

WATERMARK = "search_index_seq"
BATCH = 20_000  # papers per index commit while catching up


class SqliteSearchStore:
    search_index: SearchIndex
    _index_lock: asyncio.Lock
    _indexed_seq: int

    async def sync_search_index(self) -> int:
        """Bring the index up to date with the database; returns papers (re)indexed.

        Safe to call from several processes: the one holding tantivy's writer lock does
        the work, the others see its commit on their next search."""
        async with self._index_lock:
            head = await self._change_head()
            if head <= self._indexed_seq and not self.search_index.created:
                return 0
            stored = int(await self.get_meta(WATERMARK) or 0)  # type: ignore[attr-defined]
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
            self.search_index.created = False
            await self._advance_watermark(head)
            self._indexed_seq = head
            return done

    async def _change_head(self) -> int:
        # AUTOINCREMENT's counter never goes back, even after the log is pruned.
        rows = await self._rows("SELECT seq FROM sqlite_sequence WHERE name = 'paper_changes'")
        return int(rows[0][0]) if rows else 0

    async def _index_changes(self, after: int, head: int) -> int:
        if after == 0:  # a new or rebuilt index: everything, not just the logged changes
            await asyncio.to_thread(self.search_index.clear)
            ids = [r[0] for r in await self._rows("SELECT id FROM papers ORDER BY id")]
        else:
            ids = [
                r[0]
                for r in await self._rows(
                    "SELECT DISTINCT paper_id FROM paper_changes WHERE seq > ? AND seq <= ?",
                    (after, head),
                )
            ]
        for batch in chunks(ids, BATCH):
            papers = await self._indexable(batch)
            removed = set(batch) - {p.id for p in papers}
            await asyncio.to_thread(self.search_index.apply, papers, removed)
        return len(ids)

    async def _indexable(self, ids: Sequence[int]) -> list[IndexedPaper]:
        topics: dict[int, list[str]] = {}
        rows: list[tuple] = []
        for part in chunks(ids):
            marks = placeholders(len(part))
            rows += await self._rows(
                f"SELECT id, title, abstract, last_seen FROM papers WHERE id IN ({marks})", part
            )
            for pid, topic in await self._rows(
                f"SELECT paper_id, topic FROM paper_topics WHERE paper_id IN ({marks})", part
            ):
                topics.setdefault(pid, []).append(topic)
        return [
            IndexedPaper(
                pid,
                title,
                abstract,
                tuple(topics.get(pid, ())),
                title_name(title),
                dt.date.fromisoformat(last_seen),
            )
            for pid, title, abstract, last_seen in rows
        ]

    async def _advance_watermark(self, seq: int) -> None:
        """Record progress (never backwards) and drop the change log behind it."""
        async with self.write() as conn:  # type: ignore[attr-defined]
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
    ) -> list[tuple[int, float]]:
        await self.sync_search_index()
        return await asyncio.to_thread(
            self.search_index.search,
            query,
            match_all=match_all,
            topic=topic,
            since=since,
            limit=limit,
        )

    async def papers_by_name(self, names: Sequence[str]) -> list[int]:
        await self.sync_search_index()
        return await asyncio.to_thread(self.search_index.by_name, names)

    async def title_candidates(self, query: ParsedQuery, limit: int) -> list[tuple[int, str]]:
        """(id, title) of papers whose titles hold the typed words (the last one as a
        prefix); any of them when too few hold all."""
        await self.sync_search_index()
        found = await asyncio.to_thread(
            self.search_index.search,
            query,
            match_all=True,
            topic=None,
            since=None,
            limit=limit,
            fields=("title",),
        )
        if len(found) < limit:
            more = await asyncio.to_thread(
                self.search_index.search,
                query,
                match_all=False,
                topic=None,
                since=None,
                limit=limit,
                fields=("title",),
            )
            seen = {pid for pid, _ in found}
            found += [hit for hit in more if hit[0] not in seen]
        return await self.titles([pid for pid, _ in found[:limit]])

    async def titles(self, ids: Sequence[int]) -> list[tuple[int, str]]:
        by_id: dict[int, str] = {}
        for part in chunks(list(ids)):
            for pid, title in await self._rows(
                f"SELECT id, title FROM papers WHERE id IN ({placeholders(len(part))})", part
            ):
                by_id[pid] = title
        return [(pid, by_id[pid]) for pid in ids if pid in by_id]

    async def recent_titles(self, limit: int) -> list[tuple[int, str]]:
        rows = await self._rows(
            "SELECT id, title FROM papers ORDER BY last_seen DESC, id DESC LIMIT ?", (limit,)
        )
        return [(r[0], r[1]) for r in rows]
