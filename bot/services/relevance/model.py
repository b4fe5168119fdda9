"""A member's model: what they liked, saved, disliked and follow.

Liked and saved papers are grouped into *interests*: a paper joins the interest it is
closest to when their tf-idf cosine reaches `JOIN_SIMILARITY`, or starts a new one. A
candidate's score is its similarity to the nearest interest, so a member who reads about
both speech codecs and Lean provers gets both, each at full strength; an average of all
their likes would blur the two into neither (measured: docs/RELEVANCE.md). Disliked
papers form interests of their own that pull scores down.

Updating after a click touches only the clicked paper's vector and one interest, so it
costs the same at 100 papers or a million. The model is plain data rebuilt from the
member's ratings whenever needed (undo, restart): that takes well under a millisecond
per rating.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from bot.core.models import Topic
from bot.services.relevance.authors import author_key
from bot.services.relevance.embedding import DIM
from bot.services.relevance.similarity import Profile
from bot.services.relevance.sparse_rows import (
    EMPTY,
    SparseRow,
    add,
    cross,
    dot,
    norm,
    row_of,
    stack,
    top,
    total,
)
from bot.services.relevance.vectors import (
    CorpusStats,
    PaperId,
    PaperText,
    PaperVector,
    dense_matrix,
    encode,
    sparse_matrix,
)

JOIN_SIMILARITY = 0.05  # tf-idf cosine at which a liked paper joins an interest
MAX_INTERESTS = 16  # past this, a paper joins its nearest interest whatever the cosine
MAX_INTEREST_TERMS = 2000  # features kept per interest: bounded memory per member


class Signal(StrEnum):
    LIKE = "like"
    DISLIKE = "dislike"
    SAVE = "save"

    @property
    def positive(self) -> bool:
        return self is not Signal.DISLIKE

    @property
    def past(self) -> str:
        return {"like": "liked", "dislike": "disliked", "save": "saved"}[self.value]


@dataclass(frozen=True)
class Rated:
    """One of the member's ratings, with the rated paper's vector."""

    paper: PaperText
    vector: PaperVector
    signal: Signal


@dataclass(frozen=True)
class Follows:
    """Followed topics (keyword follows as one-rule topics) and followed authors."""

    topics: tuple[Topic, ...] = ()
    authors: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.topics or self.authors)


@dataclass
class RatedPaper:
    id: PaperId
    title: str
    signal: Signal
    sparse: SparseRow  # unit tf-idf
    dense: np.ndarray  # unit embedding


@dataclass
class Interest:
    """Papers rated alike, summed: the normalised sum is the interest's direction."""

    papers: list[RatedPaper] = field(default_factory=list)
    sparse_sum: SparseRow = EMPTY
    dense_sum: np.ndarray = field(default_factory=lambda: np.zeros(DIM, dtype=np.float32))
    _norm: float = 0.0

    def add(self, paper: RatedPaper) -> None:
        self.papers.append(paper)
        self.sparse_sum = add(self.sparse_sum, paper.sparse)
        self.dense_sum = self.dense_sum + paper.dense
        self._norm = norm(self.sparse_sum)

    def cosine(self, paper: RatedPaper) -> float:
        return dot(self.sparse_sum, paper.sparse) / self._norm if self._norm else 0.0

    def unit(self) -> tuple[SparseRow, np.ndarray]:
        """The direction papers are scored against: the sum's `MAX_INTEREST_TERMS`
        heaviest features (bounded work per member per day), and the mean embedding."""
        kept = top(self.sparse_sum, MAX_INTEREST_TERMS)
        size = norm(kept)
        sparse = SparseRow(kept.indices, kept.values / (size or 1.0))
        dense_size = float(np.linalg.norm(self.dense_sum))
        return sparse, self.dense_sum / dense_size if dense_size else self.dense_sum


@dataclass
class FollowProfile:
    topics: tuple[Topic, ...]
    vectors: Profile  # one row per followed topic: its name, keywords and phrases
    authors: dict[str, str]  # author key -> the name as followed

    @functools.cached_property
    def key(self) -> tuple[object, ...]:
        """Equal for the profiles of members who follow the same topics and authors
        under the same statistics (the embeddings differ with them): what ranking
        explains by follows depends on nothing else."""
        return (
            tuple((t.slug, t.name, t.keywords, t.phrases) for t in self.topics),
            tuple(sorted(self.authors.items())),
            self.vectors.dense.tobytes(),
        )


@dataclass
class MemberModel:
    likes: list[Interest] = field(default_factory=list)
    dislikes: list[Interest] = field(default_factory=list)
    follows: FollowProfile | None = None
    rated: dict[PaperId, Signal] = field(default_factory=dict)
    _profiles: tuple[Profile, Profile] | None = field(default=None, repr=False)

    @property
    def mode(self) -> str:
        """How picks are made: "feedback", "follows" or "popularity" (cold start)."""
        if self.likes:
            return "feedback"
        if self.follows is not None:
            return "follows"
        return "popularity"

    def add(self, rated: Rated, stats: CorpusStats) -> None:
        """Take one new rating into account (a click): cheap, touches no other paper.

        A paper rated before is re-rated: the model is rebuilt from its own papers, which
        needs no vectors from outside."""
        if rated.paper.id in self.rated:
            self._rerate(rated, stats)
            return
        self._add(_rated_paper(rated, stats))

    def remove(self, paper_id: PaperId) -> None:
        """Forget one rating (undo)."""
        if paper_id not in self.rated:
            return
        kept = [p for p in self._papers() if p.id != paper_id]
        self._rebuild(kept)

    def profiles(self) -> tuple[Profile, Profile]:
        """(likes, dislikes): one unit row per interest."""
        if self._profiles is None:
            self._profiles = (_profile(self.likes), _profile(self.dislikes))
        return self._profiles

    def interest_papers(self) -> list[list[RatedPaper]]:
        return [interest.papers for interest in self.likes]

    def _add(self, paper: RatedPaper) -> None:
        self.rated[paper.id] = paper.signal
        interests = self.likes if paper.signal.positive else self.dislikes
        best, best_cosine = None, -1.0
        for interest in interests:
            cosine = interest.cosine(paper)
            if cosine > best_cosine:
                best, best_cosine = interest, cosine
        if best is None or (best_cosine < JOIN_SIMILARITY and len(interests) < MAX_INTERESTS):
            best = Interest()
            interests.append(best)
        best.add(paper)
        self._profiles = None

    def _papers(self) -> list[RatedPaper]:
        papers = [p for i in self.likes + self.dislikes for p in i.papers]
        order = {paper_id: n for n, paper_id in enumerate(self.rated)}
        papers.sort(key=lambda p: order[p.id])
        return papers

    def _rebuild(self, papers: Sequence[RatedPaper]) -> None:
        """The model `_add` would make from `papers` in order, in one go: the greedy
        grouping needs only each paper's cosines with the others, from one product."""
        self.rated = {p.id: p.signal for p in papers}
        self.likes = _group([p for p in papers if p.signal.positive])
        self.dislikes = _group([p for p in papers if not p.signal.positive])
        self._profiles = None

    def _rerate(self, rated: Rated, stats: CorpusStats) -> None:
        kept = [p for p in self._papers() if p.id != rated.paper.id]
        self._rebuild([*kept, _rated_paper(rated, stats)])


class TopicVectors:
    """Followed topics' vectors under one set of statistics, each encoded once: the
    members of a server follow the same few topics and words, and encoding a topic again
    for each member's model was most of building it. Bounded; safe across threads (a
    topic encoded twice at once is encoded alike)."""

    def __init__(self, stats: CorpusStats, most: int = 4096) -> None:
        self.stats = stats
        self.most = most
        self._vectors: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], PaperVector] = {}

    def of(self, topics: Sequence[Topic]) -> list[PaperVector]:
        keys = [(t.slug, t.name, t.keywords, t.phrases) for t in topics]
        known = self._vectors
        missing = {k: t for k, t in zip(keys, topics, strict=True) if k not in known}
        if not missing:
            return [known[k] for k in keys]
        encoded = encode([_topic_text(t) for t in missing.values()], self.stats, new=False)
        fresh = dict(zip(missing, encoded, strict=True))
        merged = {**known, **fresh}  # a new dict: another thread may be reading the old
        self._vectors = fresh if len(merged) > self.most else merged
        return [merged[k] for k in keys]


def build_model(
    ratings: Sequence[Rated],
    follows: Follows,
    stats: CorpusStats,
    topics: TopicVectors | None = None,
) -> MemberModel:
    """A member's model from their ratings (oldest first; a later rating of the same
    paper replaces an earlier one) and follows. `topics`: followed topics' vectors
    encoded already, under these `stats`."""
    latest: dict[PaperId, Rated] = {}
    for rated in ratings:
        latest.pop(rated.paper.id, None)  # re-inserted: its place is its latest rating
        latest[rated.paper.id] = rated
    model = MemberModel()
    papers = list(latest.values())
    if papers:
        sparse = sparse_matrix([r.vector for r in papers], stats)
        dense = dense_matrix([r.vector for r in papers], stats)
        model._rebuild(
            [
                RatedPaper(r.paper.id, r.paper.title, r.signal, row_of(sparse, i), dense[i])
                for i, r in enumerate(papers)
            ]
        )
    if follows:
        if topics is None or topics.stats is not stats:
            topics = TopicVectors(stats)
        model.follows = _follow_profile(follows, stats, topics)
    return model


def _group(papers: Sequence[RatedPaper]) -> list[Interest]:
    """Greedy grouping as `MemberModel._add` does it, paper after paper, with every
    cosine read off the papers' Gram matrix instead of a sparse dot product each."""
    if not papers:
        return []
    matrix = stack([p.sparse for p in papers])
    gram = cross(matrix, matrix)
    members: list[list[int]] = []
    sums: list[np.ndarray] = []  # per interest: each paper's dot with the interest's sum
    squares: list[float] = []  # per interest: the squared norm of its sum
    for i in range(len(papers)):
        best, best_cosine = -1, -1.0
        for k, (column, square) in enumerate(zip(sums, squares, strict=True)):
            cosine = column[i] / np.sqrt(square) if square > 0 else 0.0
            if cosine > best_cosine:
                best, best_cosine = k, cosine
        if best < 0 or (best_cosine < JOIN_SIMILARITY and len(members) < MAX_INTERESTS):
            members.append([])
            sums.append(np.zeros(len(papers)))
            squares.append(0.0)
            best = len(members) - 1
        squares[best] += 2.0 * sums[best][i] + gram[i, i]
        sums[best] += gram[:, i]
        members[best].append(i)
    interests = []
    for group in members:
        interest = Interest(papers=[papers[i] for i in group])
        interest.sparse_sum = total([papers[i].sparse for i in group])
        interest.dense_sum = np.sum([papers[i].dense for i in group], axis=0)
        interest._norm = norm(interest.sparse_sum)
        interests.append(interest)
    return interests


def _rated_paper(rated: Rated, stats: CorpusStats) -> RatedPaper:
    return RatedPaper(
        rated.paper.id,
        rated.paper.title,
        rated.signal,
        row_of(sparse_matrix([rated.vector], stats), 0),
        dense_matrix([rated.vector], stats)[0],
    )


def _topic_text(topic: Topic) -> PaperText:
    """A followed topic as a paper: its name, keywords and phrases."""
    return PaperText(
        id=f"topic:{topic.slug}",
        title=topic.name,
        abstract=". ".join([*(k.rstrip("*") for k in topic.keywords), *topic.phrases]),
    )


def _follow_profile(follows: Follows, stats: CorpusStats, known: TopicVectors) -> FollowProfile:
    topics = tuple(follows.topics)
    vectors = known.of(topics)
    return FollowProfile(
        topics=topics,
        vectors=Profile(sparse_matrix(vectors, stats), dense_matrix(vectors, stats)),
        authors={author_key(a): a for a in follows.authors if author_key(a)},
    )


def _profile(interests: Sequence[Interest]) -> Profile:
    units = [interest.unit() for interest in interests]
    dense = np.vstack([d for _, d in units]) if units else np.zeros((0, DIM), np.float32)
    return Profile(stack([r for r, _ in units]), dense.astype(np.float32))
