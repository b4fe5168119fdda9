"""Words into hashed feature ids: the sparse half of a paper vector.

Features are the paper's words and word pairs (1–2-grams after English stop words are
dropped, as scikit-learn's analyser makes them) hashed into a fixed space of
`N_FEATURES` buckets. Hashing needs no vocabulary, so a paper can be vectorised the day
it arrives and its vector never goes stale when new words appear; how much each
feature weighs (its IDF) is applied later, from `CorpusStats`, at the time of use.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

# 2^20 buckets: the words and word pairs of a million abstracts collide rarely enough,
# and a document-frequency table over them is 4 MB.
N_FEATURES = 1 << 20
# The title is the densest statement of what a paper is about: it counts twice.
TITLE_REPEAT = 2


@functools.cache
def _hasher() -> HashingVectorizer:
    return HashingVectorizer(
        n_features=N_FEATURES,
        ngram_range=(1, 2),
        stop_words="english",
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )


def paper_text(title: str, abstract: str) -> str:
    """The text a paper's features are drawn from."""
    return ". ".join([_clean(title)] * TITLE_REPEAT + [_clean(abstract)])


def _clean(text: str) -> str:
    # NFKC folds ligatures and full-width letters, so "ﬁne-tuning" hashes as "fine".
    return unicodedata.normalize("NFKC", text or "")


def count_features(texts: Sequence[str]) -> sp.csr_matrix:
    """Raw feature counts, one row per text (n × N_FEATURES, float32, sorted indices)."""
    counts = _hasher().transform(texts).tocsr()
    counts.sort_indices()
    return counts


def terms(text: str) -> list[str]:
    """The features of `text` as words ("decoding", "speculative decoding"), in order."""
    return _hasher().build_analyzer()(text)


def feature_id(term: str) -> int:
    """The bucket `count_features` puts `term` in (scikit-learn's hashing, unsigned)."""
    return abs(murmurhash3_32(term, seed=0)) % N_FEATURES


def term_ids(words: Iterable[str]) -> dict[int, str]:
    """Bucket -> the first term of `words` in it: turns weights back into words."""
    out: dict[int, str] = {}
    for word in words:
        out.setdefault(feature_id(word), word)
    return out
