"""Shared fixtures: a real SQLite file in a temp dir, a real PostgreSQL schema, and the
bundled sample dump.

`storage` is SQLite. `backend_storage` runs a test once per backend (SQLite in
tmp_path, PostgreSQL in a schema of the test server of its own); a SQLite one is a copy
of a template built once per test process, a PostgreSQL one a migrated schema emptied
after the test before it (tests/database_copies.py).
The server comes from PAPERBOT_TEST_DATABASE_URL (default below); if it cannot be
reached the PostgreSQL tests fail, telling how to start it: they are never skipped.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import asyncpg
import pytest

import bot
from bot.core.ingest import ingest_bytes
from storage import Storage, open_storage
from storage.sqlite.search_index import SearchIndex
from storage.urls import redact
from tests.database_copies import Build, DatabaseCopies
from tests.postgres_schemas import create_schema, drop_schema, with_search_path
from tests.relevance_dumps import real_papers_index

OpenCopy = Callable[..., AbstractAsyncContextManager[Storage]]

SAMPLE_DUMP = Path(bot.__file__).parent / "data" / "sample_dump.txt"
# The sample's date line says `Mar 14` with no year; with this "today" it is 2026-03-14.
TODAY = dt.date(2026, 11, 26)
SAMPLE_DAY = dt.date(2026, 3, 14)

# The reliability table: a plugin, so that pytest-xdist's controller, which collects no
# tests, loads it too and prints the rows its workers hand back.
pytest_plugins = ["tests.reliability.summary"]


@pytest.fixture
def sample_bytes() -> bytes:
    return SAMPLE_DUMP.read_bytes()


@pytest.fixture(scope="session")
def database_copies(tmp_path_factory) -> Iterator[DatabaseCopies]:
    """This test process's template databases (tests/database_copies.py)."""
    copies = DatabaseCopies(tmp_path_factory.mktemp("templates"))
    try:
        yield copies
    finally:
        copies.close()


@pytest.fixture
async def storage(tmp_path, database_copies):
    """A migrated, empty SQLite database at tmp_path / "paperbot.db"."""
    async with database_copies.open("sqlite", None, tmp_path) as store:
        yield store


async def ingest_sample(store: Storage) -> None:
    report = await ingest_bytes(store, SAMPLE_DUMP.read_bytes(), "sample_dump.txt", today=TODAY)
    assert report.error is None, report.error
    assert report.new == 98


@pytest.fixture
async def sample_storage(tmp_path, database_copies):
    """`storage` holding the sample dump (98 papers on SAMPLE_DAY)."""
    async with database_copies.open("sqlite", ingest_sample, tmp_path) as store:
        yield store


# -- PostgreSQL ------------------------------------------------------------------------

DEFAULT_TEST_DATABASE_URL = "postgresql://paperbot:paperbot@127.0.0.1:5432/paperbot_test"


@pytest.fixture(scope="module")
def real_index(tmp_path_factory) -> Iterator[SearchIndex]:
    """The 4,787 real papers' tantivy index, built once for a module's tests."""
    index = real_papers_index(tmp_path_factory.mktemp("real") / "index")
    yield index
    index.close()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test server's URL, checked once per session: unreachable means fail."""
    url = os.environ.get("PAPERBOT_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)

    async def check() -> None:
        conn = await asyncpg.connect(url, timeout=5)
        await conn.close()

    # A thread of its own: this may run while a test's event loop is running.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        try:
            pool.submit(asyncio.run, check()).result()
        except Exception as exc:
            pytest.fail(
                f"PostgreSQL test server unreachable at {redact(url)} ({exc}). Start one with"
                " `bash .ci/postgres`, or point PAPERBOT_TEST_DATABASE_URL at a server where"
                " the user may create schemas.",
                pytrace=False,
            )
    return url


@pytest.fixture
async def postgres_schema(postgres_url) -> AsyncIterator[str]:
    """A fresh, empty schema for one test; the URL selecting it. Dropped afterwards."""
    name = await create_schema(postgres_url)
    try:
        yield with_search_path(postgres_url, name)
    finally:
        await drop_schema(postgres_url, name)


@pytest.fixture
async def postgres_storage(postgres_schema) -> AsyncIterator[Storage]:
    store = await open_storage(postgres_schema)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    """Runs a test once per backend."""
    return request.param


@pytest.fixture
def backend_copy(request, backend, tmp_path, database_copies) -> OpenCopy:
    """`backend_copy(build)`: an async context manager opening what `build` makes on
    this test's backend (on SQLite, a copy of the template it made once)."""
    # Requested here rather than as an argument so SQLite runs need no server.
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else ""

    def open_copy(build: Build | None = None) -> AbstractAsyncContextManager[Storage]:
        return database_copies.open(backend, build, tmp_path, url)

    return open_copy


@pytest.fixture
async def backend_storage(backend_copy) -> AsyncIterator[Storage]:
    """An open, empty Storage of each backend in turn."""
    async with backend_copy() as store:
        yield store


@pytest.fixture
async def backend_sample_storage(backend_copy) -> AsyncIterator[Storage]:
    """`backend_storage` holding the sample dump (98 papers on SAMPLE_DAY)."""
    async with backend_copy(ingest_sample) as store:
        yield store


def backend_of(store: Storage) -> str:
    return "postgres" if hasattr(store, "url") else "sqlite"


def location_of(store: Storage) -> str:
    """What `open_storage` takes to open the same database again (another "process")."""
    return store.url if backend_of(store) == "postgres" else store.path


async def assert_index_matches(store, sample: int = 25) -> None:
    """The search index holds exactly the stored papers, once each (SQLite's derived
    index; PostgreSQL's is maintained with the rows), and finds papers by their current
    titles: what crash and update tests check after the fact."""
    from bot.core.query import parse_query

    await store.sync_search_index()
    papers = await store.all_titles()
    if hasattr(store, "search_index"):
        indexed = store.search_index.all_ids()
        assert sorted(indexed) == sorted(pid for pid, _ in papers), "index and papers differ"
    step = max(1, len(papers) // sample)
    for paper_id, title in papers[::step]:
        hits = await store.text_search(
            parse_query(title), match_all=True, topic=None, since=None, limit=500
        )
        assert paper_id in [pid for pid, _ in hits], f"{title!r} not found by its title"


async def reopen_with_index_version(store: Storage, old: str) -> tuple[Storage, Path]:
    """Close `store` (SQLite), mark its search index as written in format `old`, as an
    index from before that format would say, and open the database again. Returns the
    reopened storage (the caller closes it) and the index's version file."""
    from storage.sqlite.search_index import SCHEMA_VERSION

    path = store.path
    await store.close()
    version = Path(f"{path}.search") / "paperbot-index-version"
    assert version.read_text() == SCHEMA_VERSION != old
    version.write_text(old)
    return await open_storage(path), version
