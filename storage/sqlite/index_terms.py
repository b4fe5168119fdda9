"""The terms the search index is built and asked with: stems, word pairs, prefixes.

`en_stem` (tantivy's stemming analyzer) makes the terms of the title and abstract
fields. The pair fields hold adjacent pairs of those terms (every pair in titles,
common-word pairs in abstracts), worked out here in Python so that they match the
analyzer's terms and positions exactly; so do the title prefixes autocomplete looks up.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import tantivy

import bot as bot_package
from bot.core.text import words

TITLE_BOOST = 10.0  # a title hit counts ten abstract hits, as with bm25 weights before
# Autocomplete looks the half-typed last word up as one term: every title word is also
# indexed as its beginnings (`p pr pro ... protein`), up to this many characters. A
# longer typed word is cut to it (more candidates; rapidfuzz orders them anyway).
PREFIX_CHARS = 12
_ALNUM = re.compile(r"^[^\W_]+$")
COMMON_WORDS = Path(bot_package.__file__).parent / "data" / "common_words.txt"
# The pair field of each text field a phrase can be asked of.
PAIR_FIELDS = {"title": "title_pairs", "abstract": "abstract_pairs"}
WRITTEN_PAIRS = "title_written_pairs"
# What a regex needs escaped (regex-syntax's meta characters); all else is literal.
_REGEX_META = frozenset("\\.+*?()|[]{}^$#&-~")


def recency(days: int, paper_id: int) -> int:
    """A paper's place in newest-first order: its last day, then its id. Ids stay far
    below 2**32 (a million papers a year for four thousand years)."""
    return (days << 32) | paper_id


def title_prefixes(title: str) -> str:
    """`Protein LMs` -> `p pr pro prot ... protein l lm lms`: each distinct word of the
    title (as `bot.core.text.words` splits it) and all its beginnings."""
    out: set[str] = set()
    for word in words(title):
        # The beginnings, shortest first, by a loop in C: `p`, `pr`, `pro`, ...
        out.update(itertools.accumulate(word[:PREFIX_CHARS]))
    return " ".join(out)


@functools.cache
def _analyzer() -> tantivy.TextAnalyzer:
    """tantivy's built-in `en_stem` chain, rebuilt to see its tokens from Python: the
    pairs must be made of exactly the terms (and positions) the text fields hold."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def stem_tokens(text: str) -> list[str]:
    """The terms `en_stem` makes of `text`, in order."""
    return _analyzer().analyze(text)


@functools.cache
def common_stems() -> frozenset[str]:
    """The fixed common-word list (stems, one a line; `#` starts a comment)."""
    lines = COMMON_WORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(w for line in lines if (w := line.split("#", 1)[0].strip()))


# `en_stem` on ASCII text, without crossing into Rust for every word: the simple
# tokenizer's words are the runs of ASCII letters and digits, and words of 40 or more
# bytes are dropped (keeping their position). Other text goes through the analyzer.
_NOT_ALNUM = str.maketrans({c: " " for c in map(chr, range(128)) if not c.isalnum()})
MAX_WORD = 40
# Distinct lower-cased words (a few MB): the frequent ones fill it first; past it, a
# word (most likely a one-paper name) is stemmed each time.
_STEM_CACHE_SIZE = 50_000
_stems: dict[str, str] = {}


def _stem(word: str) -> str:
    """The stem of one lower-cased ASCII word, cached: analysing each word of every
    abstract in Rust cost more than indexing the abstract."""
    stem = _stems.get(word)
    if stem is None:
        stem = _analyzer().analyze(word)[0]
        if len(_stems) < _STEM_CACHE_SIZE:
            _stems[word] = stem
    return stem


def _terms(text: str) -> list[str | None]:
    """The terms `en_stem` makes of `text`, indexed by position (None where a word too
    long to index keeps its position)."""
    if not text.isascii():
        out: list[str | None] = []
        for token in _analyzer().pre_tokenize(text).tokens:
            out += [None] * (token.position - len(out))
            out.append(token.text)
        return out
    known = _stems.get
    return [
        (known(word) or _stem(word)) if len(word) < MAX_WORD else None
        for word in text.lower().translate(_NOT_ALNUM).split()
    ]


def _common_pairs(text: str, every: bool = False) -> tuple[int, list[tuple[str, int]]]:
    """The number of terms in `text`, and (`first second`, position of first) for each
    two adjacent common-word terms (any two with `every`). Adjacent means consecutive
    positions: a word too long to index leaves a gap."""
    terms = _terms(text)
    kept = terms
    if not every:
        common = common_stems()
        kept = [t if t in common else None for t in terms]
    pairs = [(f"{a} {b}", i) for i, (a, b) in enumerate(itertools.pairwise(kept)) if a and b]
    return sum(t is not None for t in terms), pairs


# Lower-cased ASCII word -> its stem when that is a common word, else "" (a rarer word,
# or one too long to index): all the pairs need of a word, in one lookup. Indexing
# every abstract looks up each of its words; past the limit (most words then seen are
# one-paper names), a word is worked out each time.
_COMMON_CACHE_SIZE = 100_000
_common_of: dict[str, str] = {}


def _common_of_word(word: str) -> str:
    found = ""
    if len(word) < MAX_WORD:
        stem = _stem(word)
        found = stem if stem in common_stems() else ""
    if len(_common_of) < _COMMON_CACHE_SIZE:
        _common_of[word] = found
    return found


def _ascii_pairs(text: str) -> list[tuple[str, int]]:
    """`_common_pairs(text)[1]` for ASCII text, with the loops over its words in C: the
    words' common stems (or "") by one lookup each, then the positions holding a
    common stem, then the adjacent ones among those few."""
    split = words(text)  # on ASCII, the words `_terms` splits out, lower-cased
    try:
        marks = list(map(_common_of.__getitem__, split))
    except KeyError:  # a word not seen before
        known = _common_of.get
        marks = [m if (m := known(w)) is not None else _common_of_word(w) for w in split]
    at = list(itertools.compress(itertools.count(), marks))
    return [(f"{marks[i]} {marks[j]}", i) for i, j in itertools.pairwise(at) if j == i + 1]


def word_pairs(text: str, every: bool = False) -> tantivy.PreTokenizedString | None:
    """The pair terms of a field's text at their positions (common-word pairs, or every
    pair with `every`); None when there are none."""
    if not every and text.isascii():
        pairs = _ascii_pairs(text)
    else:
        _, pairs = _common_pairs(text, every)
    if not pairs:
        return None
    return tantivy.PreTokenizedString(
        text, [tantivy.Token(term, position, 0, 0) for term, position in pairs]
    )


def _title_pair(typed: Sequence[str]) -> str | None:
    """The title pair term of two typed words (`languag model`), as titles index it;
    None unless both are indexed words."""
    count, pairs = title_pairs(" ".join(typed))
    return pairs[0] if count == 2 and len(pairs) == 1 else None


def title_pairs(text: str) -> tuple[int, list[str]]:
    """The number of terms in `text`, and its pair terms as titles index them (every
    two adjacent terms; a word too long to index leaves none around it)."""
    count, pairs = _common_pairs(text, every=True)
    return count, [term for term, _ in pairs]


def phrase_pairs(text: str) -> list[str] | None:
    """The pair terms covering a phrase when every adjacent pair of its words is a
    common pair (so the pair fields can narrow it down); None for a single word, or
    when a rare word (the plain phrase query is then fast) or a stop word is in it."""
    count, pairs = _common_pairs(text)
    if count < 2 or len(pairs) != count - 1:
        return None
    return [term for term, _ in pairs]


def _literal(text: str) -> str:
    """`text` as a regex matching exactly it."""
    return "".join("\\" + c if c in _REGEX_META else c for c in text)


@functools.cache
def _whitespace() -> tantivy.TextAnalyzer:
    """The `whitespace` tokenizer of `title_written`, to pair exactly its tokens (it
    splits at ASCII whitespace only, unlike `str.split`)."""
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()


def written_pairs(text: str) -> tantivy.PreTokenizedString | None:
    """Each two adjacent tokens of `title_written`'s text, at the first one's position;
    None when there are none."""
    tokens = _whitespace().analyze(text)
    if len(tokens) < 2:
        return None
    return tantivy.PreTokenizedString(
        text,
        [tantivy.Token(f"{a} {b}", i, 0, 0) for i, (a, b) in enumerate(itertools.pairwise(tokens))],
    )


def _words(words: Sequence[str]) -> list[str | tuple[int, str]]:
    """Words for tantivy's phrase queries (which also take (position, word) pairs)."""
    return list(words)


def _idf_sum(searcher: tantivy.Searcher, field: str, stems: Sequence[str], docs: int) -> float:
    """The IDF tantivy's BM25 gives these terms together in `field` (a phrase's: the sum
    of its words')."""
    total = 0.0
    for stem in stems:
        freq = searcher.doc_freq(field, stem)
        total += math.log(1.0 + (docs - freq + 0.5) / (freq + 0.5))
    return total


def _matched(result: tantivy.SearchResult) -> int:
    """How many documents a search run with count=True matched."""
    # tantivy's stub leaves out `count`, which a search with count=True sets.
    return int(result.count or 0)  # type: ignore[attr-defined]


def _ids(values: list[int | float | bool | None]) -> list[int]:
    """The "id" fast field's values: tantivy types every fast field's values alike, but
    "id" is an integer field every document has."""
    return cast("list[int]", values)
