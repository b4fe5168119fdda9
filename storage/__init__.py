"""Storage backends. `open_storage` picks one from a URL or a path."""

from __future__ import annotations

from pathlib import Path

from storage.base import IngestTransaction, Storage

__all__ = ["IngestTransaction", "Storage", "open_storage", "sqlite_path"]


def sqlite_path(url_or_path: str | Path) -> str:
    """`sqlite:///rel/or/abs.db`, `sqlite:////abs.db` or a plain path -> a file path."""
    text = str(url_or_path)
    if text.startswith("sqlite:///"):
        return text[len("sqlite:///") :]
    if "://" in text:
        raise ValueError(f"unsupported database URL {text!r}; use sqlite:///PATH or a file path")
    return text


async def open_storage(url_or_path: str | Path) -> Storage:
    """Open (creating and migrating as needed) the database named by a URL or path."""
    from storage.sqlite.store import SqliteStorage

    return await SqliteStorage.open(sqlite_path(url_or_path))
