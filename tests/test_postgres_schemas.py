"""The test processes' PostgreSQL schema pool (tests/postgres_schemas.py): a schema a
test used comes back holding exactly what a fresh migration makes, and one whose shape
or migration records a test changed is dropped rather than handed out again."""

from __future__ import annotations

import asyncpg
import pytest

from storage import open_storage
from tests.conftest import ingest_sample, with_search_path
from tests.postgres_schemas import PostgresSchemas, _children_first


async def content(url: str) -> dict[str, list[tuple]]:
    """Every table's rows (migration times left out) and every sequence's state."""
    conn = await asyncpg.connect(url)
    try:
        schema = await conn.fetchval("SELECT current_schema()")
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1", schema
        )
        found: dict[str, list[tuple]] = {}
        for (table,) in tables:
            columns = "version, name" if table == "paperbot_migrations" else "*"
            found[table] = sorted(
                (tuple(r) for r in await conn.fetch(f"SELECT {columns} FROM {table}")), key=repr
            )
        for (sequence,) in await conn.fetch(
            "SELECT relname FROM pg_class WHERE relkind = 'S'"
            " AND relnamespace = $1::regnamespace ORDER BY 1",
            schema,
        ):
            found[sequence] = [
                tuple(await conn.fetchrow(f"SELECT last_value, is_called FROM {sequence}"))
            ]
        return found
    finally:
        await conn.close()


async def schema_exists(url: str, schema: str) -> bool:
    conn = await asyncpg.connect(url)
    try:
        return bool(await conn.fetchval("SELECT to_regnamespace($1) IS NOT NULL", schema))
    finally:
        await conn.close()


async def test_a_used_schema_comes_back_as_a_fresh_migration_makes_it(postgres_url) -> None:
    schemas = PostgresSchemas(postgres_url)
    try:
        first = await schemas.take()
        fresh = await content(with_search_path(postgres_url, first))
        async with await open_storage(with_search_path(postgres_url, first)) as store:
            await ingest_sample(store)
            await store.set_meta("left", "behind")
            await store.set_user_delivery(7, "09:00", "UTC")
        used = await content(with_search_path(postgres_url, first))
        assert used != fresh and len(used["papers"]) == 98
        await schemas.give_back(first)

        again = await schemas.take()
        assert again == first  # reused, not migrated again
        assert await content(with_search_path(postgres_url, again)) == fresh
        # Ids start again at 1, as in a fresh schema.
        async with await open_storage(with_search_path(postgres_url, again)) as store:
            await ingest_sample(store)
            assert min(pid for pid, _ in await store.all_titles()) == 1
        await schemas.give_back(again)
    finally:
        schemas.drop_all()


@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE papers ADD COLUMN extra TEXT",
        "CREATE INDEX extra ON papers (title)",
        "DROP TRIGGER papers_changed ON papers",
        "INSERT INTO paperbot_migrations VALUES (999, 'future', 'x')",
    ],
)
async def test_a_schema_whose_shape_changed_is_dropped(postgres_url, change) -> None:
    schemas = PostgresSchemas(postgres_url)
    try:
        schema = await schemas.take()
        conn = await asyncpg.connect(with_search_path(postgres_url, schema))
        try:
            await conn.execute(change)
        finally:
            await conn.close()
        await schemas.give_back(schema)
        assert not await schema_exists(postgres_url, schema)
        assert await schemas.take() != schema
    finally:
        schemas.drop_all()


def test_tables_are_emptied_before_the_tables_they_reference() -> None:
    references = {
        "papers": [],
        "dumps": [],
        "appearances": ["papers", "dumps"],
        "paper_topics": ["papers"],
        "votes": ["appearances", "papers"],
    }
    order = _children_first(references)
    assert sorted(order) == sorted(references)
    for child, parents in references.items():
        for parent in parents:
            assert order.index(child) < order.index(parent), (child, parent)
