"""Databases a test starts from: on SQLite, built once per test process and copied for
each test; on PostgreSQL, built in a fresh schema for each test.

Building one (running the migrations, ingesting the sample dump or a corpus) cost more
than most tests that use it: ingesting the sample is about 0.15 s of CPU. A SQLite copy
is a file copy of the database and its search index. Each test still gets a database of
its own, built by the same code, which it may change freely: a template is never opened
again after it is built.

PostgreSQL has no cheap copy of a schema. `CREATE DATABASE … TEMPLATE` was measured
and left out: it cost the server more CPU than migrating a fresh schema (87 s against
70 s over six storage test files) and waits on the disk for 0.2–0.6 s a copy. A test
on PostgreSQL gets a migrated schema another test emptied (tests/postgres_schemas.py),
and its build runs there.

A template is built by an async function of an open Storage (None: migrated, empty),
named by the function's module and name: a build must make the same database whenever
it runs. It is built while the first test that asks for it sets up, before that test's
body patches anything.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from storage import Storage, open_storage
from tests.postgres_schemas import PostgresSchemas, with_search_path

Build = Callable[[Storage], Awaitable[object]]


async def _built(location: str | Path, build: Build | None) -> None:
    store = await open_storage(location)
    try:
        if build is not None:
            await build(store)
    finally:
        await store.close()


def copy_database(source: Path, to: Path) -> Path:
    """Copy the closed SQLite database `source` to `to`, with everything beside it that
    is its own (journal files, the search index and its lock file)."""
    for own in source.parent.glob(f"{source.name}*"):
        target = to.with_name(to.name + own.name[len(source.name) :])
        if own.is_dir():
            shutil.copytree(own, target)
        else:
            shutil.copy2(own, target)
    return to


class DatabaseCopies:
    """This test process's SQLite templates, in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._templates: dict[str, Path] = {}
        self._postgres: dict[str, PostgresSchemas] = {}

    async def sqlite_copy(self, build: Build | None, to: Path) -> Path:
        """A copy at `to` of the template `build` makes: the database and everything
        beside it that is its own (journal files, the search index and its lock file)."""
        key = "" if build is None else f"{build.__module__}.{build.__qualname__}"
        template = self._templates.get(key)
        if template is None:
            template = self.folder / f"template{len(self._templates)}" / "paperbot.db"
            template.parent.mkdir(parents=True)
            await _built(template, build)
            self._templates[key] = template
        return copy_database(template, to)

    @asynccontextmanager
    async def open(
        self, backend: str, build: Build | None, tmp_path: Path, postgres_url: str = ""
    ) -> AsyncIterator[Storage]:
        """An open Storage of `backend` ("sqlite" or "postgres") holding what `build`
        makes: on SQLite a copy of its template at tmp_path / "paperbot.db", on
        PostgreSQL a fresh schema of the server at `postgres_url`, dropped afterwards."""
        if backend == "sqlite":
            store = await open_storage(await self.sqlite_copy(build, tmp_path / "paperbot.db"))
            try:
                yield store
            finally:
                await store.close()
            return
        schemas = self._postgres.get(postgres_url)
        if schemas is None:
            schemas = self._postgres[postgres_url] = PostgresSchemas(postgres_url)
        schema = await schemas.take()
        try:
            store = await open_storage(with_search_path(postgres_url, schema))
            try:
                if build is not None:
                    await build(store)
                yield store
            finally:
                await store.close()
        finally:
            await schemas.give_back(schema)

    def close(self) -> None:
        """Drop this process's PostgreSQL schemas."""
        for schemas in self._postgres.values():
            schemas.drop_all()
