"""The PostgreSQL side of one dump's ingest: lookups and writes inside one transaction
(opened by PostgresStorage.ingest_transaction, which holds the papers advisory lock)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from asyncpg.pool import PoolConnectionProxy

from bot.core.models import (
    DayEntry,
    DaySource,
    IngestPlan,
    KnownPaper,
    PlanAction,
    PlannedPaper,
    StoredDump,
)
from bot.core.rank import title_name
from storage import ingest_rows as shared
from storage.base import IngestTransaction
from storage.ingest_rows import Appearance
from storage.postgres.sql import numbered
from storage.rows import blocks_sql, known_with_blocks, redated_report


class PostgresIngestTransaction(IngestTransaction):
    def __init__(self, conn: PoolConnectionProxy) -> None:
        self._conn = conn

    async def dump_exists(self, content_hash: str) -> bool:
        found = await self._conn.fetchval(
            "SELECT 1 FROM dumps WHERE content_hash = $1", content_hash
        )
        return found is not None

    async def stored_dump(self, content_hash: str) -> StoredDump | None:
        row = await self._conn.fetchrow(
            "SELECT day, day_source FROM dumps WHERE content_hash = $1", content_hash
        )
        return StoredDump(dt.date.fromisoformat(row[0]), DaySource(row[1])) if row else None

    async def redate_dump(
        self, content_hash: str, day: dt.date, listed: Sequence[tuple[int, int | None]]
    ) -> int:
        conn = self._conn
        row = await conn.fetchrow(
            "SELECT id, report FROM dumps WHERE content_hash = $1 FOR UPDATE", content_hash
        )
        if row is None:
            raise LookupError("no such dump")
        dump_id, report = row
        new_day = day.isoformat()
        own = {
            pid: (position, upvotes)
            for pid, position, upvotes in await conn.fetch(
                "DELETE FROM appearances WHERE dump_id = $1 RETURNING paper_id, position, upvotes",
                dump_id,
            )
        }
        # Papers the dump lists that another dump of its old day recorded first keep that
        # dump's appearance; on the new day they appear for this one.
        rows = dict(own)
        for pid, position in listed:
            rows.setdefault(pid, (position, None))
        ids = list(rows)
        await conn.execute(
            "INSERT INTO appearances (paper_id, day, position, upvotes, dump_id)"
            " SELECT u.pid, $2::text, u.pos, u.votes, $3::bigint"
            " FROM unnest($1::bigint[], $4::bigint[], $5::bigint[]) AS u(pid, pos, votes)"
            " ON CONFLICT (paper_id, day) DO UPDATE SET"
            " position = LEAST(appearances.position, excluded.position),"
            " upvotes = COALESCE(appearances.upvotes, excluded.upvotes)",
            ids,
            new_day,
            dump_id,
            [rows[pid][0] for pid in ids],
            [rows[pid][1] for pid in ids],
        )
        await conn.execute(
            "UPDATE papers SET first_seen = s.first, last_seen = s.last FROM"
            " (SELECT paper_id, MIN(day) AS first, MAX(day) AS last FROM appearances"
            "  WHERE paper_id = ANY($1::bigint[]) GROUP BY paper_id) s"
            " WHERE papers.id = s.paper_id",
            ids,
        )
        await conn.execute(
            "UPDATE dumps SET day = $1, day_source = '--date', report = $2 WHERE id = $3",
            new_day,
            redated_report(report, new_day),
            dump_id,
        )
        return len(rows)

    async def papers_by_keys(self, keys: Sequence[str]) -> dict[str, KnownPaper]:
        rows = await self._conn.fetch(
            "SELECT k.key, p.id, p.norm_title, p.title, p.arxiv_id FROM paper_keys k"
            " JOIN papers p ON p.id = k.paper_id WHERE k.key = ANY($1::text[])",
            list(dict.fromkeys(keys)),
        )
        return {
            key: KnownPaper(id=pid, key=norm, title=title, arxiv_id=arxiv)
            for key, pid, norm, title, arxiv in rows
        }

    async def papers_by_blocks(self, blocks: Sequence[str]) -> list[KnownPaper]:
        rows = await self._conn.fetch(blocks_sql("= ANY($1::text[])"), list(dict.fromkeys(blocks)))
        return known_with_blocks([tuple(row) for row in rows])

    async def day_listing(self, day: dt.date, paper_source: str) -> list[DayEntry]:
        rows = await self._conn.fetch(numbered(shared.DAY_LISTING), day.isoformat(), paper_source)
        return shared.day_entries([tuple(row) for row in rows])

    async def apply(self, plan: IngestPlan) -> None:
        day = plan.day.isoformat()
        dump_id = await self._conn.fetchval(
            numbered(shared.INSERT_DUMP + " RETURNING id"), *shared.dump_row(plan)
        )
        variants: list[tuple[int, str]] = []
        new = [p for p in plan.papers if p.action == PlanAction.NEW]
        retopic = await self._insert_papers(new, day, variants)
        retopic |= await self._update_papers(
            [p for p in plan.papers if p.action != PlanAction.NEW], day, variants
        )
        await self._write_children(plan, day, dump_id, retopic)
        if variants:
            # A trigger adds them to the paper's searchable text (see migration 004).
            await self._conn.execute(
                "INSERT INTO title_variants (paper_id, title)"
                " SELECT * FROM unnest($1::bigint[], $2::text[]) ON CONFLICT DO NOTHING",
                *_columns(list(dict.fromkeys(variants)), 2),
            )
        extras = shared.extras_rows(plan)
        if extras:
            await self._conn.executemany(numbered(shared.UPDATE_EXTRAS), extras)

    async def _insert_papers(
        self, items: list[PlannedPaper], day: str, variants: list[tuple[int, str]]
    ) -> set[int]:
        """Ids come from the papers sequence up front, so the plan's items know them
        before the children are written. Other titles the file listed a paper under go
        to `variants`."""
        if not items:
            return set()
        ids = [
            r[0]
            for r in await self._conn.fetch(
                "SELECT nextval(pg_get_serial_sequence('papers', 'id'))"
                " FROM generate_series(1, $1)",
                len(items),
            )
        ]
        rows = []
        for item, paper_id in zip(items, ids, strict=True):
            item.existing_id = paper_id
            variants += shared.new_paper_variants(item, paper_id)
            rows.append((*shared.new_paper_row(item, paper_id, day), title_name(item.paper.title)))
        # One statement for the whole day (array parameters, one column each).
        await self._conn.execute(
            "INSERT INTO papers (id, title, norm_title, abstract, arxiv_id, authors, upvotes,"
            " published, first_seen, last_seen, short_name) SELECT * FROM unnest($1::bigint[],"
            " $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[],"
            " $8::text[], $9::text[], $10::text[], $11::text[])",
            *_columns(rows, 11),
        )
        return set(ids)

    async def _update_papers(
        self, items: list[PlannedPaper], day: str, variants: list[tuple[int, str]]
    ) -> set[int]:
        """Fold re-appearances in (storage/ingest_rows.py's `refold`), as on SQLite.
        Returns the papers whose indexed text changed; their topics are recomputed."""
        if not items:
            return set()
        current = {
            r[0]: tuple(r)
            for r in await self._conn.fetch(
                f"SELECT {shared.STORED_COLUMNS} FROM papers"
                " WHERE id = ANY($1::bigint[]) FOR UPDATE",
                [item.existing_id for item in items],
            )
        }
        updates, changed = [], set()
        for item in items:
            assert item.existing_id in current, "planned update of a paper that does not exist"
            folded = shared.refold(item, current[item.existing_id], day)
            if folded.changed:
                changed.add(folded.id)
            variants += folded.variants
            seen = shared.seen_day(item, current[item.existing_id], day)
            updates.append((*folded.values(), seen, folded.id, title_name(folded.title)))
        # Several incoming items may fold into one paper: the last one wins, as when
        # they were applied one by one.
        updates = list({row[8]: row for row in updates}.values())
        await self._conn.execute(
            "UPDATE papers SET title = u.title, norm_title = u.norm_title,"
            " abstract = u.abstract, arxiv_id = COALESCE(papers.arxiv_id, u.arxiv_id),"
            " authors = COALESCE(u.authors, papers.authors),"
            " upvotes = COALESCE(u.upvotes, papers.upvotes),"
            " published = COALESCE(papers.published, u.published),"
            " first_seen = LEAST(papers.first_seen, u.day),"
            " last_seen = GREATEST(papers.last_seen, u.day), short_name = u.short_name"
            " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],"
            " $6::bigint[], $7::text[], $8::text[], $9::bigint[], $10::text[])"
            " AS u(title, norm_title, abstract, arxiv_id, authors, upvotes, published, day,"
            " id, short_name) WHERE papers.id = u.id",
            *_columns(updates, 10),
        )
        if changed:
            await self._conn.execute(
                "DELETE FROM paper_topics WHERE paper_id = ANY($1::bigint[])", sorted(changed)
            )
        return changed

    async def _write_children(
        self, plan: IngestPlan, day: str, dump_id: int, retopic: set[int]
    ) -> None:
        conn = self._conn
        rows = shared.child_rows(plan, day, dump_id, retopic)
        keys, blocks, topics, vocab = rows.keys, rows.blocks, rows.topics, rows.vocab
        # Array parameters: one statement per table instead of a round trip per row.
        if keys:
            await conn.execute(
                "INSERT INTO paper_keys (key, paper_id)"
                " SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT DO NOTHING",
                [key for key, _ in keys],
                [pid for _, pid in keys],
            )
        if blocks:
            await conn.execute(
                "INSERT INTO title_blocks (block, paper_id)"
                " SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT DO NOTHING",
                [block for block, _ in blocks],
                [pid for _, pid in blocks],
            )
        # ON CONFLICT DO UPDATE may touch a row once per statement, so rows for the same
        # key are merged first the way applying them one by one would: a paper listed
        # twice on a day keeps its best (lowest) position and its last known upvotes.
        merged: dict[tuple[int, str], Appearance] = {}
        for pid, seen, position, upvotes, dump in rows.appearances:
            best: int | None = position
            if (pid, seen) in merged:
                _, _, old_position, old_upvotes, _ = merged[(pid, seen)]
                known = [p for p in (position, old_position) if p is not None]
                best = min(known) if known else None
                upvotes = old_upvotes if upvotes is None else upvotes
            merged[(pid, seen)] = (pid, seen, best, upvotes, dump)
        # A later dump of a stored day (a re-fetch) gives the day its newer order.
        kept_position = (
            "excluded.position"
            if plan.day_update
            else "LEAST(appearances.position, excluded.position)"
        )
        await conn.execute(
            "INSERT INTO appearances (paper_id, day, position, upvotes, dump_id)"
            " SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[],"
            " $5::bigint[]) ON CONFLICT (paper_id, day) DO UPDATE SET"
            f" position = {kept_position},"
            " upvotes = COALESCE(excluded.upvotes, appearances.upvotes)",
            *_columns(list(merged.values()), 5),
        )
        if rows.listed:
            await conn.execute(
                "INSERT INTO dump_papers (dump_id, paper_id)"
                " SELECT * FROM unnest($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING",
                *_columns(rows.listed, 2),
            )
        if rows.categorised:
            await conn.execute(
                "DELETE FROM paper_categories WHERE paper_id = ANY($1::bigint[])",
                rows.categorised,
            )
            await conn.execute(
                "INSERT INTO paper_categories (paper_id, category, position)"
                " SELECT * FROM unnest($1::bigint[], $2::text[], $3::int4[])",
                *_columns(rows.categories, 3),
            )
        if topics:
            latest = {(row[0], row[1]): row for row in topics}
            await conn.execute(
                "INSERT INTO paper_topics (paper_id, topic, score, why)"
                " SELECT * FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::text[])"
                " ON CONFLICT (paper_id, topic)"
                " DO UPDATE SET score = excluded.score, why = excluded.why",
                *_columns(list(latest.values()), 4),
            )
        if vocab:
            await conn.execute(
                "INSERT INTO vocab (term, df) SELECT * FROM unnest($1::text[], $2::bigint[])"
                " ON CONFLICT (term) DO UPDATE SET df = vocab.df + excluded.df",
                list(vocab),
                list(vocab.values()),
            )
        if rows.authored:
            await conn.execute(
                "DELETE FROM paper_authors WHERE paper_id = ANY($1::bigint[])", rows.authored
            )
            await conn.execute(
                "INSERT INTO paper_authors (paper_id, position, name, name_key)"
                " SELECT * FROM unnest($1::bigint[], $2::int4[], $3::text[], $4::text[])",
                *_columns(rows.authors, 4),
            )


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows -> one list per column, for unnest() over array parameters."""
    return [[row[i] for row in rows] for i in range(width)]
