"""Small text helpers shared by parsing, dedupe and search.

Both helpers run for every ingested paper, so ASCII text (nearly all of it) takes a fast
path: NFKC leaves ASCII unchanged and casefolding it is plain lower-casing, so one
`bytes.translate` does the folding and the splitting into letters and digits. Other
text goes through NFKC, `casefold` and a Unicode regex; both paths give the same result
(a property test checks it).
"""

from __future__ import annotations

import functools
import re
import unicodedata

_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# ASCII: what `[^\W_]` matches is exactly [A-Za-z0-9], and casefold is lower().
_ASCII_ALNUM = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_LOWER = bytes(c + 32 if 65 <= c <= 90 else c for c in range(256))  # A-Z -> a-z
# Letters and digits lower-cased, every other byte a space (so `split()` finds words).
_WORD_BYTES = bytes(_LOWER[c] if c in _ASCII_ALNUM else 32 for c in range(256))
_NON_ALNUM_BYTES = bytes(c for c in range(256) if c not in _ASCII_ALNUM)

# Ingest tokenises each paper's title and abstract for topic tagging and again for the
# vocabulary; remembering the last few texts makes the second call free.
_TOKENS_CACHE = 64


def normalize_title(title: str) -> str:
    """The ID-less paper key: NFKC, casefold, alphanumerics only.

    `AstroM$^3$: A ...` and `astrom 3 a ...` give the same key, so reformatting and
    punctuation edits never create a second paper.
    """
    if title.isascii():
        return title.encode("ascii").translate(_LOWER, _NON_ALNUM_BYTES).decode("ascii")
    return _normalize_title_unicode(title)


def words(text: str) -> list[str]:
    """Casefolded alphanumeric words, in order (the same split FTS5's unicode61 makes)."""
    if text.isascii():
        return text.encode("ascii").translate(_WORD_BYTES).decode("ascii").split()
    return _words_unicode(text)


@functools.lru_cache(maxsize=_TOKENS_CACHE)
def word_tuple(text: str) -> tuple[str, ...]:
    """`words(text)` as a tuple, remembered for the last few texts (callers share it)."""
    return tuple(words(text))


def _words_unicode(text: str) -> list[str]:
    """`words` without the ASCII fast path (also the tests' reference)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def _normalize_title_unicode(title: str) -> str:
    """`normalize_title` without the ASCII fast path (also the tests' reference)."""
    return _NON_ALNUM.sub("", unicodedata.normalize("NFKC", title).casefold())


# Pairs of quotes a name may arrive wrapped in: typed out of habit around a value that
# needs none (`/topic add name:"Diffusion models"`), straight or curly.
_WRAPPING_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»"}


def unquoted(text: str) -> str:
    """`text` stripped, without one pair of quotes wrapping all of it."""
    text = text.strip()
    if len(text) >= 2 and _WRAPPING_QUOTES.get(text[0]) == text[-1]:
        return text[1:-1].strip()
    return text
