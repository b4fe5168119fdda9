"""Row-level export and import for `paperbot migrate-db` (see PortableStorage)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

import aiosqlite

from storage.base import PORTABLE_TABLES, PortableRow, PortableStorage

# Meta keys that describe this file's derived data, never another database's.
LOCAL_META = ("search_index_seq",)


def _check(table: str) -> str:
    # Table names come from PORTABLE_TABLES only; they are never user input.
    if table not in PORTABLE_TABLES:
        raise ValueError(f"{table!r} is not a portable table")
    return table


class SqlitePortableStore(PortableStorage):
    _reader: aiosqlite.Connection

    if TYPE_CHECKING:  # provided by SqliteStorage (and its SqliteSearchStore)

        def write(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...

        async def sync_search_index(self) -> int: ...

    async def export_rows(self, table: str, batch: int = 5000) -> AsyncIterator[list[PortableRow]]:
        name = _check(table)
        where = ""
        if name == "meta":
            where = " WHERE key NOT IN (" + ", ".join(f"'{k}'" for k in LOCAL_META) + ")"
        async with self._reader.execute(f"PRAGMA table_info({name})") as cur:
            key = [row[1] for row in sorted(await cur.fetchall(), key=lambda r: r[5]) if row[5]]
        # Primary-key order, as the interface promises (a plain scan may follow an index).
        order = f" ORDER BY {', '.join(key)}" if key else ""
        async with self._reader.execute(f"SELECT * FROM {name}{where}{order}") as cur:
            columns = [d[0] for d in cur.description]
            while rows := await cur.fetchmany(batch):
                yield [dict(zip(columns, row, strict=True)) for row in rows]

    async def import_rows(self, table: str, rows: Sequence[PortableRow]) -> int:
        name = _check(table)
        if not rows:
            return 0
        columns = list(rows[0])
        sql = (
            f"INSERT OR IGNORE INTO {name} ({', '.join(columns)})"
            f" VALUES ({', '.join('?' for _ in columns)})"
        )
        async with self.write() as conn:
            # rowcount counts the rows this statement inserted, not the change-log rows
            # its triggers wrote (total_changes would).
            cursor = await conn.executemany(sql, [tuple(row[c] for c in columns) for row in rows])
            return max(cursor.rowcount, 0)

    async def finish_import(self) -> None:
        # INTEGER PRIMARY KEY needs no sequence reset; the search index catches up from
        # the change log the imported rows wrote.
        await self.sync_search_index()
