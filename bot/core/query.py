"""User query text -> ParsedQuery, and spelling correction against the vocabulary.

Nothing the user types reaches the search engine as syntax: text is reduced to words
(the same split the index uses), closed "phrases" and `prefix*` terms. Everything else
(`c++`, `a:b`, `-x`, `(`, a lone `*`, emoji) is either a plain word or dropped.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Mapping
from importlib import resources

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.core.models import ParsedQuery
from bot.core.rank import stem
from bot.core.text import words

MAX_TERMS = 16  # a 5,000-character paste is still one query, not 700 AND-ed terms
MIN_PREFIX = 2  # `a*` would match half the index
_PHRASE = re.compile(r'"([^"]*)"')
CORRECTION_CUTOFF = 80.0
FREQUENT_DF = 2  # words in at least this many papers are tried first as corrections
# Words that ask for papers rather than say what they are about: "papers on ...".
INTEREST_FILLERS = frozenset(
    {"paper", "papers", "article", "articles", "preprint", "preprints", "publication",
     "publications", "anything", "something", "interested", "looking"}
)  # fmt: skip


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


@functools.cache
def filler_words() -> frozenset[str]:
    """English stop words (``bot/data/english_stop_words.txt``, also what the relevance
    features drop) and `INTEREST_FILLERS`."""
    text = resources.files("bot").joinpath("data/english_stop_words.txt").read_text("utf-8")
    stop = {line.strip() for line in text.splitlines() if line.strip()[:1] not in ("", "#")}
    return frozenset(stop) | INTEREST_FILLERS


def without_fillers(query: ParsedQuery) -> ParsedQuery:
    """The query's terms less filler words ("papers on speeding up LLM inference" asks
    for `speeding llm inference`), so a paper is not matched, ranked or widened to for
    holding "on" or "papers". PostgreSQL's English search drops stop words itself;
    this makes every backend do so. A query of fillers only is left as it is (someone
    looking for "on" gets it); phrases and prefixes are kept whole."""
    fillers = filler_words()
    kept = tuple(t for t in query.terms if t not in fillers)
    if kept == query.terms or not (kept or query.phrases or query.prefixes):
        return query
    return ParsedQuery(kept, query.prefixes, query.phrases)


class Vocabulary:
    """The words spelling correction chooses from, bucketed by length and by frequency.

    Most distinct words occur in one paper only (coined model names: about 90% of the
    vocabulary at 100k papers, and the share grows with the corpus). Comparing a typo
    with all of them cost ~2.5 ms per word at 100k and ten times that at 1M, so words
    seen in several papers are tried first, and single-paper words sharing the typo's
    first or last letter only when none of those is close enough. Built once per data
    version, then only read."""

    def __init__(self, counts: Mapping[str, int]) -> None:
        # Counts of the frequent words only (a few thousand at any size): a single-paper
        # word's is 1, and a dict entry for each of them cost ~15 MB at 1M papers.
        # Membership is a bisection of `sorted`, which holds every word anyway.
        self.counts = {term: df for term, df in counts.items() if df >= FREQUENT_DF}
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
        if not isinstance(word, str):
            return False
        at = bisect.bisect_left(self.sorted, word)
        return at < len(self.sorted) and self.sorted[at] == word

    def knows_form_of(self, word: str) -> bool:
        """Some other form of `word` is known (`phone` for `phones`, `study` for
        `studies`): the index stems both alike, so `word` finds those papers as it is."""
        return any(form in self for form in word_forms(word))

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
            best = [hit for hit in best if _stems_close(word, hit[0])]
            if best:
                # Equally close and frequent: the alphabetically first, as before.
                best.sort(key=lambda hit: hit[0])
                return max(best, key=lambda hit: (hit[1], self.counts.get(hit[0], 1)))[0]
        return None


def word_forms(word: str) -> set[str]:
    """The plural and singular forms of `word` a stemmed index treats as one."""
    base = stem(word)
    forms = {base, base + "s", base + "es"}
    if base.endswith("y"):
        forms.add(base[:-1] + "ies")
    return forms - {word}


def _stems_close(word: str, known: str) -> bool:
    """Whether `known` is a plausible correction of `word` once both lose a plural
    ending: a shared `-s` makes unrelated short words look close (`phones` and `ones`
    are 80% alike, `phone` and `one` 75%). One slip (a letter swapped, dropped, doubled
    or changed) always counts as close."""
    a, b = stem(word), stem(known)
    return fuzz.ratio(a, b) >= CORRECTION_CUTOFF or OSA.distance(a, b) <= 1


def correct_spelling(
    query: ParsedQuery, vocabulary: Vocabulary, *, keep_last: bool = False
) -> tuple[ParsedQuery, dict[str, str]]:
    """Replace words the index has never seen by their closest known word.

    Only unknown words are touched (they could match nothing anyway), and only when a
    known word of similar length is close enough, also without plural endings; ties go
    to the more frequent word. A word another form of which is known is not unknown.
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
        if vocabulary.knows_form_of(word):
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
