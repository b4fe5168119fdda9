"""Connecting to PostgreSQL the way paperbot needs it, and running migrations.

The URL is a libpq-style `postgresql://user:password@host:port/db?setting=value`;
asyncpg passes unknown query parameters on as server settings, so `?search_path=x`
selects a schema. Errors never show the password.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import asyncpg

from storage.migrations import Migration, bundled_migrations, pending
from storage.urls import redact

CONNECT_TIMEOUT = 10.0
POOL_MIN, POOL_MAX = 1, 5
# pg_advisory_xact_lock keys. First-time migrations by two processes: database-wide,
# as a migration may create pg_trgm, which a database holds once.
MIGRATE_LOCK = 0x7061_7065_7262_0001
# Writers of papers (ingests must not dedupe against each other's uncommitted rows):
# per schema, the two-key form with the schema's hash as its second key, so that bots
# sharing one database in schemas of their own never wait on each other's ingests and
# imports. (PostgreSQL keeps one-key and two-key locks apart; a hash collision between
# two schemas only makes them wait, as before.)
PAPERS_LOCK_CLASS = 0x7062_0002
PAPERS_LOCK_SQL = "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))"


def _where(url: str) -> str:
    """`host:port/db` for error messages."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        port = parts.port or 5432
    except ValueError:
        return redact(url)
    return f"{host}:{port}{parts.path or '/'}"


def _clean(message: str, url: str) -> str:
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    return message.replace(password, "***") if password else message


def migrations() -> list[Migration]:
    """(version, file name, SQL) for every bundled migration, in order."""
    return bundled_migrations("storage.postgres")


async def connect(url: str) -> asyncpg.Connection:
    """One connection; an unreachable server or a bad URL is a one-line error naming
    the host (ConnectionError, or ValueError for a malformed URL)."""
    try:
        return await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    except ValueError as exc:  # asyncpg's ClientConfigurationError is one too
        raise ValueError(f"invalid PostgreSQL URL {redact(url)}: {_clean(str(exc), url)}") from None
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise _unreachable(url, exc) from None


def _unreachable(url: str, exc: BaseException) -> ConnectionError:
    reason = _clean(str(exc) or type(exc).__name__, url)
    return ConnectionError(f"cannot connect to PostgreSQL at {_where(url)}: {reason}")


async def prepare(url: str) -> str:
    """Migrate the database (once, whoever comes first) and return the search_path
    every pool connection should use."""
    conn = await connect(url)
    try:
        search_path = await conn.fetchval("SHOW search_path")
        try:
            ext_schema = await migrate(conn)
        except asyncpg.PostgresError as exc:
            raise RuntimeError(f"cannot migrate PostgreSQL database {_where(url)}: {exc}") from None
        if ext_schema not in await conn.fetchval("SELECT current_schemas(false)"):
            quoted = await conn.fetchval("SELECT quote_ident($1)", ext_schema)
            search_path = f"{search_path}, {quoted}"
        return search_path
    finally:
        await conn.close()


async def create_pool(url: str, search_path: str) -> asyncpg.Pool:
    # Explicit server_settings win over the URL's; RESET ALL on release keeps them.
    try:
        return await asyncpg.create_pool(
            url,
            min_size=POOL_MIN,
            max_size=POOL_MAX,
            timeout=CONNECT_TIMEOUT,
            server_settings={"search_path": search_path},
        )
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise _unreachable(url, exc) from None


async def _extension_schema(conn: asyncpg.Connection) -> str:
    """Create pg_trgm if missing and make its schema visible to this transaction.

    A new extension goes into `public`, not the first schema of the search_path: a
    per-test or per-tenant schema may be dropped, and the extension (shared by the
    whole database) must not go with it."""
    await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    schema = await conn.fetchval(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'pg_trgm'"
    )
    await conn.execute(
        "SELECT set_config('search_path', current_setting('search_path') || ', '"
        " || quote_ident($1), true)",
        schema,
    )
    return str(schema)


async def migrate(conn: asyncpg.Connection) -> str:
    """Apply every migration newer than the recorded version; returns the schema that
    holds pg_trgm. All of it is one transaction under an advisory lock: two processes
    opening a fresh database migrate it exactly once (the second then finds nothing to
    do), and a failure leaves the previous version intact (DDL is transactional)."""
    known = migrations()
    # Checked before pg_trgm's schema joins the path: tables must never land there
    # because the schema the URL names does not exist.
    schema = await conn.fetchval("SELECT current_schema()")
    if schema is None:
        path = await conn.fetchval("SHOW search_path")
        raise RuntimeError(f"no schema of search_path {path!r} exists; create it first")
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATE_LOCK)
        ext_schema = await _extension_schema(conn)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS paperbot_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        for version, name, sql in pending(known, await schema_version(conn)):
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO paperbot_migrations VALUES ($1, $2, $3)",
                version,
                name,
                dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            )
    return ext_schema


async def schema_version(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM paperbot_migrations"))
