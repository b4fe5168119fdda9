"""User query text -> ParsedQuery, and spelling correction against the vocabulary.

Nothing the user types reaches the search engine as syntax: text is reduced to words
(the same split the index uses), closed "phrases" and `prefix*` terms. Everything else
(`c++`, `a:b`, `-x`, `(`, a lone `*`, emoji) is either a plain word or dropped.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping

from rapidfuzz import fuzz, process

from bot.core.models import ParsedQuery
from bot.core.text import words

MAX_TERMS = 16  # a 5,000-character paste is still one query, not 700 AND-ed terms
MIN_PREFIX = 2  # `a*` would match half the index
_PHRASE = re.compile(r'"([^"]*)"')
CORRECTION_CUTOFF = 80.0
FREQUENT_DF = 2  # words in at least this many papers are tried first as corrections


def parse_query(text: str) -> ParsedQuery:
    text = text or ""
    phrases: list[tuple[str, ...]] = []
    terms: list[str] = []
    for quoted in _PHRASE.findall(text):
        phrase = tuple(words(quoted))
        if len(phrase) > 1:
            phrases.append(phrase[:MAX_TERMS])
        else:
            terms.extend(phrase)
    # An unterminated quote is just text: drop the stray quote character.
    rest = _PHRASE.sub(" ", text).replace('"', " ")
    prefixes: list[str] = []
    for token in rest.split():
        found = words(token)
        if token.endswith("*") and len(found) == 1 and len(found[0]) >= MIN_PREFIX:
            prefixes.append(found[0])
        else:
            terms.extend(found)
    terms = list(dict.fromkeys(terms))
    prefixes = [p for p in dict.fromkeys(prefixes) if p not in terms]
    budget = MAX_TERMS
    phrases = phrases[:budget]
    budget -= len(phrases)
    terms = terms[: max(budget, 0)]
    budget -= len(terms)
    prefixes = prefixes[: max(budget, 0)]
    return ParsedQuery(tuple(terms), tuple(prefixes), tuple(phrases))


class Vocabulary:
    """The words spelling correction chooses from, bucketed by length and by frequency.

    Most distinct words occur in one paper only (coined model names: about 90% of the
    vocabulary at 100k papers, and the share grows with the corpus). Comparing a typo
    with all of them cost ~2.5 ms per word at 100k and ten times that at 1M, so words
    seen in several papers are tried first, and single-paper words sharing the typo's
    first or last letter only when none of those is close enough. Built once per data
    version, then only read."""

    def __init__(self, counts: Mapping[str, int]) -> None:
        self.counts = counts
        self.frequent: dict[tuple[int, str], list[str]] = {}
        # Single-paper words by length and first letter, and by length and last letter:
        # a typo rarely changes both ends, and comparing only words sharing one end
        # makes this tier ~13x cheaper (it is what a typo in a model name reaches).
        self.rare: dict[tuple[int, str], list[str]] = {}
        for term, df in counts.items():
            if df >= FREQUENT_DF:
                self.frequent.setdefault((len(term), ""), []).append(term)
            else:
                self.rare.setdefault((len(term), "<" + term[:1]), []).append(term)
                self.rare.setdefault((len(term), ">" + term[-1:]), []).append(term)
        self.sorted = sorted(counts)  # prefix lookups (autocomplete) by bisection

    def __contains__(self, word: object) -> bool:
        return word in self.counts

    def has_prefix(self, prefix: str) -> bool:
        """Some known word starts with `prefix` (so it may be half-typed, not wrong)."""
        at = bisect.bisect_left(self.sorted, prefix)
        return at < len(self.sorted) and self.sorted[at].startswith(prefix)

    def closest(self, word: str) -> str | None:
        """The known word nearest `word` (ratio ≥ CORRECTION_CUTOFF, length within 2),
        ties to the more frequent word; None when nothing is that close."""
        tiers = ((self.frequent, ("",)), (self.rare, ("<" + word[:1], ">" + word[-1:])))
        for buckets, ends in tiers:
            best: list[tuple[str, float, int]] = []
            # One C call per bucket: no per-query list of candidates is built.
            for n in range(len(word) - 2, len(word) + 3):
                for end in ends:
                    pool = buckets.get((n, end))
                    if pool:
                        best += process.extract(
                            word, pool, scorer=fuzz.ratio, score_cutoff=CORRECTION_CUTOFF, limit=5
                        )
            if best:
                # Equally close and frequent: the alphabetically first, as before.
                best.sort(key=lambda hit: hit[0])
                return max(best, key=lambda hit: (hit[1], self.counts.get(hit[0], 0)))[0]
        return None


def correct_spelling(
    query: ParsedQuery, vocabulary: Vocabulary, *, keep_last: bool = False
) -> tuple[ParsedQuery, dict[str, str]]:
    """Replace words the index has never seen by their closest known word.

    Only unknown words are touched (they could match nothing anyway), and only when a
    known word of similar length is close enough; ties go to the more frequent word.
    With `keep_last`, the last word is left alone while some known word starts with it:
    while typing, `protei` is a word not yet finished, not a misspelling.
    """
    corrections: dict[str, str] = {}
    last = query.all_words()[-1] if keep_last and query.all_words() else None

    def fix(word: str) -> str:
        if word in vocabulary or len(word) < 3 or word.isdigit():
            return word
        if word == last and vocabulary.has_prefix(word):
            return word
        choice = vocabulary.closest(word)
        if choice is None:
            return word
        corrections[word] = choice
        return choice

    fixed = ParsedQuery(
        terms=tuple(dict.fromkeys(fix(t) for t in query.terms)),
        prefixes=query.prefixes,
        phrases=tuple(tuple(fix(w) for w in phrase) for phrase in query.phrases),
    )
    return fixed, corrections


def describe(query: ParsedQuery) -> str:
    """The query as the user would type it again (used for "did you mean")."""
    parts = list(query.terms) + [f"{p}*" for p in query.prefixes]
    parts += ['"' + " ".join(phrase) + '"' for phrase in query.phrases]
    return " ".join(parts)
