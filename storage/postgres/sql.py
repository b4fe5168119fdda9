"""`?` placeholders, as SQLite and the shared queries write them, in asyncpg's `$n`."""

from __future__ import annotations

import functools
import re

# String literals, quoted identifiers and comments are copied as they are: a `?` in
# them is text, not a parameter.
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|\?", re.DOTALL)


@functools.lru_cache(maxsize=512)
def numbered(sql: str) -> str:
    """`sql` with its `?` placeholders numbered `$1`, `$2`, … in order."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match[0] != "?":
            return match[0]
        count += 1
        return f"${count}"

    return _TOKEN.sub(number, sql)


def rows_changed(status: str) -> int:
    """How many rows a command changed, from asyncpg's status tag ('DELETE 1',
    'INSERT 0 1', 'UPDATE 0')."""
    count = status.rpartition(" ")[2]
    return int(count) if count.isdigit() else 0
