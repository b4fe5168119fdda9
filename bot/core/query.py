"""User query text -> ParsedQuery, and spelling correction against the vocabulary.

Nothing the user types reaches the search engine as syntax: text is reduced to words
(the same split the index uses), closed "phrases" and `prefix*` terms. Everything else
(`c++`, `a:b`, `-x`, `(`, a lone `*`, emoji) is either a plain word or dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rapidfuzz import fuzz, process

from bot.core.models import ParsedQuery
from bot.core.text import words

MAX_TERMS = 16  # a 5,000-character paste is still one query, not 700 AND-ed terms
MIN_PREFIX = 2  # `a*` would match half the index
_PHRASE = re.compile(r'"([^"]*)"')
CORRECTION_CUTOFF = 80.0


def parse_query(text: str) -> ParsedQuery:
    text = text or ""
    phrases: list[tuple[str, ...]] = []
    terms: list[str] = []
    for quoted in _PHRASE.findall(text):
        found = tuple(words(quoted))
        if len(found) > 1:
            phrases.append(found[:MAX_TERMS])
        else:
            terms.extend(found)
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


def correct_spelling(
    query: ParsedQuery, vocabulary: Mapping[str, int], by_length: Mapping[int, list[str]]
) -> tuple[ParsedQuery, dict[str, str]]:
    """Replace words the index has never seen by their closest known word.

    Only unknown words are touched (they could match nothing anyway), and only when a
    known word of similar length is close enough; ties go to the more frequent word.
    """
    corrections: dict[str, str] = {}

    def fix(word: str) -> str:
        if word in vocabulary or len(word) < 3 or word.isdigit():
            return word
        pool = [w for n in range(len(word) - 2, len(word) + 3) for w in by_length.get(n, ())]
        best = process.extract(
            word, pool, scorer=fuzz.ratio, score_cutoff=CORRECTION_CUTOFF, limit=5
        )
        if not best:
            return word
        choice = max(best, key=lambda hit: (hit[1], vocabulary.get(hit[0], 0)))[0]
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
