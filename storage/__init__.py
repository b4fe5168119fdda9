"""Storage backends. `open_storage` picks one from a URL or a path."""

from __future__ import annotations

from pathlib import Path

from storage.base import IngestTransaction, Storage
from storage.urls import is_postgres_url

__all__ = ["IngestTransaction", "Storage", "open_storage", "sqlite_path"]


def sqlite_path(url_or_path: str | Path) -> str:
    """`sqlite:///rel/or/abs.db`, `sqlite:////abs.db` or a plain path -> a file path."""
    text = str(url_or_path)
    if text.startswith("sqlite:///"):
        return text[len("sqlite:///") :]
    if "://" in text:
        # Only the scheme is echoed: the rest may hold a password.
        raise ValueError(
            f"unsupported database URL {text.split('://', 1)[0]}://…;"
            " use sqlite:///PATH, a file path or postgresql://USER:PASSWORD@HOST/DB"
        )
    return text


async def open_storage(url_or_path: str | Path) -> Storage:
    """Open (creating and migrating as needed) the database named by a URL or path.

    PostgreSQL failures are one-line errors that name the host, never the password:
    ConnectionError (an OSError) when the server cannot be reached, ValueError for a
    malformed URL, RuntimeError when the schema cannot be migrated."""
    if is_postgres_url(url_or_path):  # postgresql://… or postgres://…
        from storage.postgres.store import PostgresStorage

        return await PostgresStorage.open(str(url_or_path).strip())
    from storage.sqlite.store import SqliteStorage

    return await SqliteStorage.open(sqlite_path(url_or_path))
