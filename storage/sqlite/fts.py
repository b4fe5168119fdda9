"""Turning a ParsedQuery into an FTS5 MATCH expression that can never be a syntax error.

Every token is wrapped in double quotes (with any inner quote doubled), so FTS5 reads
it as a string and never as an operator, column filter or special query.
"""

from __future__ import annotations

from bot.core.models import ParsedQuery


def quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def match_expression(query: ParsedQuery, *, match_all: bool) -> str | None:
    """The MATCH string, or None when the query has nothing searchable."""
    parts = [quote(term) for term in query.terms if term]
    parts += [quote(prefix) + "*" for prefix in query.prefixes if prefix]
    parts += [quote(" ".join(phrase)) for phrase in query.phrases if phrase]
    if not parts:
        return None
    return (" AND " if match_all else " OR ").join(parts)
