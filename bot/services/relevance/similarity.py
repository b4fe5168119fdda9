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

import numpy as np
import scipy.sparse as sp

from bot.services.relevance.vectors import (
    CorpusStats,
    PaperId,
    PaperText,
    PaperVector,
    dense_matrix,
    sparse_matrix,
)

DENSE_WEIGHT = 0.2


@dataclass
class CandidateSet:
    """Papers prepared for scoring: unit tf-idf rows and unit embeddings, built once and
    reused for every member, query or paper scored against them."""

    papers: list[PaperText]
    sparse: sp.csr_matrix  # n × N_FEATURES
    dense: np.ndarray  # n × DIM
    index: dict[PaperId, int] = field(default_factory=dict)
    # Worked out once per set and shared by every member ranked against it (which
    # papers a topic matches, each paper's words): see `rank`.
    cache: dict = field(default_factory=dict, repr=False)

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
        sparse=candidates.sparse[rows],
        dense=candidates.dense[rows],
        index={p.id: i for i, p in enumerate(papers)},
    )


@dataclass
class Profile:
    """Unit vectors to compare candidates with: interests, follows, a query."""

    sparse: sp.csr_matrix  # k × N_FEATURES, unit rows
    dense: np.ndarray  # k × DIM, unit rows

    def __len__(self) -> int:
        return self.sparse.shape[0]


def similarity(candidates: CandidateSet, profile: Profile) -> np.ndarray:
    """n × k blended cosine of every candidate with every profile row."""
    if len(profile) == 0 or len(candidates) == 0:
        return np.zeros((len(candidates), len(profile)), dtype=np.float32)
    lexical = (candidates.sparse @ profile.sparse.T).toarray()
    semantic = candidates.dense @ profile.dense.T
    return ((1.0 - DENSE_WEIGHT) * lexical + DENSE_WEIGHT * semantic).astype(np.float32)
