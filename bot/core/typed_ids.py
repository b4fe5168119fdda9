"""Numbers people type for stored rows: a paper's id (`40`, `#40`) and a Discord user
id. Only ASCII digits count (`²` and `٣` are digits to `str.isdigit` but no id
anyone was shown), and only what both databases can hold: SQLite's INTEGER and
PostgreSQL's BIGINT stop at 2**63 - 1, and a larger number would fail inside the
query instead of finding nothing."""

from __future__ import annotations

MAX_STORED_ID = 2**63 - 1


def typed_id(text: str) -> int | None:
    """`text` (spaces around it allowed) as a stored row's id, or None when it is not
    one: not all ASCII digits, 0, or beyond what a database row id can be."""
    digits = text.strip()
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    value = int(digits)
    return value if 0 < value <= MAX_STORED_ID else None
