"""Words into hashed feature ids: the sparse half of a paper vector.

Features are the paper's words and word pairs (1–2-grams of lowercased words of two or
more letters, English stop words dropped) hashed into a fixed space of `N_FEATURES`
buckets with MurmurHash3 (32 bits, seed 0): the same analysis and buckets as
scikit-learn's ``HashingVectorizer(ngram_range=(1, 2), stop_words="english",
alternate_sign=False)``, which the stored vectors were first made with, computed here
with the standard library and `mmh3` (scikit-learn costs ~60 MB of resident memory to
import). MurmurHash3 gives the same bucket in every process and on every platform,
which Python's own (salted) `hash` would not.

Hashing needs no vocabulary, so a paper can be vectorised the day it arrives and its
vector never goes stale when new words appear; how much each feature weighs (its IDF)
is applied later, from `CorpusStats`, at the time of use.
"""

from __future__ import annotations

import functools
import itertools
import re
import sys
import unicodedata
from collections.abc import Sequence
from importlib import resources

import mmh3
import numpy as np

from bot.services.relevance.sparse_rows import SparseRows

# 2^20 buckets: the words and word pairs of a million abstracts collide rarely enough,
# and a document-frequency table over them is 4 MB.
N_FEATURES = 1 << 20
# The title is the densest statement of what a paper is about: it counts twice.
TITLE_REPEAT = 2
_WORD = re.compile(r"(?u)\b\w\w+\b")
STOP_WORDS_FILE = "english_stop_words.txt"
# Texts whose terms are held at once while counting: keeps the strings of a large batch
# from all being alive together.
_TEXTS_AT_ONCE = 64


@functools.cache
def stop_words() -> frozenset[str]:
    """The English stop words (``bot/data/english_stop_words.txt``, where their source is
    noted): words too common to say what a paper is about."""
    text = (resources.files("bot") / "data" / STOP_WORDS_FILE).read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def paper_text(title: str, abstract: str) -> str:
    """The text a paper's features are drawn from."""
    return ". ".join([_clean(title)] * TITLE_REPEAT + [_clean(abstract)])


def _clean(text: str) -> str:
    # NFKC folds ligatures and full-width letters, so "ﬁne-tuning" hashes as "fine".
    return unicodedata.normalize("NFKC", text or "")


def terms(text: str) -> list[str]:
    """The features of `text` as words ("decoding", "speculative decoding"): its words
    in order, then its word pairs in order."""
    words = _words(text)
    return words + _pairs(words)


# ASCII text (nearly every paper) without the regex: in ASCII, `\w` is a letter, a digit
# or "_", so the words `_WORD` finds are the runs of those of two or more characters.
# One `bytes.translate` lower-cases the text and blanks every other byte; the runs of
# one character are dropped with the stop words.
_WORD_BYTES = bytes(
    c | 32 if 65 <= c <= 90 else c if chr(c).isascii() and (chr(c).isalnum() or c == 95) else 32
    for c in range(256)
)


@functools.cache
def _skipped() -> frozenset[str]:
    """The stop words and every one-character word of ASCII text."""
    return stop_words() | {chr(c) for c in _WORD_BYTES if c != 32}


def _words(text: str) -> list[str]:
    # filterfalse and map below keep the loops in C: this runs for every paper encoded
    if text.isascii():
        found = text.encode("ascii").translate(_WORD_BYTES).decode("ascii").split()
        return list(itertools.filterfalse(_skipped().__contains__, found))
    return list(itertools.filterfalse(stop_words().__contains__, _WORD.findall(text.lower())))


def _pairs(words: Sequence[str]) -> list[str]:
    return list(map(" ".join, itertools.pairwise(words)))


def feature_id(term: str) -> int:
    """The bucket `count_features` puts `term` in (unsigned MurmurHash3 of its UTF-8)."""
    return abs(mmh3.hash(term)) % N_FEATURES


def feature_ids(words: Sequence[str]) -> np.ndarray:
    """`feature_id` of each of `words`, int64."""
    hashes = np.fromiter(map(mmh3.hash, words), dtype=np.int64, count=len(words))
    return np.abs(hashes) % N_FEATURES


def count_features(texts: Sequence[str]) -> SparseRows:
    """Raw feature counts, one row per text (feature ids ascending, counts as float32)."""
    indptr = [np.zeros(1, dtype=np.int64)]
    indices, counts = [], []
    for first in range(0, len(texts), _TEXTS_AT_ONCE):
        step = _count(texts[first : first + _TEXTS_AT_ONCE])
        indptr.append(step.indptr[1:] + indptr[-1][-1])
        indices.append(step.indices)
        counts.append(step.values)
    if not indices:
        return SparseRows(indptr[0], np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))
    return SparseRows(np.concatenate(indptr), np.concatenate(indices), np.concatenate(counts))


def _count(texts: Sequence[str]) -> SparseRows:
    per_text = [terms(text) for text in texts]
    lengths = np.fromiter(map(len, per_text), dtype=np.int64, count=len(per_text))
    ids = feature_ids([term for found in per_text for term in found])
    # One key per (text, feature): sorting them sorts by text, then by feature.
    keys = np.repeat(np.arange(len(texts), dtype=np.int64), lengths) * N_FEATURES + ids
    keys, counts = np.unique(keys, return_counts=True)
    rows = keys // N_FEATURES
    indptr = np.searchsorted(rows, np.arange(len(texts) + 1), side="left").astype(np.int64)
    return SparseRows(indptr, (keys % N_FEATURES).astype(np.int32), counts.astype(np.float32))


class TermNames:
    """Which term of a text each of its buckets holds (the first, in `terms` order):
    turns a vector's weights back into words. Kept small, as one is kept per paper of a
    day while members are ranked: the words once (interned, shared between papers), the
    distinct buckets and where each first occurs; word pairs are joined when asked for."""

    __slots__ = ("_buckets", "_first", "_words")

    def __init__(self, text: str) -> None:
        words = [sys.intern(word) for word in _words(text)]
        self._words = tuple(words)
        buckets, first = np.unique(feature_ids(words + _pairs(words)), return_index=True)
        self._buckets = buckets.astype(np.int32)
        self._first = first.astype(np.int32)

    def names(self, buckets: np.ndarray) -> list[str | None]:
        """The term in each of `buckets`, None where the text has none."""
        if not len(self._buckets):
            return [None] * len(buckets)
        where = np.minimum(np.searchsorted(self._buckets, buckets), len(self._buckets) - 1)
        found = self._buckets[where] == buckets
        return [
            self._term(int(position)) if hit else None
            for position, hit in zip(self._first[where], found, strict=True)
        ]

    def _term(self, position: int) -> str:
        n = len(self._words)
        if position < n:
            return self._words[position]
        return f"{self._words[position - n]} {self._words[position - n + 1]}"
