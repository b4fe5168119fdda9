"""Copy a whole paperbot database into another, across backends (`paperbot migrate-db`).

Backend-neutral: it only moves rows through `export_rows`/`import_rows`, so any pair of
backends works (SQLite to PostgreSQL, back, or SQLite to SQLite). Ids are kept, so
every reference (appearances to papers, deliveries to channels) stays valid.

Idempotent: rows already in the target are left alone, so a second run (or a run after
an interruption) only copies what is missing. To keep that safe, the target must be
empty or an earlier copy of this same source: merging two unrelated databases by id
would silently attach one's topics to the other's papers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict

from bot.core.outcomes import DeliveryStatus
from storage.base import PORTABLE_TABLES, Storage

# Meta keys that identify a database rather than describe its content: never copied.
SOURCE_ID = "database_id"
COPIED_FROM = "copied_from"
IDENTITY_KEYS = (SOURCE_ID, COPIED_FROM)


class MigrationRefused(ValueError):
    """The copy would mix unrelated data; the message says what to do instead."""


class TableCountJson(TypedDict):
    read: int
    new: int


class CopyReportJson(TypedDict):
    """`paperbot migrate-db --json`: rows read and newly written, per table and in all."""

    tables: dict[str, TableCountJson]
    read: int
    new: int


@dataclass
class TableCount:
    table: str
    read: int = 0
    new: int = 0

    @property
    def already(self) -> int:
        return self.read - self.new


@dataclass
class CopyReport:
    tables: list[TableCount] = field(default_factory=list)

    @property
    def read(self) -> int:
        return sum(t.read for t in self.tables)

    @property
    def new(self) -> int:
        return sum(t.new for t in self.tables)

    def to_dict(self) -> CopyReportJson:
        return {
            "tables": {t.table: {"read": t.read, "new": t.new} for t in self.tables},
            "read": self.read,
            "new": self.new,
        }


async def _identity(source: Storage) -> str:
    """A stable id for the source database, created on first use."""
    existing = await source.get_meta(SOURCE_ID)
    if existing:
        return existing
    created = uuid.uuid4().hex
    await source.set_meta(SOURCE_ID, created)
    return created


async def _check_target(target: Storage, source_id: str) -> None:
    copied_from = await target.get_meta(COPIED_FROM)
    if copied_from == source_id:
        return  # an earlier (perhaps interrupted) copy of the same source: resume it
    stats = await target.stats()
    deliveries = 0
    for status in DeliveryStatus:
        if status != DeliveryStatus.HELD:  # a claim's answer, never a stored row
            deliveries += len(await target.deliveries_in_state(status))
    held = {
        "papers": stats["papers"],
        "dumps": stats["dumps"],
        "channel digests": len(await target.channel_subscriptions()),
        "members": len(await target.user_deliveries()),
        "server topics": len(await target.guild_topics()),
        "deliveries": deliveries,
    }
    found = ", ".join(f"{count} {what}" for what, count in held.items() if count)
    if found:
        raise MigrationRefused(
            f"the target already holds {found} that did not come from this source;"
            " copy into an empty database"
        )


async def copy_database(
    source: Storage,
    target: Storage,
    progress: Callable[[TableCount], None] | None = None,
) -> CopyReport:
    """Copy every portable table from `source` to `target`; see the module docstring."""
    source_id = await _identity(source)
    await _check_target(target, source_id)
    # Marked before copying, so an interrupted copy can be resumed by running it again.
    await target.set_meta(COPIED_FROM, source_id)
    report = CopyReport()
    for table in PORTABLE_TABLES:
        count = TableCount(table)
        report.tables.append(count)
        async for rows in source.export_rows(table):
            if table == "meta":
                rows = [r for r in rows if r.get("key") not in IDENTITY_KEYS]
            count.read += len(rows)
            count.new += await target.import_rows(table, rows)
            if progress is not None:
                progress(count)
    await target.finish_import()
    return report
