"""The abstract as evidence for dedupe: is it the same paper's text, or another's?

A revision edits a sentence or adds one; another paper, however close its title, has
its own text. Abstracts are compared as sequences of words (case, punctuation and
whitespace do not count) by their longest common subsequence. Measured on the 98 real
papers of the bundled sample, any two different abstracts share at most a fifth of the
longer one's words in order (an eighth typically); a revised one shares nearly all.

Two fingerprints per abstract (hashes of its first and of its last words) are stored as
blocking keys, so a paper whose title changed completely is still found by an indexed
lookup when either end of its abstract is unchanged.
"""

from __future__ import annotations

import enum
import functools
import hashlib
from collections.abc import Sequence

from rapidfuzz.distance import LCSseq

from bot.core.text import word_tuple, words

# Shorter text is no evidence: a one-line summary ("We study X.") can belong to anything,
# and real abstracts run to 150-300 words (the sample's shortest has 195).
MIN_ABSTRACT_WORDS = 40
PRINT_WORDS = 24  # words hashed for each fingerprint: about a sentence
# Words in order both share, over the longer abstract: a sentence added to 200 words
# still leaves 0.9; two different papers' abstracts stay near 0.2 at most, also when one
# copies the other's opening sentence, as follow-ups do.
SAME_ABSTRACT = 0.8
DIFFERENT_ABSTRACT = 0.5
# ... unless nearly all of the shorter one is in the longer: a cut-off abstract, or one
# much expanded in a revision, is not evidence of another paper.
CONTAINED = 0.9
_PRINT_CACHE = 4096
_END_CHARS = 400  # characters split at each end of a long abstract: well over 24 words
assert 2 * PRINT_WORDS >= MIN_ABSTRACT_WORDS, "see _ends"


class Evidence(enum.Enum):
    SAME = "same"  # the same text, perhaps revised
    DIFFERENT = "different"  # another paper's text
    UNKNOWN = "unknown"  # missing, too short, or too far apart to call either way


def abstract_words(abstract: str, *, remember: bool = True) -> tuple[str, ...] | None:
    """The abstract's words when there are enough of them to be evidence, else None.

    With `remember`, through `word_tuple`'s small cache of recent texts (an incoming
    paper's abstract, which topic tagging splits too)."""
    found = word_tuple(abstract) if remember else tuple(words(abstract))
    return found if len(found) >= MIN_ABSTRACT_WORDS else None


@functools.lru_cache(maxsize=_PRINT_CACHE)
def abstract_blocks(abstract: str) -> tuple[str, ...]:
    """Blocking keys for the abstract: `a:` its opening words, `z:` its closing words;
    none when `abstract_words` finds too few words for evidence."""
    head, tail = _ends(abstract)
    if head is None or tail is None:
        return ()
    return (f"a:{fingerprint(head)}", f"z:{fingerprint(tail)}")


def _ends(abstract: str) -> tuple[Sequence[str] | None, Sequence[str] | None]:
    """The first and the last PRINT_WORDS words, exactly as `abstract_words` would give
    them, or None when it gives None. Every paper of a dump is fingerprinted, so a long
    abstract is split only near its two ends: a cut there can only damage a word beyond
    the ones kept, as long as each end holds more words than are kept. Two ends that do
    not overlap and hold more than PRINT_WORDS words each make at least 2 * PRINT_WORDS
    words, enough for evidence."""
    if len(abstract) > 2 * _END_CHARS:
        head, tail = words(abstract[:_END_CHARS]), words(abstract[-_END_CHARS:])
        if len(head) > PRINT_WORDS and len(tail) > PRINT_WORDS:
            return head[:PRINT_WORDS], tail[-PRINT_WORDS:]
    found = abstract_words(abstract, remember=False)
    if found is None:
        return None, None
    return found[:PRINT_WORDS], found[-PRINT_WORDS:]


def fingerprint(part: Sequence[str]) -> str:
    """A short hash of a run of words (as `words` splits them)."""
    return hashlib.blake2b(" ".join(part).encode(), digest_size=8).hexdigest()


def compare_abstracts(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> Evidence:
    """What two abstracts (as `abstract_words` gives them) say about their papers."""
    if a is None or b is None:
        return Evidence.UNKNOWN
    if a == b:
        return Evidence.SAME
    shared = LCSseq.similarity(a, b)
    longer, shorter = max(len(a), len(b)), min(len(a), len(b))
    if shared >= SAME_ABSTRACT * longer:
        return Evidence.SAME
    if shared < DIFFERENT_ABSTRACT * longer and shared < CONTAINED * shorter:
        return Evidence.DIFFERENT
    return Evidence.UNKNOWN
