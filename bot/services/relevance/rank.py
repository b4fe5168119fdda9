"""Ranking papers for a member, and papers like a paper, each pick with why.

A member's score for a paper is its similarity to their nearest interest (see
`model`) or to a followed topic, whichever is higher; a paper matching a followed
topic's rules, or by a followed author, is lifted by `FOLLOW_MATCH_BONUS`. Similarity
to the nearest disliked interest is subtracted at half weight. Papers below
`THRESHOLD` are left out, so a day with nothing close to what the member reads gives
an empty list.

Members are scored in batches: every member's interests are stacked into one matrix
and compared with the day's papers in one sparse product.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass
from functools import partial

import numpy as np

from bot.core.models import Topic
from bot.core.topics import DEFAULT_THRESHOLD, TopicMatcher
from bot.services.relevance.authors import author_key
from bot.services.relevance.features import TermNames, paper_text
from bot.services.relevance.model import FollowProfile, MemberModel
from bot.services.relevance.similarity import DENSE_WEIGHT, CandidateSet, Profile, similarity
from bot.services.relevance.sparse_rows import SparseRow, concat, dot, product, row_of
from bot.services.relevance.vectors import PaperId, PaperText

# Calibrated on the labelled papers (docs/RELEVANCE.md): for a member who liked three
# papers of a subtopic and disliked two others, 92% of its other papers pass, 17% of
# those of close subtopics and 1 in 600 unrelated papers; shown 40 unrelated papers,
# 94% of members get nothing. Without the dislikes: 95%, 21%, 1 in 400, 92%.
THRESHOLD = 0.13
DISLIKE_WEIGHT = 0.5
# A paper matching a followed topic's rules, or by a followed author, is what the
# member asked for: it passes the threshold whatever its similarity (unless disliked
# papers pull it down), and the more similar ones come first.
FOLLOW_MATCH_BONUS = THRESHOLD + 0.01
KEYWORD_SLUG = "keyword:"  # a keyword follow's ad hoc topic (core.delivery_plan.follow_topic)
RELATED_MIN = 0.05  # below this a "related" paper shares nothing worth a click
WHY_WORDS = 3
TITLE_CHARS = 60
BATCH = 250  # members scored per product: bounds the similarity matrices (~5 MB a day)
FOLLOW_WHYS = 100_000  # why lines of follows kept per candidate set (~30 MB at most)


@dataclass(frozen=True)
class Why:
    """The reasons for one pick, as data; `lines()` and `str()` word them."""

    paper: tuple[PaperId, str, str] | None = None  # nearest rated paper: id, title, "saved"
    words: tuple[str, ...] = ()  # the shared words that weighed most
    follows: tuple[str, ...] = ()  # "topic: Speech & audio (title: speech)", "author: …"
    popular: str | None = None  # "54 upvotes", "#3 on the day's list"

    def lines(self) -> tuple[str, ...]:
        out = []
        if self.paper is not None:
            _, title, signal = self.paper
            out.append(f"like “{short_title(title)}” you {signal}")
        out.extend(self.follows)
        if self.words:
            out.append(", ".join(self.words))
        if self.popular:
            out.append(f"popular: {self.popular}")
        return tuple(out)

    def __str__(self) -> str:
        return " · ".join(self.lines())


Explain = Callable[[], Why] | None


class Pick:
    """One paper picked: its id, its score and why.

    A member's pick is explained when its `why` is first read (`explain` is how): a DM
    shows why for its best 30 picks only, and explaining each of a busy day's 80 and
    more cost a member's ranking more than scoring it. The why is the same whenever it
    is worked out; until then the pick holds on to its batch's similarities."""

    __slots__ = ("_explain", "_why", "paper_id", "score")

    def __init__(
        self, paper_id: PaperId, score: float, why: Why | None = None, *, explain: Explain = None
    ) -> None:
        if (why is None) == (explain is None):
            raise ValueError("a pick takes its why or how to explain it, one of them")
        self.paper_id = paper_id
        self.score = score
        self._why = why
        self._explain = explain

    @property
    def why(self) -> Why:
        if self._why is None:
            assert self._explain is not None
            self._why = self._explain()
            self._explain = None  # its batch's matrices can go
        return self._why

    @property
    def explained(self) -> bool:
        """Whether `why` has been worked out already."""
        return self._why is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pick):
            return NotImplemented
        return (self.paper_id, self.score, self.why) == (other.paper_id, other.score, other.why)

    def __hash__(self) -> int:
        return hash((self.paper_id, self.score))

    def __repr__(self) -> str:
        why = repr(self._why) if self._why is not None else "(not explained yet)"
        return f"Pick(paper_id={self.paper_id!r}, score={self.score!r}, why={why})"


def shown_picks(picks: Sequence[Pick], hidden: Set[PaperId], explain: int | None) -> list[Pick]:
    """`picks` but those `hidden` (a member's muted papers), the first `explain` of them
    explained now (all with None): in the caller's thread, not when first read."""
    kept = [p for p in picks if p.paper_id not in hidden] if hidden else list(picks)
    for pick in kept if explain is None else kept[:explain]:
        _ = pick.why
    return kept


def short_title(title: str, limit: int = TITLE_CHARS) -> str:
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    return title[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,:;–-") + "…"


# --------------------------------------------------------------------------- members


def rank(
    model: MemberModel,
    candidates: CandidateSet,
    *,
    threshold: float | None = THRESHOLD,
    limit: int | None = None,
    exclude_rated: bool = True,
) -> list[Pick]:
    """The member's picks among `candidates`, best first, each with why.

    With no ratings and no follows (cold start) the candidates come in order of
    popularity and `threshold` does not apply; `threshold=None` keeps every candidate.
    """
    return rank_many(
        [model], candidates, threshold=threshold, limit=limit, exclude_rated=exclude_rated
    )[0]


def rank_many(
    models: Sequence[MemberModel],
    candidates: CandidateSet,
    *,
    threshold: float | None = THRESHOLD,
    limit: int | None = None,
    exclude_rated: bool = True,
) -> list[list[Pick]]:
    """`rank` for many members against the same papers (a day's fan-out)."""
    out: list[list[Pick]] = []
    for start in range(0, len(models), BATCH):
        batch = models[start : start + BATCH]
        scored = _Scored(batch, candidates)
        for member, model in enumerate(batch):
            if model.mode == "popularity":
                out.append(_by_popularity(model, candidates, limit, exclude_rated))
            else:
                out.append(scored.picks(member, threshold, limit, exclude_rated))
    return out


def score_many(models: Sequence[MemberModel], candidates: CandidateSet) -> np.ndarray:
    """members × candidates scores (0 for members in popularity mode)."""
    rows = [_Scored(models[s : s + BATCH], candidates).scores for s in range(0, len(models), BATCH)]
    if not rows:
        return np.zeros((0, len(candidates)), dtype=np.float32)
    return np.vstack(rows)


class _Block:
    """Similarities of every candidate to a batch of members' profile rows, stacked."""

    def __init__(self, candidates: CandidateSet, profiles: Sequence[Profile | None]) -> None:
        sizes = [len(p) if p is not None else 0 for p in profiles]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        present = [p for p in profiles if p is not None and len(p)]
        if present:
            sparse = concat([p.sparse for p in present])
            stacked = Profile(sparse, np.vstack([p.dense for p in present]))
            self.sims = similarity(candidates, stacked)  # n × total rows
        else:
            self.sims = np.zeros((len(candidates), 0), dtype=np.float32)
        # Max within each member's rows: reduceat over the non-empty segments.
        self.best: list[np.ndarray | None] = [None] * len(profiles)
        starts = [self.offsets[i] for i, k in enumerate(sizes) if k]
        if starts:
            maxima = np.maximum.reduceat(self.sims, starts, axis=1)
            for column, member in enumerate(i for i, k in enumerate(sizes) if k):
                self.best[member] = maxima[:, column]

    def argmax(self, member: int, index: int) -> int:
        start, end = self.offsets[member], self.offsets[member + 1]
        return int(np.argmax(self.sims[index, start:end]))


class _Scored:
    def __init__(self, models: Sequence[MemberModel], candidates: CandidateSet) -> None:
        self.models = models
        self.candidates = candidates
        self.context = _context(candidates)
        n = len(candidates)
        self.likes = _Block(candidates, [m.profiles()[0] for m in models])
        self.dislikes = _Block(candidates, [m.profiles()[1] for m in models])
        follows = [m.follows.vectors if m.follows else None for m in models]
        self.follows = _Block(candidates, follows)
        self.scores = np.zeros((len(models), n), dtype=np.float32)
        self.from_follows = np.zeros((len(models), n), dtype=bool)
        self._units: dict[tuple[int, int], SparseRow] = {}  # (member, interest): its unit
        for member, model in enumerate(models):
            if model.mode == "popularity":
                continue
            best = np.full(n, -np.inf, dtype=np.float32)
            like = self.likes.best[member]
            if like is not None:
                best = like.copy()
            if model.follows is not None:
                follow = self.follows.best[member]
                follow = follow.copy() if follow is not None else np.zeros(n, np.float32)
                matched = self.context.followed_mask(model) > 0
                follow[matched] = np.maximum(follow[matched], 0.0) + FOLLOW_MATCH_BONUS
                self.from_follows[member] = follow > best
                best = np.maximum(best, follow)
            dislike = self.dislikes.best[member]
            if dislike is not None:
                best = best - DISLIKE_WEIGHT * np.maximum(dislike, 0.0)
            self.scores[member] = best

    def picks(
        self, member: int, threshold: float | None, limit: int | None, exclude_rated: bool
    ) -> list[Pick]:
        model = self.models[member]
        row = self.scores[member]
        order = np.lexsort((np.arange(len(row)), -row))
        picks: list[Pick] = []
        for index in order:
            score = float(row[index])
            if threshold is not None and score < threshold:
                break
            paper = self.candidates.papers[index]
            if exclude_rated and paper.id in model.rated:
                continue
            explain = partial(self._why, member, int(index))
            picks.append(Pick(paper.id, round(score, 4), explain=explain))
            if limit is not None and len(picks) >= limit:
                break
        return picks

    def _why(self, member: int, index: int) -> Why:
        model = self.models[member]
        if not self.from_follows[member, index] and model.likes:
            return self._like_why(member, index)
        if model.follows is None:
            return Why()
        # It depends on what the member follows alone: members who follow the same
        # topics and authors share it (a popular topic's papers are explained once).
        explain = partial(self._follow_why, member, index)
        return self.context.follow_why(model.follows, index, explain)

    def _like_why(self, member: int, index: int) -> Why:
        model = self.models[member]
        candidate = row_of(self.candidates.sparse, index)
        nearest_interest = self.likes.argmax(member, index)
        interest = model.likes[nearest_interest]
        dense = self.candidates.dense[index]
        nearest = max(
            interest.papers,
            key=lambda p: (
                (1 - DENSE_WEIGHT) * dot(candidate, p.sparse)
                + DENSE_WEIGHT * float(dense @ p.dense)
            ),
        )
        unit = self._units.get((member, nearest_interest))
        if unit is None:  # the same for each of the member's picks near this interest
            unit = self._units[(member, nearest_interest)] = interest.unit()[0]
        return Why(
            paper=(nearest.id, nearest.title, nearest.signal.past),
            words=self.context.words(index, product(candidate, unit)),
            follows=tuple(self.context.follow_hits(model, index)),
        )

    def _follow_why(self, member: int, index: int) -> Why:
        model = self.models[member]
        follows = tuple(self.context.follow_hits(model, index))
        words: tuple[str, ...] = ()
        if model.follows is not None and len(model.follows.vectors):
            candidate = row_of(self.candidates.sparse, index)
            topic = self.follows.argmax(member, index)
            words = self.context.words(
                index, product(candidate, row_of(model.follows.vectors.sparse, topic))
            )
        return Why(words=words, follows=follows)


def _by_popularity(
    model: MemberModel, candidates: CandidateSet, limit: int | None, exclude_rated: bool
) -> list[Pick]:
    papers = [
        (i, p)
        for i, p in enumerate(candidates.papers)
        if not (exclude_rated and p.id in model.rated)
    ]
    papers.sort(key=lambda item: _popularity_key(*item))
    shown = papers[:limit] if limit is not None else papers
    picks = []
    for place, (_, paper) in enumerate(shown):
        if paper.upvotes is not None:
            label = f"{paper.upvotes} upvote{'' if paper.upvotes == 1 else 's'}"
        elif paper.position is not None:
            label = f"#{paper.position} on the day's list"
        else:
            label = None
        score = round(1.0 - place / max(len(papers), 1), 4)
        picks.append(Pick(paper.id, score, Why(popular=label)))
    return picks


def _popularity_key(index: int, paper: PaperText) -> tuple[int, int, int]:
    upvotes = paper.upvotes if paper.upvotes is not None else -1
    position = paper.position if paper.position is not None else 1 << 30
    return (-upvotes, position, index)


# --------------------------------------------------------------------------- related


def related(
    paper_id: PaperId, candidates: CandidateSet, *, k: int = 5, min_score: float = RELATED_MIN
) -> list[Pick]:
    """The `k` candidates most similar to the candidate `paper_id`, never itself.

    KeyError when `paper_id` is not among the candidates: the caller puts it there, with
    its vector, so that its words are weighed like everyone else's."""
    source = candidates.index[paper_id]
    profile = Profile(candidates.sparse.take([source]), candidates.dense[source : source + 1])
    sims = similarity(candidates, profile)[:, 0]
    order = np.lexsort((np.arange(len(sims)), -sims))
    context = _context(candidates)
    source_row = row_of(candidates.sparse, source)
    picks: list[Pick] = []
    for index in order:
        if len(picks) >= k or sims[index] < min_score:
            break
        if candidates.papers[index].id == paper_id:
            continue
        shared = product(row_of(candidates.sparse, int(index)), source_row)
        why = Why(words=context.words(int(index), shared))
        picks.append(Pick(candidates.papers[index].id, round(float(sims[index]), 4), why))
    return picks


# --------------------------------------------------------------------------- context


class _Context:
    """What is worked out once per candidate set and shared by every member: which
    papers each followed topic matches, who wrote what, each paper's words."""

    def __init__(self, candidates: CandidateSet) -> None:
        self.candidates = candidates
        self._topics: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[str | None]] = {}
        self._authors: dict[str, list[tuple[int, str]]] | None = None
        self._names: dict[int, TermNames] = {}
        self._follow_whys: dict[tuple[object, ...], Why] = {}

    def follow_why(self, follows: FollowProfile, index: int, explain: Callable[[], Why]) -> Why:
        """Why candidate `index` is picked for its follows (`explain`, once per set of
        follows: it depends on nothing else)."""
        key = (follows.key, index)
        why = self._follow_whys.get(key)
        if why is None:
            if len(self._follow_whys) >= FOLLOW_WHYS:
                self._follow_whys = {}
            why = self._follow_whys[key] = explain()
        return why

    def _topic_hits(self, topic: Topic) -> list[str | None]:
        """Per candidate: why `topic` matched it ("title: speech"), or None."""
        key = (topic.slug, tuple(topic.keywords), tuple(topic.phrases))
        hits = self._topics.get(key)
        if hits is None:
            matcher = TopicMatcher([topic])
            # A followed keyword counts wherever it appears (what the DM always
            # delivered); a taxonomy topic needs the score ingest tags it with.
            least = 0.0 if topic.slug.startswith(KEYWORD_SLUG) else DEFAULT_THRESHOLD
            hits = []
            for paper in self.candidates.papers:
                found = matcher.match(paper.title, paper.abstract, least)
                if not found:
                    hits.append(None)
                else:
                    hits.append(found[0].why[0] if found[0].why else "")
            self._topics[key] = hits
        return hits

    def _by_author(self) -> dict[str, list[tuple[int, str]]]:
        if self._authors is None:
            self._authors = {}
            for index, paper in enumerate(self.candidates.papers):
                for name in paper.authors:
                    key = author_key(name)
                    if key:
                        self._authors.setdefault(key, []).append((index, name))
        return self._authors

    def followed_mask(self, model: MemberModel) -> np.ndarray:
        mask = np.zeros(len(self.candidates), dtype=np.float32)
        follows = model.follows
        if follows is None:
            return mask
        for topic in follows.topics:
            hits = self._topic_hits(topic)
            mask[[i for i, hit in enumerate(hits) if hit is not None]] = 1.0
        by_author = self._by_author()
        for key in follows.authors:
            mask[[i for i, _ in by_author.get(key, ())]] = 1.0
        return mask

    def follow_hits(self, model: MemberModel, index: int) -> list[str]:
        follows = model.follows
        if follows is None:
            return []
        out = []
        for topic in follows.topics:
            hit = self._topic_hits(topic)[index]
            if hit is not None:
                kind = "keyword" if topic.slug.startswith(KEYWORD_SLUG) else "topic"
                out.append(f"{kind}: {topic.name}" + (f" ({hit})" if hit else ""))
        if follows.authors:
            for name in self.candidates.papers[index].authors:
                if author_key(name) in follows.authors:
                    out.append(f"author: {name}")
        return out

    def words(self, index: int, shared: SparseRow) -> tuple[str, ...]:
        """The candidate's words behind the largest terms of `shared`, without repeats
        ("speculative decoding" already says "decoding")."""
        if not shared.nnz:
            return ()
        names = self._names.get(index)
        if names is None:
            paper = self.candidates.papers[index]
            names = self._names[index] = TermNames(paper_text(paper.title, paper.abstract))
        chosen: list[str] = []
        used: set[str] = set()
        heaviest = shared.indices[np.lexsort((shared.indices, -shared.values))]
        for term in names.names(heaviest):
            if term is None or set(term.split()) & used:
                continue
            chosen.append(term)
            used.update(term.split())
            if len(chosen) == WHY_WORDS:
                break
        return tuple(chosen)


def _context(candidates: CandidateSet) -> _Context:
    context = candidates.cache.get("rank")
    if context is None:
        context = candidates.cache["rank"] = _Context(candidates)
    return context
