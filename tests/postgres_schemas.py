"""Schemas of the PostgreSQL test server: creating and dropping one, and the migrated
schemas of one test process, emptied and handed to the next test.

Migrating a fresh schema and dropping it afterwards cost the server about 0.25 s of CPU
a test, more than most tests' own queries; emptying a used one costs it about 0.02 s.

A schema handed back is checked before it is reused, and dropped instead if anything
but its rows changed:
- its shape (tables, columns, indexes, constraints, triggers, functions) and its
  migration records must be what the migrations made: a test that altered either
  leaves nothing behind;
- its tables are emptied in an order the foreign keys allow, the rows the migrations
  seeded are put back, and its sequences restart, so the next test sees what a fresh
  migration makes.

What emptying does not restore is the server's bookkeeping: planner statistics and
`pg_stat_user_tables` counters. A test that checks those (that an import analyzes its
tables) uses a fresh schema (the `postgres_schema` fixture).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from storage import open_storage


def with_search_path(url: str, schema: str) -> str:
    """`url` with its `search_path` setting (a server setting asyncpg passes on) set."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "search_path"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("search_path", schema)])))


async def create_schema(url: str) -> str:
    name = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"CREATE SCHEMA {name}")
    finally:
        await conn.close()
    return name


async def drop_schema(url: str, name: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"DROP SCHEMA {name} CASCADE")
    finally:
        await conn.close()


# Each part names one object of the schema and what defines it; the whole, sorted, is
# the schema's shape. $1 is the schema's name.
SHAPE_SQL = """
SELECT md5(string_agg(part, E'\\n' ORDER BY part)) FROM (
    SELECT 'relation ' || relname || ' ' || relkind::text FROM pg_class
        WHERE relnamespace = $1::regnamespace
    UNION ALL
    SELECT 'column ' || c.relname || '.' || a.attname || ' '
        || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || a.attgenerated::text
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE c.relnamespace = $1::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'default ' || c.relname || '.' || d.adnum || ' ' || pg_get_expr(d.adbin, d.adrelid)
        FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid
        WHERE c.relnamespace = $1::regnamespace
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = $1::regnamespace
    UNION ALL
    SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
        WHERE connamespace = $1::regnamespace
    UNION ALL
    SELECT 'trigger ' || t.tgname || ' ' || t.tgenabled::text || ' ' || pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = $1::regnamespace AND NOT t.tgisinternal
    UNION ALL
    SELECT 'function ' || proname || ' ' || md5(prosrc) FROM pg_proc
        WHERE pronamespace = $1::regnamespace
    UNION ALL
    SELECT 'migration ' || version || ' ' || name FROM paperbot_migrations
) shape(part)
"""

TABLES_SQL = """
SELECT c.relname, ARRAY(
    SELECT DISTINCT p.relname FROM pg_constraint f JOIN pg_class p ON p.oid = f.confrelid
    WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.confrelid <> c.oid
) FROM pg_class c
WHERE c.relnamespace = $1::regnamespace AND c.relkind = 'r' AND c.relname <> 'paperbot_migrations'
"""

SEQUENCES_SQL = (
    "SELECT relname FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind = 'S'"
)


@dataclass(frozen=True)
class _Shape:
    """What every schema the migrations make has in common."""

    fingerprint: str
    tables: list[str]  # children before the tables their foreign keys name
    seeds: dict[str, list[tuple]]  # the rows the migrations inserted, by table
    sequences: list[str]
    emptiness_sql: str  # the names of the tables holding rows


def _children_first(references: dict[str, list[str]]) -> list[str]:
    """Tables ordered so that each comes before every table it references."""
    ordered: list[str] = []
    placed: set[str] = set()

    def place(table: str, path: tuple[str, ...]) -> None:
        if table in placed:
            return
        assert table not in path, f"foreign keys in a circle: {path}"
        # Everything that references `table` is emptied before it.
        for child, parents in sorted(references.items()):
            if table in parents:
                place(child, (*path, table))
        placed.add(table)
        ordered.append(table)

    for table in sorted(references):
        place(table, ())
    return ordered


async def _shape_of(conn: asyncpg.Connection, schema: str) -> _Shape:
    references = {name: list(parents) for name, parents in await conn.fetch(TABLES_SQL, schema)}
    tables = _children_first(references)
    seeds = {}
    for table in tables:
        rows = await conn.fetch(f"SELECT * FROM {table}")
        if rows:
            seeds[table] = [tuple(row) for row in rows]
    sequences = [name for (name,) in await conn.fetch(SEQUENCES_SQL, schema)]
    emptiness = " UNION ALL ".join(
        f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM {t})" for t in sorted(tables)
    )
    return _Shape(await conn.fetchval(SHAPE_SQL, schema), tables, seeds, sequences, emptiness)


class SchemaChanged(Exception):
    """A used schema's shape or migrations differ from the migrations' own."""


class PostgresSchemas:
    """Migrated schemas of the server at `url` for this test process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._free: list[str] = []
        self._shape: _Shape | None = None

    async def take(self) -> str:
        """A migrated schema holding only what the migrations put there."""
        if self._free:
            return self._free.pop()
        schema = await create_schema(self.url)
        store = await open_storage(with_search_path(self.url, schema))
        await store.close()
        if self._shape is None:
            conn = await asyncpg.connect(with_search_path(self.url, schema))
            try:
                self._shape = await _shape_of(conn, schema)
            finally:
                await conn.close()
        return schema

    async def give_back(self, schema: str) -> None:
        """Empty `schema` for the next test, or drop it if it cannot be reused as it is."""
        try:
            conn = await asyncpg.connect(with_search_path(self.url, schema))
            try:
                await self._empty(conn, schema)
            finally:
                await conn.close()
        except (SchemaChanged, asyncpg.PostgresError, OSError):
            await drop_schema(self.url, schema)
            return
        self._free.append(schema)

    async def _empty(self, conn: asyncpg.Connection, schema: str) -> None:
        shape = self._shape
        assert shape is not None
        # A test that left a connection in a transaction holding these tables' locks
        # would otherwise hang the next test's set-up; dropping waits the same way.
        await conn.execute("SET lock_timeout = '10s'")
        async with conn.transaction():
            if await conn.fetchval(SHAPE_SQL, schema) != shape.fingerprint:
                raise SchemaChanged(schema)
            holding = {name for (name,) in await conn.fetch(shape.emptiness_sql)}
            for table in shape.tables:
                if table in holding or table in shape.seeds:
                    await conn.execute(f"DELETE FROM {table}")
            for table in reversed(shape.tables):
                if table in shape.seeds:
                    await conn.copy_records_to_table(table, records=shape.seeds[table])
            for sequence in shape.sequences:
                await conn.execute("SELECT setval($1, 1, false)", sequence)

    def drop_all(self) -> None:
        """Drop the free schemas (at the end of the test process)."""

        async def drop() -> None:
            for schema in self._free:
                await drop_schema(self.url, schema)
            self._free.clear()

        # A thread of its own: this may run while an event loop is running.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, drop()).result()
