"""Candidate sets and the one similarity every part of the engine uses.

Similarity between a paper and anything else (another paper, a member's interest, a
query) is a fixed blend of the cosine of their tf-idf vectors and the cosine of their
embeddings. tf-idf is precise about a subtopic's own words; the embedding knows that
"phone" and "mobile device" mean the same. The weight was chosen by measurement
(docs/RELEVANCE.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.services.relevance.sparse_rows import FeatureIndex, SparseRows
from bot.services.relevance.vectors import (
    CorpusStats,
    PaperId,
    PaperText,
    PaperVector,
    dense_matrix,
    sparse_matrix,
)

DENSE_WEIGHT = 0.2
# Profile rows whose embedding similarities are computed at once (n × 1024 floats).
_DENSE_BLOCK = 1024


@dataclass
class CandidateSet:
    """Papers prepared for scoring: unit tf-idf rows and unit embeddings, built once and
    reused for every member, query or paper scored against them."""

    papers: list[PaperText]
    sparse: SparseRows  # n unit tf-idf rows
    dense: np.ndarray  # n × DIM
    index: dict[PaperId, int] = field(default_factory=dict)
    # Worked out once per set and shared by every member ranked against it (which
    # papers a topic matches, each paper's words): see `rank`.
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.papers)


def candidate_set(
    papers: Sequence[PaperText], vectors: Sequence[PaperVector], stats: CorpusStats
) -> CandidateSet:
    """`papers[i]` with its vector `vectors[i]`; a repeated id keeps its first entry."""
    if len(papers) != len(vectors):
        raise ValueError(f"{len(papers)} papers but {len(vectors)} vectors")
    keep = list({p.id: i for i, p in reversed(list(enumerate(papers)))}.values())
    keep.sort()
    kept_papers = [papers[i] for i in keep]
    kept_vectors = [vectors[i] for i in keep]
    return CandidateSet(
        papers=kept_papers,
        sparse=sparse_matrix(kept_vectors, stats),
        dense=dense_matrix(kept_vectors, stats),
        index={p.id: i for i, p in enumerate(kept_papers)},
    )


def subset(candidates: CandidateSet, rows: Sequence[int]) -> CandidateSet:
    """The candidates at `rows` (e.g. one day out of a corpus-wide set), same weights."""
    rows = list(rows)
    papers = [candidates.papers[i] for i in rows]
    return CandidateSet(
        papers=papers,
        sparse=candidates.sparse.take(rows),
        dense=candidates.dense[rows],
        index={p.id: i for i, p in enumerate(papers)},
    )


@dataclass
class Profile:
    """Unit vectors to compare candidates with: interests, follows, a query."""

    sparse: SparseRows  # k unit rows
    dense: np.ndarray  # k × DIM, unit rows

    def __len__(self) -> int:
        return len(self.sparse)


def similarity(candidates: CandidateSet, profile: Profile) -> np.ndarray:
    """n × k blended cosine of every candidate with every profile row."""
    n, k = len(candidates), len(profile)
    if k == 0 or n == 0:
        return np.zeros((n, k), dtype=np.float32)
    out = _index(candidates).cross(profile.sparse)
    # In place and in blocks: n × k can be large (a day's papers × 100 members' rows).
    out *= 1.0 - DENSE_WEIGHT
    for start in range(0, k, _DENSE_BLOCK):
        semantic = candidates.dense @ profile.dense[start : start + _DENSE_BLOCK].T
        semantic *= DENSE_WEIGHT
        out[:, start : start + _DENSE_BLOCK] += semantic
    return out


def _index(candidates: CandidateSet) -> FeatureIndex:
    """The candidates' features indexed once, for every batch of members ranked."""
    index = candidates.cache.get("features")
    if index is None:
        index = candidates.cache["features"] = FeatureIndex(candidates.sparse)
    return index
