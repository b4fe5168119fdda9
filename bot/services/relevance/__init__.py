"""Personal relevance: paper vectors, a model per member, "related" and search by
meaning, each result with why. Plain data in, plain data out; no Discord, no storage,
no network (docs/RELEVANCE.md).

The flow:

1. When papers are stored: ``vectors = encode(papers, stats)`` (counts them into
   ``stats``); keep ``vector.to_bytes()`` per paper and ``stats.to_bytes()`` once.
   A bulk import can run ``analyse(papers)`` (text only, picklable) in worker
   processes and ``vectors_from(analysis, stats)`` in storage order: the same vectors.
2. For a day, a search's candidates or a paper's neighbours:
   ``candidates = candidate_set(papers, vectors, stats)``.
3. For a member: ``model = build_model(ratings, follows, stats)``; after a click
   ``model.add(Rated(...), stats)``; ``rank(model, candidates)`` or
   ``rank_many(models, candidates)``.
4. ``related(paper_id, candidates)`` (in a large corpus the candidates are the search
   engine's results for ``key_terms(paper, vector, stats)``, plus the paper itself);
   ``hybrid_scores(query, candidates, engine_scores, stats)`` for search.
"""

import bot.services.relevance.blas  # noqa: F401  (one BLAS thread, before any product)
from bot.services.relevance.authors import author_key
from bot.services.relevance.model import (
    Follows,
    MemberModel,
    Rated,
    Signal,
    build_model,
)
from bot.services.relevance.rank import (
    THRESHOLD,
    Pick,
    Why,
    rank,
    rank_many,
    related,
    score_many,
)
from bot.services.relevance.search import KEY_TERMS, hybrid_scores, key_terms, semantic_scores
from bot.services.relevance.similarity import CandidateSet, candidate_set
from bot.services.relevance.vectors import (
    Analysis,
    CorpusStats,
    PaperId,
    PaperText,
    PaperVector,
    analyse,
    encode,
    vectors_from,
)

__all__ = [
    "KEY_TERMS",
    "THRESHOLD",
    "Analysis",
    "CandidateSet",
    "CorpusStats",
    "Follows",
    "MemberModel",
    "PaperId",
    "PaperText",
    "PaperVector",
    "Pick",
    "Rated",
    "Signal",
    "Why",
    "analyse",
    "author_key",
    "build_model",
    "candidate_set",
    "encode",
    "hybrid_scores",
    "key_terms",
    "rank",
    "rank_many",
    "related",
    "score_many",
    "semantic_scores",
    "vectors_from",
]
