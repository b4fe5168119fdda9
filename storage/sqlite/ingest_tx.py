"""The SQLite side of one dump's ingest: lookups and writes inside one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import aiosqlite

from bot.core.models import (
    DayEntry,
    DaySource,
    IngestPlan,
    KnownPaper,
    PlanAction,
    PlannedPaper,
    StoredDump,
)
from storage import ingest_rows as shared
from storage.base import IngestTransaction
from storage.rows import blocks_sql, known_with_blocks, redated_report

# SQLite accepts 32766 bound parameters; stay far below it and keep statements cacheable.
CHUNK = 500
T = TypeVar("T")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def placeholders(count: int) -> str:
    return ",".join("?" * count)


class SqliteIngestTransaction(IngestTransaction):
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def dump_exists(self, content_hash: str) -> bool:
        async with self._conn.execute(
            "SELECT 1 FROM dumps WHERE content_hash = ?", (content_hash,)
        ) as cur:
            return await cur.fetchone() is not None

    async def stored_dump(self, content_hash: str) -> StoredDump | None:
        async with self._conn.execute(
            "SELECT day, day_source FROM dumps WHERE content_hash = ?", (content_hash,)
        ) as cur:
            row = await cur.fetchone()
        return StoredDump(dt.date.fromisoformat(row[0]), DaySource(row[1])) if row else None

    async def redate_dump(
        self, content_hash: str, day: dt.date, listed: Sequence[tuple[int, int | None]]
    ) -> int:
        conn = self._conn
        async with conn.execute(
            "SELECT id, report FROM dumps WHERE content_hash = ?", (content_hash,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            raise LookupError("no such dump")
        dump_id, report = row
        new_day = day.isoformat()
        async with conn.execute(
            "SELECT paper_id, position, upvotes FROM appearances WHERE dump_id = ?", (dump_id,)
        ) as cur:
            own = {pid: (position, upvotes) async for pid, position, upvotes in cur}
        await conn.execute("DELETE FROM appearances WHERE dump_id = ?", (dump_id,))
        # Papers the dump lists that another dump of its old day recorded first keep that
        # dump's appearance; on the new day they appear for this one.
        rows = dict(own)
        for pid, position in listed:
            rows.setdefault(pid, (position, None))
        await conn.executemany(
            "INSERT INTO appearances (paper_id, day, position, upvotes, dump_id)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (paper_id, day) DO UPDATE SET"
            " position = MIN(position, excluded.position),"
            " upvotes = COALESCE(upvotes, excluded.upvotes)",
            [(pid, new_day, pos, votes, dump_id) for pid, (pos, votes) in rows.items()],
        )
        for part in chunks(list(rows)):
            await conn.execute(
                "UPDATE papers SET"
                " first_seen = (SELECT MIN(day) FROM appearances WHERE paper_id = papers.id),"
                " last_seen = (SELECT MAX(day) FROM appearances WHERE paper_id = papers.id)"
                f" WHERE id IN ({placeholders(len(part))})",
                tuple(part),
            )
        await conn.execute(
            "UPDATE dumps SET day = ?, day_source = '--date', report = ? WHERE id = ?",
            (new_day, redated_report(report, new_day), dump_id),
        )
        return len(rows)

    async def papers_by_keys(self, keys: Sequence[str]) -> dict[str, KnownPaper]:
        found: dict[str, KnownPaper] = {}
        for part in chunks(list(dict.fromkeys(keys))):
            sql = (
                "SELECT k.key, p.id, p.norm_title, p.title, p.arxiv_id FROM paper_keys k "
                f"JOIN papers p ON p.id = k.paper_id WHERE k.key IN ({placeholders(len(part))})"
            )
            async with self._conn.execute(sql, tuple(part)) as cur:
                async for key, pid, norm, title, arxiv in cur:
                    found[key] = KnownPaper(id=pid, key=norm, title=title, arxiv_id=arxiv)
        return found

    async def papers_by_blocks(self, blocks: Sequence[str]) -> list[KnownPaper]:
        rows: list[Sequence[Any]] = []
        for part in chunks(list(dict.fromkeys(blocks))):
            sql = blocks_sql(f"IN ({placeholders(len(part))})")
            async with self._conn.execute(sql, tuple(part)) as cur:
                rows += await cur.fetchall()
        return known_with_blocks(rows)

    async def day_listing(self, day: dt.date, paper_source: str) -> list[DayEntry]:
        params = (day.isoformat(), paper_source)
        async with self._conn.execute(shared.DAY_LISTING, params) as cur:
            return shared.day_entries([tuple(row) for row in await cur.fetchall()])

    async def apply(self, plan: IngestPlan) -> None:
        day = plan.day.isoformat()
        cur = await self._conn.execute(shared.INSERT_DUMP, shared.dump_row(plan))
        dump_id = cur.lastrowid
        await cur.close()
        variants: list[tuple[int, str]] = []
        new = [p for p in plan.papers if p.action == PlanAction.NEW]
        retopic = await self._insert_papers(new, day, variants)
        retopic |= await self._update_papers(
            [p for p in plan.papers if p.action != PlanAction.NEW], day, variants
        )
        await self._write_children(plan, day, dump_id, retopic)
        await self._conn.executemany(
            "INSERT OR IGNORE INTO title_variants (paper_id, title) VALUES (?, ?)", variants
        )
        await self._conn.executemany(shared.UPDATE_EXTRAS, shared.extras_rows(plan))

    async def _insert_papers(
        self, items: list[PlannedPaper], day: str, variants: list[tuple[int, str]]
    ) -> set[int]:
        """One executemany for the day's new papers. Ids are assigned here (we hold the
        write lock, so MAX(id) + 1 is exactly what SQLite itself would pick). Other
        titles the file listed a paper under go to `variants`."""
        if not items:
            return set()
        async with self._conn.execute("SELECT COALESCE(MAX(id), 0) FROM papers") as cur:
            row = await cur.fetchone()
        next_id = int(row[0]) + 1 if row else 1
        rows = []
        for offset, item in enumerate(items):
            item.existing_id = next_id + offset
            variants += shared.new_paper_variants(item, item.existing_id)
            rows.append(shared.new_paper_row(item, item.existing_id, day))
        await self._conn.executemany(
            "INSERT INTO papers (id, title, norm_title, abstract, arxiv_id, authors, upvotes,"
            " published, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        return {item.existing_id for item in items if item.existing_id is not None}

    async def _update_papers(
        self, items: list[PlannedPaper], day: str, variants: list[tuple[int, str]]
    ) -> set[int]:
        """Fold re-appearances in (storage/ingest_rows.py's `refold`): widen the date
        range, fill what was missing. Returns the papers whose indexed text changed;
        their topics are recomputed."""
        if not items:
            return set()
        current: dict[int, Sequence[Any]] = {}
        for part in chunks([item.existing_id for item in items]):
            marks = placeholders(len(part))
            sql = f"SELECT {shared.STORED_COLUMNS} FROM papers WHERE id IN ({marks})"
            async with self._conn.execute(sql, tuple(part)) as cur:
                async for row in cur:
                    current[row[0]] = row
        updates, changed = [], set()
        for item in items:
            assert item.existing_id in current, "planned update of a paper that does not exist"
            folded = shared.refold(item, current[item.existing_id], day)
            if folded.changed:
                changed.add(folded.id)
            variants += folded.variants
            seen = shared.seen_day(item, current[item.existing_id], day)
            updates.append((*folded.values(), seen, seen, folded.id))
        await self._conn.executemany(
            "UPDATE papers SET title = ?, norm_title = ?, abstract = ?,"
            " arxiv_id = COALESCE(arxiv_id, ?), authors = COALESCE(?, authors),"
            " upvotes = COALESCE(?, upvotes), published = COALESCE(published, ?),"
            " first_seen = MIN(first_seen, ?), last_seen = MAX(last_seen, ?) WHERE id = ?",
            updates,
        )
        await self._conn.executemany(
            "DELETE FROM paper_topics WHERE paper_id = ?", [(pid,) for pid in changed]
        )
        return changed

    async def _write_children(
        self, plan: IngestPlan, day: str, dump_id: int | None, retopic: set[int]
    ) -> None:
        conn = self._conn
        rows = shared.child_rows(plan, day, dump_id, retopic)
        await conn.executemany("INSERT OR IGNORE INTO paper_keys VALUES (?, ?)", rows.keys)
        await conn.executemany("INSERT OR IGNORE INTO title_blocks VALUES (?, ?)", rows.blocks)
        # A paper listed twice on one day keeps its best (lowest) position; a later
        # dump of a stored day (a re-fetch) gives the day its newer order.
        position = "excluded.position" if plan.day_update else "MIN(position, excluded.position)"
        await conn.executemany(
            "INSERT INTO appearances (paper_id, day, position, upvotes, dump_id)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (paper_id, day) DO UPDATE SET"
            f" position = {position}, upvotes = COALESCE(excluded.upvotes, upvotes)",
            rows.appearances,
        )
        await conn.executemany("INSERT OR IGNORE INTO dump_papers VALUES (?, ?)", rows.listed)
        await conn.executemany(
            "DELETE FROM paper_categories WHERE paper_id = ?", [(p,) for p in rows.categorised]
        )
        await conn.executemany("INSERT INTO paper_categories VALUES (?, ?, ?)", rows.categories)
        await conn.executemany(
            "INSERT INTO paper_topics VALUES (?, ?, ?, ?) ON CONFLICT (paper_id, topic)"
            " DO UPDATE SET score = excluded.score, why = excluded.why",
            rows.topics,
        )
        await conn.executemany(
            "INSERT INTO vocab VALUES (?, ?)"
            " ON CONFLICT (term) DO UPDATE SET df = df + excluded.df",
            list(rows.vocab.items()),
        )
        await conn.executemany(
            "DELETE FROM paper_authors WHERE paper_id = ?", [(pid,) for pid in rows.authored]
        )
        await conn.executemany("INSERT INTO paper_authors VALUES (?, ?, ?, ?)", rows.authors)
