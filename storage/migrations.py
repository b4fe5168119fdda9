"""The numbered migrations bundled with each backend: one loader for both.

Each backend keeps its own SQL in `storage/<backend>/migrations/NNN_name.sql` (their
schemas differ: FTS and triggers on SQLite, tsvector and advisory locks on
PostgreSQL); how the files are found, ordered and checked is the same.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import NamedTuple

_MIGRATION_NAME = re.compile(r"^(\d+)_[\w-]+\.sql$")


class Migration(NamedTuple):
    version: int
    name: str  # the file name, e.g. 002_discord.sql
    sql: str


def bundled_migrations(package: str) -> list[Migration]:
    """Every migration in `package`'s migrations folder, in order; RuntimeError unless
    they are numbered 1..N without gaps."""
    folder = resources.files(package).joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [m.version for m in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..N without gaps, found {versions}")
    return found


def pending(known: list[Migration], current: int) -> list[Migration]:
    """The migrations a database at schema version `current` still needs; RuntimeError
    when it is newer than this paperbot knows (an older paperbot must not touch it)."""
    if current > len(known):
        raise RuntimeError(
            f"database schema version {current} is newer than this paperbot ({len(known)}); "
            "upgrade paperbot"
        )
    return [m for m in known if m.version > current]
