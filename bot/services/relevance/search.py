"""Search by meaning: a semantic score for the keyword engine's candidates.

The search engine (BM25) finds candidates that hold the query's words; this scores
each by the similarity of its vector to the query's, and `hybrid_scores` adds that to
the engine's own ranking score. A query that names a paper (its title, typos and all)
still ranks it first: the engine's title bonuses are larger than anything meaning can
add, and the paper's own vector is close to its title anyway.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from bot.services.relevance.features import TermNames, paper_text
from bot.services.relevance.similarity import CandidateSet, Profile, similarity
from bot.services.relevance.vectors import (
    CorpusStats,
    PaperId,
    PaperText,
    PaperVector,
    dense_matrix,
    encode,
    sparse_matrix,
)

# Weight of meaning next to `bot.core.rank.combined_score` (engine 0..1, +1 for every
# word, +0.6 title similarity, +2 for naming the paper). Chosen by measurement
# (docs/RELEVANCE.md): it lifts precision@5 on interest statements without moving any
# typo'd title from rank 1.
SEMANTIC_WEIGHT = 3.0
# Key terms of a paper that /related asks the search engine for. 6 rather than 8: the
# evaluation's related P@3 among the top 100 was 0.835 with 6, 0.834 with 8, 0.832 with
# 5, and each word fewer is a posting list fewer to walk at 1M papers.
KEY_TERMS = 6


def query_profile(query: str, stats: CorpusStats) -> Profile:
    """The query as a unit vector in the papers' space (not counted into `stats`)."""
    vector = encode([PaperText(id="query", title=query)], stats, new=False)
    return Profile(sparse_matrix(vector, stats), dense_matrix(vector, stats))


def semantic_scores(query: str, candidates: CandidateSet, stats: CorpusStats) -> np.ndarray:
    """Similarity of every candidate to the query, in candidate order."""
    return similarity(candidates, query_profile(query, stats))[:, 0]


def hybrid_scores(
    query: str,
    candidates: CandidateSet,
    engine_scores: Mapping[PaperId, float],
    stats: CorpusStats,
    weight: float = SEMANTIC_WEIGHT,
) -> dict[PaperId, float]:
    """The engine's score of each candidate plus `weight` × its semantic score.

    `engine_scores` holds the keyword ranking's score per paper id (for paperbot's
    search, `combined_score`); candidates without one count as 0."""
    semantic = semantic_scores(query, candidates, stats)
    return {
        paper.id: float(engine_scores.get(paper.id, 0.0)) + weight * float(semantic[i])
        for i, paper in enumerate(candidates.papers)
    }


def key_terms(
    paper: PaperText, vector: PaperVector, stats: CorpusStats, n: int = KEY_TERMS
) -> list[str]:
    """The words that weigh most in a paper's vector, heaviest first: a keyword query
    whose engine results are the candidates for `related` in a corpus too large to
    score whole (see docs/RELEVANCE.md)."""
    row = sparse_matrix([vector], stats)
    names = TermNames(paper_text(paper.title, paper.abstract))
    out: list[str] = []
    for term in names.names(row.indices[np.lexsort((row.indices, -row.values))]):
        for word in (term or "").split():
            if word not in out:
                out.append(word)
        if len(out) >= n:
            break
    return out[:n]
