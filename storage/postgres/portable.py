"""Row-level export and import for `paperbot migrate-db` (see PortableStorage).

The columns are listed here, not read from the table: derived columns (`search`,
`short_name`, `variant_titles`) stay out of exports, and an import only ever names
known columns.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from bot.core.rank import title_name
from storage.base import PORTABLE_TABLES, PortableRow, PortableStorage

# table -> (primary-key columns, [(column, PostgreSQL type)]) in SQLite's column order.
TABLES: dict[str, tuple[tuple[str, ...], list[tuple[str, str]]]] = {
    "papers": (
        ("id",),
        [
            ("id", "bigint"),
            ("title", "text"),
            ("norm_title", "text"),
            ("abstract", "text"),
            ("arxiv_id", "text"),
            ("authors", "text"),
            ("upvotes", "bigint"),
            ("published", "text"),
            ("first_seen", "text"),
            ("last_seen", "text"),
            ("ai_summary", "text"),
            ("ai_keywords", "text"),
            ("github_repo", "text"),
            ("github_stars", "bigint"),
            ("project_page", "text"),
            ("organization", "text"),
            ("num_comments", "bigint"),
        ],
    ),
    "paper_keys": (("key",), [("key", "text"), ("paper_id", "bigint")]),
    "title_blocks": (("block", "paper_id"), [("block", "text"), ("paper_id", "bigint")]),
    "title_variants": (("paper_id", "title"), [("paper_id", "bigint"), ("title", "text")]),
    "dumps": (
        ("id",),
        [
            ("id", "bigint"),
            ("content_hash", "text"),
            ("source", "text"),
            ("format", "text"),
            ("day", "text"),
            ("day_source", "text"),
            ("ingested_at", "text"),
            ("report", "text"),
            ("paper_source", "text"),
        ],
    ),
    "dump_papers": (("dump_id", "paper_id"), [("dump_id", "bigint"), ("paper_id", "bigint")]),
    "paper_categories": (
        ("paper_id", "category"),
        [("paper_id", "bigint"), ("category", "text"), ("position", "int4")],
    ),
    "appearances": (
        ("paper_id", "day"),
        [
            ("paper_id", "bigint"),
            ("day", "text"),
            ("position", "bigint"),
            ("upvotes", "bigint"),
            ("dump_id", "bigint"),
        ],
    ),
    "paper_topics": (
        ("paper_id", "topic"),
        [("paper_id", "bigint"), ("topic", "text"), ("score", "float8"), ("why", "text")],
    ),
    "vocab": (("term",), [("term", "text"), ("df", "bigint")]),
    "channel_subscriptions": (
        ("channel_id",),
        [
            ("channel_id", "bigint"),
            ("guild_id", "bigint"),
            ("post_time", "text"),
            ("timezone", "text"),
            ("topics", "text"),
            ("max_items", "bigint"),
            ("created_by", "bigint"),
            ("created_at", "text"),
            ("paused", "int4"),
            ("failures", "int4"),
            ("last_error", "text"),
            ("last_run_day", "text"),
            ("source", "text"),
            ("thread", "text"),
            ("paper_order", "text"),
        ],
    ),
    "user_follows": (
        ("user_id", "kind", "value", "guild_id"),
        [
            ("user_id", "bigint"),
            ("kind", "text"),
            ("value", "text"),
            ("guild_id", "bigint"),
            ("label", "text"),
        ],
    ),
    "user_delivery": (
        ("user_id",),
        [
            ("user_id", "bigint"),
            ("post_time", "text"),
            ("timezone", "text"),
            ("dm_closed", "int4"),
            ("dm_closed_told", "int4"),
            ("last_run_day", "text"),
        ],
    ),
    "guild_topics": (
        ("guild_id", "slug"),
        [
            ("guild_id", "bigint"),
            ("slug", "text"),
            ("name", "text"),
            ("keywords", "text"),
            ("phrases", "text"),
        ],
    ),
    "deliveries": (
        ("target", "day"),
        [
            ("target", "text"),
            ("day", "text"),
            ("status", "text"),
            ("message_id", "bigint"),
            ("attempts", "int4"),
            ("updated_at", "text"),
            ("detail", "text"),
            ("owner", "text"),
            ("lease_until", "text"),
        ],
    ),
    "meta": (("key",), [("key", "text"), ("value", "text")]),
    "paper_threads": (
        ("channel_id", "paper_id"),
        [
            ("channel_id", "bigint"),
            ("paper_id", "bigint"),
            ("thread_id", "bigint"),
            ("guild_id", "bigint"),
            ("created_at", "text"),
        ],
    ),
    "feedback": (
        ("user_id", "paper_id"),
        [
            ("user_id", "bigint"),
            ("paper_id", "bigint"),
            ("signal", "text"),
            ("saved", "int4"),
            ("guild_id", "bigint"),
            ("seq", "bigint"),
            ("updated_at", "text"),
            ("saved_at", "text"),
        ],
    ),
    "mutes": (
        ("user_id", "kind", "value"),
        [
            ("user_id", "bigint"),
            ("kind", "text"),
            ("value", "text"),
            ("label", "text"),
            ("created_at", "text"),
        ],
    ),
    "paper_authors": (
        ("paper_id", "position"),
        [("paper_id", "bigint"), ("position", "int4"), ("name", "text"), ("name_key", "text")],
    ),
    "paper_vectors": (("paper_id",), [("paper_id", "bigint"), ("vector", "bytea")]),
    "corpus_stats": (("id",), [("id", "int4"), ("version", "bigint"), ("stats", "bytea")]),
    "dm_channels": (
        ("user_id",),
        [("user_id", "bigint"), ("channel_id", "bigint"), ("updated_at", "text")],
    ),
}
# Tables whose rows are papers or their topics: imports take the papers lock (a title
# variant's trigger writes its paper's searchable text).
_PAPER_TABLES = ("papers", "paper_topics", "title_variants")
_SEQUENCES = (("papers", "id"), ("dumps", "id"))
assert set(TABLES) == set(PORTABLE_TABLES), "every portable table needs a column list"


def _table(name: str) -> tuple[tuple[str, ...], list[tuple[str, str]]]:
    # Table names come from PORTABLE_TABLES only; they are never user input.
    if name not in TABLES:
        raise ValueError(f"{name!r} is not a portable table")
    return TABLES[name]


class PostgresPortableStore(PortableStorage):
    _pool: asyncpg.Pool

    if TYPE_CHECKING:  # provided by PostgresStorage

        def write(
            self, *, papers: bool = False
        ) -> AbstractAsyncContextManager[PoolConnectionProxy]: ...

    async def export_rows(self, table: str, batch: int = 5000) -> AsyncIterator[list[PortableRow]]:
        key, columns = _table(table)
        names = [c for c, _ in columns]
        sql = f"SELECT {', '.join(names)} FROM {table} ORDER BY {', '.join(key)}"
        # A cursor needs a transaction; REPEATABLE READ gives one consistent snapshot.
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            cursor = await conn.cursor(sql)
            while rows := await cursor.fetch(batch):
                yield [dict(zip(names, row, strict=True)) for row in rows]

    async def import_rows(self, table: str, rows: Sequence[PortableRow]) -> int:
        _, columns = _table(table)
        if not rows:
            return 0
        types = dict(columns)
        names = list(rows[0])
        unknown = [c for c in names if c not in types]
        if unknown:
            raise ValueError(f"{table} has no column(s) {', '.join(unknown)}")
        arrays = [[row.get(c) for row in rows] for c in names]
        unnest = ", ".join(f"${i}::{types[c]}[]" for i, c in enumerate(names, 1))
        extra_column, extra = "", ""
        if table == "papers":  # derived from the title, as an ingest would write it
            arrays.append([title_name(row["title"]) for row in rows])
            extra_column, extra = ", short_name", f", ${len(arrays)}::text[]"
        sql = (
            f"INSERT INTO {table} ({', '.join(names)}{extra_column})"
            f" SELECT * FROM unnest({unnest}{extra}) ON CONFLICT DO NOTHING"
        )
        async with self.write(papers=table in _PAPER_TABLES) as conn:
            status = await conn.execute(sql, *arrays)
        return int(status.rsplit(" ", 1)[1])

    async def finish_import(self) -> None:
        """Move the id sequences past the imported ids (the next ingest must not reuse
        one). The search columns are already current: they are maintained on write."""
        async with self.write(papers=True) as conn:
            for table, column in _SEQUENCES:
                # Table and column names come from the fixed list above.
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                    f" GREATEST((SELECT MAX({column}) FROM {table}), 1),"
                    f" (SELECT MAX({column}) FROM {table}) IS NOT NULL)"
                )
