"""Small text helpers shared by parsing, dedupe and search."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def normalize_title(title: str) -> str:
    """The ID-less paper key: NFKC, casefold, alphanumerics only.

    `AstroM$^3$: A ...` and `astrom 3 a ...` give the same key, so reformatting and
    punctuation edits never create a second paper.
    """
    folded = unicodedata.normalize("NFKC", title).casefold()
    return _NON_ALNUM.sub("", folded)


def words(text: str) -> list[str]:
    """Casefolded alphanumeric words, in order (the same split FTS5's unicode61 makes)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
