"""How well a typed fragment names a title: what `/paper` opens and its autocomplete
offers first.

Ranking candidate titles by fuzzy similarity alone opened the wrong paper for about one
fragment in seven: `Super Mario` is closer, by rapidfuzz's WRatio, to `Weakly-supervised
Audio Separation ...` (`super` inside `supervised`) than to `Language Models are Super
Mario: ...`. A person typing part of a title types it as it is written, so a title that
holds the typed text as written is a better answer than any title that merely resembles
it. Candidates are therefore put in tiers first (below) and ordered by similarity only
within a tier: a fragment that occurs in exactly one title always opens that title.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.text import normalize_title, words

# Tiers, best first. "Whole" means the typed text ends where a title word ends: while a
# title that holds the typed text as its own words beats one where the last typed word
# is only the beginning of a longer word (`paradigm` names `... Paradigm Boosting ...`
# before `... Learning Paradigms`), both beat titles holding the words elsewhere.
EXACT = 0  # the whole title (punctuation and case aside)
AS_WRITTEN = 1  # the typed text as written (case aside), whole title words
PHRASE = 2  # the typed words, consecutive whole words of the title
AS_WRITTEN_BEGUN = 3  # as written, the last word the beginning of a title word
PHRASE_BEGUN = 4  # the typed words consecutive, the last the beginning of a word
INSIDE = 5  # the typed words consecutive, the first only the end of a title word
ALL_WORDS = 6  # every typed word in the title, in any order (the last as a prefix)
RESEMBLES = 7  # none of the above: only fuzzy similarity speaks for it


_WHOLE, _BEGUN, _INSIDE, _ABSENT = 0, 1, 2, 3


@dataclass(frozen=True)
class Typed:
    """What the user typed, in the forms the tiers compare: computed once per
    keystroke, so each of the few hundred candidate titles costs only a few C-level
    string operations."""

    words: tuple[str, ...]
    key: str  # normalize_title of the text
    phrase: str  # the words joined by single spaces
    written: str  # case-folded, runs of whitespace as one space
    complete: tuple[str, ...]  # each word before the last, as " word "

    @classmethod
    def of(cls, text: str) -> Typed:
        found = tuple(words(text))
        return cls(
            words=found,
            key=normalize_title(text),
            phrase=" ".join(found),
            written=" ".join(text.casefold().split()),
            complete=tuple(f" {w} " for w in dict.fromkeys(found[:-1])),
        )


def tier(typed: Sequence[Typed], title: str) -> int:
    """The best tier any spelling of the typed text (as typed, as spell-corrected)
    reaches for `title`."""
    spaced = " " + " ".join(words(title)) + " "
    best = RESEMBLES
    for spelling in typed:  # one or two: a loop, not min() over a generator (per title)
        best = min(best, _tier(spelling, title, spaced))
    return best


def _tier(typed: Typed, title: str, spaced: str) -> int:
    """`spaced`: the title's words joined by single spaces, a space at each end."""
    if not typed.words:
        return RESEMBLES
    if typed.phrase not in spaced:
        # Most candidates: the words are there, but not in a row.
        every = all(w in spaced for w in typed.complete) and f" {typed.words[-1]}" in spaced
        return ALL_WORDS if every else RESEMBLES
    if typed.key == spaced.replace(" ", ""):  # the title's normalize_title key
        return EXACT
    if typed.written == typed.phrase and len(typed.words) == 1:
        # One word typed without punctuation: as written is as a word (the common case
        # while a title is being typed), so the title need not be case-folded again.
        written = _occurrence(spaced, typed.phrase)
    else:
        written = _occurrence(" ".join(title.casefold().split()), typed.written)
    if written == _WHOLE:
        return AS_WRITTEN
    phrase = _occurrence(spaced, typed.phrase)
    if phrase == _WHOLE:
        return PHRASE
    if written == _BEGUN:
        return AS_WRITTEN_BEGUN
    if phrase == _BEGUN:
        return PHRASE_BEGUN
    return INSIDE


def _occurrence(text: str, part: str) -> int:
    """Where `part` occurs in `text` at best: as whole words (`_WHOLE`), starting at a
    word but ending inside one (`_BEGUN`), only starting inside a word (`_INSIDE`), or
    not at all. Punctuation at either end of `part` is its own boundary."""
    if not part:
        return _ABSENT
    best = _ABSENT
    at = text.find(part)
    while at >= 0 and best != _WHOLE:
        end = at + len(part)
        starts = at == 0 or not text[at - 1].isalnum() or not part[0].isalnum()
        ends = end == len(text) or not text[end].isalnum() or not part[-1].isalnum()
        best = min(best, _INSIDE if not starts else _WHOLE if ends else _BEGUN)
        at = text.find(part, at + 1)
    return best
