"""PostgreSQL specifics: backend selection, one-line connection errors, migrations
(fresh, re-open, newer schema, concurrent first open), the schema mirroring SQLite's,
data_version across processes, and hostile search input straight at the backend.
Real servers only (see tests/conftest.py): each test gets a schema of its own."""

from __future__ import annotations

import asyncio
import sqlite3
from importlib import resources

import asyncpg
import pytest

from bot.core.ingest import ingest_bytes
from bot.core.models import ParsedQuery, TopicHit
from storage import open_storage
from storage.base import PORTABLE_TABLES
from tests.conftest import TODAY, with_search_path

DERIVED_COLUMNS = {"papers": {"search", "short_name", "variant_titles"}}


def migration_files() -> list[str]:
    folder = resources.files("storage.postgres").joinpath("migrations")
    return sorted(e.name for e in folder.iterdir() if e.name.endswith(".sql"))


async def applied_versions(url: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT version FROM paperbot_migrations ORDER BY version")
        return [r[0] for r in rows]
    finally:
        await conn.close()


# -- selection and errors ----------------------------------------------------------------


async def test_postgres_urls_pick_postgres_and_stats_hide_the_password(postgres_schema):
    short = postgres_schema.replace("postgresql://", "postgres://", 1)
    for url in (postgres_schema, short):
        async with await open_storage(url) as store:
            assert type(store).__name__ == "PostgresStorage"
            stats = await store.stats()
            assert stats["papers"] == 0 and stats["latest_day"] is None
            assert ":***@" in stats["database"]
            assert ":paperbot@" not in stats["database"]
            assert stats["database"].endswith("search_path=" + url.rsplit("=", 1)[1])


async def test_sqlite_urls_and_paths_keep_sqlite(tmp_path):
    for location in (tmp_path / "a.db", str(tmp_path / "b.db"), f"sqlite:///{tmp_path}/c.db"):
        async with await open_storage(location) as store:
            assert type(store).__name__ == "SqliteStorage"


@pytest.mark.parametrize(
    ("url", "error", "names"),
    [
        ("postgresql://bot:hunter2@127.0.0.1:1/paperbot", ConnectionError, "127.0.0.1:1"),
        ("postgresql://bot:hunter2@nohost.invalid/paperbot", ConnectionError, "nohost.invalid"),
        ("postgresql://bot:hunter2@[::1/paperbot", ValueError, "PostgreSQL URL"),
        ("mysql://bot:hunter2@db/paperbot", ValueError, "mysql://"),
    ],
)
async def test_unreachable_or_bad_urls_are_one_line_errors(url, error, names):
    with pytest.raises(error) as caught:
        await open_storage(url)
    message = str(caught.value)
    assert names in message
    assert "hunter2" not in message
    assert "\n" not in message


async def test_wrong_password_is_a_connection_error_without_it(postgres_url):
    bad = postgres_url.replace(":paperbot@", ":not-the-password@", 1)
    assert bad != postgres_url, "the test expects the default credentials"
    with pytest.raises(ConnectionError, match="cannot connect to PostgreSQL at") as caught:
        await open_storage(bad)
    assert "not-the-password" not in str(caught.value)


async def test_a_missing_schema_is_refused_not_replaced_by_public(postgres_url):
    url = with_search_path(postgres_url, "t_never_created")
    with pytest.raises(RuntimeError, match="t_never_created") as caught:
        await open_storage(url)
    assert "\n" not in str(caught.value)
    conn = await asyncpg.connect(postgres_url)
    try:
        assert await conn.fetchval("SELECT to_regclass('public.papers')") is None
    finally:
        await conn.close()


# -- migrations ----------------------------------------------------------------------------


async def test_fresh_schema_is_fully_migrated(postgres_storage, postgres_schema):
    assert await applied_versions(postgres_schema) == list(range(1, len(migration_files()) + 1))


async def test_reopening_keeps_data_and_does_not_remigrate(postgres_schema):
    async with await open_storage(postgres_schema) as first:
        await first.set_meta("k", "v")
    async with await open_storage(postgres_schema) as second:
        assert await second.get_meta("k") == "v"
    assert await applied_versions(postgres_schema) == list(range(1, len(migration_files()) + 1))


async def test_newer_schema_is_refused(postgres_schema):
    async with await open_storage(postgres_schema):
        pass
    newer = len(migration_files()) + 1
    conn = await asyncpg.connect(postgres_schema)
    try:
        await conn.execute("INSERT INTO paperbot_migrations VALUES ($1, 'future', 'x')", newer)
    finally:
        await conn.close()
    with pytest.raises(RuntimeError, match=rf"schema version {newer} is newer.*upgrade paperbot"):
        await open_storage(postgres_schema)


async def test_concurrent_first_opens_migrate_once(postgres_schema):
    results = await asyncio.gather(
        *(open_storage(postgres_schema) for _ in range(4)), return_exceptions=True
    )
    for result in results:
        if not isinstance(result, BaseException):
            await result.close()
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    assert await applied_versions(postgres_schema) == list(range(1, len(migration_files()) + 1))


async def test_tables_and_columns_mirror_sqlite(postgres_storage, postgres_schema, tmp_path):
    """Same tables, same column names in the same order: rows copy straight across."""
    async with await open_storage(tmp_path / "mirror.db"):
        pass
    lite = sqlite3.connect(tmp_path / "mirror.db")
    conn = await asyncpg.connect(postgres_schema)
    try:
        for table in PORTABLE_TABLES:
            sqlite_columns = [r[1] for r in lite.execute(f"PRAGMA table_info({table})")]
            pg_columns = [
                r[0]
                for r in await conn.fetch(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND table_name = $1"
                    " ORDER BY ordinal_position",
                    table,
                )
            ]
            derived = DERIVED_COLUMNS.get(table, set())
            assert [c for c in pg_columns if c not in derived] == sqlite_columns, table
    finally:
        await conn.close()
        lite.close()


async def test_pg_trgm_lives_outside_the_test_schema(postgres_storage, postgres_url):
    """Dropping a tenant's (or test's) schema must never take the shared extension."""
    conn = await asyncpg.connect(postgres_url)
    try:
        schema = await conn.fetchval(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
        )
    finally:
        await conn.close()
    assert schema is not None and not schema.startswith("t_")


# -- data version and search ---------------------------------------------------------------


async def test_data_version_sees_other_processes(postgres_storage, postgres_schema, sample_bytes):
    async with await open_storage(postgres_schema) as other:
        before = await other.data_version()
        report = await ingest_bytes(postgres_storage, sample_bytes, "s.txt", today=TODAY)
        assert report.new == 98
        after_ingest = await other.data_version()
        assert after_ingest != before
        assert await other.data_version() == after_ingest  # stable while nothing changes
        [(pid, _, _)] = (await anext(other.paper_texts(batch=1)))[:1]
        await postgres_storage.replace_topic_assignments("1:x", [(pid, TopicHit("x", 1.0, ()))])
        assert await other.data_version() != after_ingest
        assert await postgres_storage.sync_search_index() == 0


@pytest.mark.parametrize(
    "query",
    [
        ParsedQuery(terms=("c++", "it's", "a:b", "\\", "'", '"x', "*", "")),
        ParsedQuery(prefixes=("pro'", "\\", "x:*", "a & b", "!"), phrases=(("it's", "a"),)),
        ParsedQuery(terms=("the", "of", "and")),  # stop words only: an empty tsquery
        ParsedQuery(),
    ],
)
async def test_hostile_parsed_queries_never_raise(postgres_storage, sample_bytes, query):
    await ingest_bytes(postgres_storage, sample_bytes, "s.txt", today=TODAY)
    for match_all in (True, False):
        hits = await postgres_storage.text_search(
            query, match_all=match_all, topic="llm", since=None, limit=5
        )
        assert isinstance(hits, list)
    assert isinstance(await postgres_storage.title_candidates(query, 5), list)
    assert isinstance(await postgres_storage.papers_by_name(["it's", "\\", ""]), list)


async def test_titles_rank_above_abstracts_and_names_are_found(postgres_storage, sample_bytes):
    await ingest_bytes(postgres_storage, sample_bytes, "s.txt", today=TODAY)
    hits = await postgres_storage.text_search(
        ParsedQuery(terms=("protein",)), match_all=True, topic=None, since=None, limit=5
    )
    titles = dict(await postgres_storage.titles([pid for pid, _ in hits]))
    assert "protein" in titles[hits[0][0]].casefold()
    assert hits == sorted(hits, key=lambda hit: -hit[1])
    [named] = await postgres_storage.papers_by_name(["loramoe"])
    assert (await postgres_storage.titles([named]))[0][1].startswith("LoRAMoE:")
