"""Opening a SQLite database the way paperbot needs it, and running migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiosqlite

from storage.migrations import Migration, bundled_migrations, pending

BUSY_TIMEOUT_MS = 10_000


def migrations() -> list[Migration]:
    """(version, file name, SQL) for every bundled migration, in order."""
    return bundled_migrations("storage.sqlite")


async def connect(path: str | Path) -> aiosqlite.Connection:
    """A connection in autocommit mode (we issue BEGIN ourselves), WAL and a busy timeout."""
    if str(path) != ":memory:":
        if Path(path).is_dir():
            raise sqlite3.OperationalError("it is a folder, not a database file")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = aiosqlite.connect(str(path), isolation_level=None)
    try:
        await conn
    except BaseException:
        # aiosqlite stops its worker thread without waiting for it; the thread then
        # reports back to the event loop, which must still be running (else a traceback
        # from the thread lands on the user's terminal after the one-line error).
        worker = getattr(conn, "_thread", None)
        if worker is not None and worker.is_alive():
            await asyncio.to_thread(worker.join, 5)
        raise
    try:
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable across application crashes in WAL mode; only an OS crash
        # can lose the last commits, which a re-ingest of the same dump repairs.
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        await conn.close()
        raise
    return conn


async def migrate(conn: aiosqlite.Connection) -> int:
    """Apply every migration newer than `PRAGMA user_version`; returns the new version.

    Each migration and its version bump commit together, so a crash mid-migration
    leaves the previous version intact.
    """
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    current = int(row[0]) if row else 0
    for version, _name, sql in pending(migrations(), current):
        await conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the write lock.
            async with conn.execute("PRAGMA user_version") as cur:
                row = await cur.fetchone()
            if row and int(row[0]) >= version:
                await conn.execute("COMMIT")
                current = int(row[0])
                continue
            for statement in _split_sql(sql):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {version}")
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        current = version
    return current


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements: list[str] = []
    buffer: list[str] = []
    in_trigger = False
    for line in script.splitlines():
        stripped = line.strip()
        if not buffer and (not stripped or stripped.startswith("--")):
            continue
        buffer.append(line)
        upper = stripped.upper()
        if upper.startswith("CREATE TRIGGER"):
            in_trigger = True
        if in_trigger:
            if upper.startswith("END;"):
                statements.append("\n".join(buffer))
                buffer, in_trigger = [], False
        elif stripped.endswith(";"):
            statements.append("\n".join(buffer))
            buffer = []
    if any(part.strip() for part in buffer):
        statements.append("\n".join(buffer))
    return statements
