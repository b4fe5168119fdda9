"""RelevanceService: personal relevance over the storage ports.

It keeps every paper's vector (encoded in a worker thread, in batches, after papers are
stored), a cache of members' models (a click updates the cached model in place), and
answers *For you*, a member's DM ranking, "more like this", search by meaning, mutes
and author autocomplete. The engine is `bot.services.relevance` (docs/RELEVANCE.md);
this layer feeds it stored data. Encoding and ranking run in threads, never on the
event loop. No Discord, no storage module: ports only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.core.authors import AuthorName, author_key_prefixes
from bot.core.delivery_plan import follow_topic
from bot.core.feedback import (
    FeedbackAction,
    FeedbackSignal,
    ForgetCounts,
    Mute,
    MuteFilter,
    MuteKind,
    PaperFeedback,
    apply_action,
    mute_for,
)
from bot.core.markdown import escape_markdown
from bot.core.models import ParsedQuery, StoredPaper, Topic
from bot.core.ports import (
    Authors,
    Feedback,
    MemberFollows,
    Mutes,
    PaperReader,
    PaperSearch,
    PaperVectors,
)
from bot.core.subscriptions import Follow, FollowKind
from bot.core.topic_lookup import UnknownTopic, resolve_topic, topic_key
from bot.services.freed_memory import release_freed_memory
from bot.services.rank_batches import RankBatches
from bot.services.refusals import Refused
from bot.services.relevance import (
    KEY_TERMS,
    CandidateSet,
    CorpusStats,
    Follows,
    MemberModel,
    PaperId,
    PaperText,
    PaperVector,
    Pick,
    Rated,
    Signal,
    Why,
    build_model,
    candidate_set,
    encode,
    hybrid_scores,
    key_terms,
    rank,
)
from bot.services.relevance import related as related_picks
from bot.services.relevance.model import TopicVectors
from bot.services.relevance.rank import short_title, shown_picks
from bot.services.topics import TopicCatalog

log = logging.getLogger("paperbot.relevance")

ENCODE_BATCH = 256  # papers encoded and written per transaction
# Papers per transaction when every paper is encoded again (reindex-vectors): the
# statistics blob is written once per transaction, and the embedding reads its whole
# table once per batch from a thousand papers on (bot/services/relevance/embedding.py).
REINDEX_BATCH = 2048
MODEL_CACHE = 1024  # members whose models stay in memory (LRU)
RELATED_CANDIDATES = 100  # the search engine's results "more like this" reranks
RELATED_TERMS = KEY_TERMS


class RelevanceStore(Feedback, Mutes, Authors, PaperVectors, MemberFollows, Protocol):
    """The storage ports the service uses."""


class RelevancePapers(PaperReader, PaperSearch, Protocol):
    """Papers: a day's, by id, and the search engine's key-term candidates."""


@dataclass(frozen=True)
class Recommendation:
    """One pick: the paper, its score (0..1-ish; popularity picks rank 1 down to 0) and
    why, as data (worked out when first read, unless it was already: see `Pick`);
    `why_lines` / `why_markdown` word it."""

    paper: StoredPaper
    pick: Pick

    @property
    def score(self) -> float:
        return self.pick.score

    @property
    def why(self) -> Why:
        return self.pick.why

    def why_lines(self) -> list[str]:
        """Plain text, one reason per line: what the CLI's JSON gives."""
        return list(self.why.lines())

    def why_markdown(self) -> str:
        """`like *Title* you saved · word, word` with everything stored escaped."""
        return why_markdown(self.why)


@dataclass(frozen=True)
class ForYou:
    """A member's *For you* list of one day. Empty is a valid answer ("nothing for you
    today"); `day` is None when nothing is stored at all."""

    day: dt.date | None
    picks: list[Recommendation]
    mode: str  # "feedback", "follows" or "popularity" (MemberModel.mode)
    listed: int = 0  # the day's papers ranked: 0 when no dump listed any that day


def why_markdown(why: Why) -> str:
    parts: list[str] = []
    if why.paper is not None:
        _, title, signal = why.paper
        parts.append(f"like *{escape_markdown(short_title(title))}* you {signal}")
    parts.extend(escape_markdown(line) for line in why.follows)
    if why.words:
        parts.append(escape_markdown(", ".join(why.words)))
    if why.popular:
        parts.append(f"popular: {escape_markdown(why.popular)}")
    return " · ".join(parts)


def engine_signal(feedback: PaperFeedback) -> Signal | None:
    """What the engine learns from a stored rating: 👎 wins (less like this, even if
    kept), then a save, then 👍."""
    if feedback.signal is FeedbackSignal.DISLIKE:
        return Signal.DISLIKE
    if feedback.saved:
        return Signal.SAVE
    if feedback.signal is FeedbackSignal.LIKE:
        return Signal.LIKE
    return None


def paper_text(paper: StoredPaper) -> PaperText:
    return PaperText(
        id=paper.id,
        title=paper.title,
        abstract=paper.abstract,
        authors=paper.authors,
        upvotes=paper.upvotes,
        position=paper.position,
    )


def key_name(key: str) -> str:
    """A name whose author key is `key` ("alvarez j" -> "j alvarez"), for an author
    follow stored without its display name."""
    family, _, initial = key.partition(" ")
    return f"{initial} {family}".strip()


@dataclass
class _Cached:
    model: MemberModel
    stats_version: int
    follows: Follows  # what the model was built with: a follow or unfollow rebuilds it
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RelevanceService:
    def __init__(
        self,
        *,
        store: RelevanceStore,
        papers: RelevancePapers,
        topics: TopicCatalog,
        cache_size: int = MODEL_CACHE,
        batch: int = ENCODE_BATCH,
    ) -> None:
        self.store = store
        self.papers = papers
        self.topics = topics
        self.cache_size = cache_size
        self.batch = batch
        self._stats: CorpusStats | None = None
        self._stats_version = 0
        self._models: OrderedDict[int, _Cached] = OrderedDict()
        # Followed topics' vectors under the statistics in use, shared by every model.
        self._topic_vectors: TopicVectors | None = None
        self._sync_lock = asyncio.Lock()
        # The last set of papers ranked (a day, during the DM fan-out): built once, not
        # once per member. Keyed by the statistics' version and the papers' ids and titles.
        self._day: tuple[tuple[object, ...], CandidateSet] | None = None
        self._day_papers: Sequence[StoredPaper] | None = None  # what `_day` was built of
        self._day_lock = asyncio.Lock()
        # Members' DM rankings asked for at once, scored together (a fan-out).
        self.rank_batches = RankBatches()

    # -- vectors ----------------------------------------------------------------------------
    async def sync_vectors(self, batch: int | None = None) -> int:
        """Encode every stored paper that has no vector yet, in batches (of `batch`
        papers, default the service's), each written with the statistics that now
        count it; returns how many were encoded. Run after an ingest and once at start
        (papers stored before vectors existed). Another process doing the same is
        detected (the statistics moved) and its papers are not counted twice."""
        async with self._sync_lock:
            stats, version = await self._read_stats()
            done = 0
            while True:
                ids = await self.store.papers_without_vectors(limit=batch or self.batch)
                if not ids:
                    break
                stored = await self.papers.get_papers(ids)
                texts = [PaperText(p.id, p.title, p.abstract) for p in stored]
                counted = _copy(stats)  # ranking may be reading `stats` in a thread
                encoded, blob = await asyncio.to_thread(_encode_batch, texts, counted)
                if not await self.store.put_vectors(encoded, blob, version):
                    stats, version = await self._read_stats()  # another writer was first
                    continue
                stats, version = counted, version + 1
                done += len(encoded)
            self._use_stats(stats, version)
            if done:
                log.info("encoded %d paper vectors", done)
                # Each batch's papers, texts and token arrays were small objects: their
                # freed pages stay resident under what lives on unless handed back.
                await asyncio.to_thread(release_freed_memory)
            return done

    async def reindex_vectors(self) -> int:
        """Forget every vector and the statistics, then encode every paper again (after
        a format change, or to weigh old papers by today's statistics)."""
        async with self._sync_lock:
            await self.store.clear_vectors()
            self._use_stats(CorpusStats(), 0)
        return await self.sync_vectors(batch=max(self.batch, REINDEX_BATCH))

    async def _read_stats(self) -> tuple[CorpusStats, int]:
        stored = await self.store.vector_stats()
        if stored is None:
            return CorpusStats(), 0
        try:
            return await asyncio.to_thread(CorpusStats.from_bytes, stored.blob), stored.version
        except ValueError as exc:
            # Another format: every vector is unreadable too. Start again from nothing.
            log.warning("stored corpus statistics unusable (%s): encoding every paper", exc)
            await self.store.clear_vectors()
            return CorpusStats(), 0

    def _use_stats(self, stats: CorpusStats, version: int) -> None:
        if version != self._stats_version or self._stats is None:
            self._models.clear()  # weighed by other statistics: rebuilt on next use
        self._stats, self._stats_version = stats, version
        if self._topic_vectors is None or self._topic_vectors.stats is not stats:
            self._topic_vectors = TopicVectors(stats)

    async def _current_stats(self) -> CorpusStats:
        if self._stats is None:
            if self._sync_lock.locked():
                # A catch-up is running (at start, a whole corpus may take minutes): use
                # the statistics stored so far rather than wait for it.
                stored = await self.store.vector_stats()
                if stored is not None:
                    stats = await asyncio.to_thread(CorpusStats.from_bytes, stored.blob)
                    return stats
                return CorpusStats()
            await self.sync_vectors()
        assert self._stats is not None
        return self._stats

    async def _catch_up(self) -> bool:
        """Encode papers still without a vector, unless a catch-up is already running
        (then the caller goes on without them); whether one ran."""
        if self._sync_lock.locked():
            return False
        await self.sync_vectors()
        return True

    async def _candidates(self, papers: Sequence[StoredPaper]) -> CandidateSet:
        """The papers with their vectors (encoding any that still lack one)."""
        stats = await self._current_stats()
        vectors = await self._vectors([p.id for p in papers])
        if len(vectors) < len({p.id for p in papers}) and await self._catch_up():
            stats = await self._current_stats()
            vectors = await self._vectors([p.id for p in papers])
        kept = [p for p in papers if p.id in vectors]
        texts = [paper_text(p) for p in kept]
        return await asyncio.to_thread(candidate_set, texts, [vectors[p.id] for p in kept], stats)

    async def _text_candidates(self, texts: Sequence[PaperText]) -> CandidateSet:
        """`_candidates` of papers given by their texts."""
        stats = await self._current_stats()
        ids = [int(t.id) for t in texts]
        vectors = await self._vectors(ids)
        if len(vectors) < len(set(ids)) and await self._catch_up():
            stats = await self._current_stats()
            vectors = await self._vectors(ids)
        kept = [t for t in texts if int(t.id) in vectors]
        return await asyncio.to_thread(
            candidate_set, kept, [vectors[int(t.id)] for t in kept], stats
        )

    async def _vectors(self, ids: Sequence[int]) -> dict[int, PaperVector]:
        out: dict[int, PaperVector] = {}
        for pid, blob in (await self.store.paper_vectors(ids)).items():
            try:
                out[pid] = PaperVector.from_bytes(blob)
            except ValueError:
                log.warning("paper %d has an unreadable vector; run reindex-vectors", pid)
        return out

    # -- members' models --------------------------------------------------------------------
    async def _cached(self, user_id: int) -> _Cached:
        stats = await self._current_stats()
        follows = await self._follows(user_id)
        cached = self._models.get(user_id)
        if (
            cached is not None
            and cached.stats_version == self._stats_version
            and cached.follows == follows
        ):
            self._models.move_to_end(user_id)
            return cached
        ratings = await self.store.member_ratings(user_id)
        signals = {r.paper_id: s for r in ratings if (s := engine_signal(r)) is not None}
        # A model needs the rated papers' ids, titles and abstracts only: read as such,
        # not loaded as whole papers (each member's model is built in a DM fan-out).
        stored = {
            pid: PaperText(pid, title, abstract)
            for pid, title, abstract in await self.papers.texts_of(list(signals))
        }
        vectors = await self._vectors(list(stored))
        # Rated before their vectors were written (papers stored a moment ago).
        if len(vectors) < len(stored) and await self._catch_up():
            stats = await self._current_stats()
            vectors = await self._vectors(list(stored))
        rated = [
            Rated(stored[pid], vectors[pid], signal)
            for pid, signal in signals.items()
            if pid in stored and pid in vectors
        ]
        topics = self._topic_vectors
        model = await asyncio.to_thread(build_model, rated, follows, stats, topics)
        cached = _Cached(model, self._stats_version, follows)
        self._models[user_id] = cached
        self._models.move_to_end(user_id)
        while len(self._models) > self.cache_size:
            self._models.popitem(last=False)
        return cached

    async def _follows(self, user_id: int) -> Follows:
        user = await self.store.user_delivery(user_id)
        follows: Sequence[Follow] = user.follows if user else ()
        if not follows:
            return Follows()
        by_key = {topic_key(t): t for t in await self.topics.followed_topics(follows)}
        topics: list[Topic] = []
        for follow in follows:
            topic = follow_topic(follow, by_key)
            if topic is not None:
                topics.append(topic)
        authors = tuple(
            f.label or key_name(f.value) for f in follows if f.kind == FollowKind.AUTHOR
        )
        return Follows(tuple(topics), authors)

    async def model(self, user_id: int) -> MemberModel:
        """The member's model (cached; built from stored feedback and follows)."""
        return (await self._cached(user_id)).model

    def forget_cached(self, user_id: int) -> None:
        """Drop the member's cached model (their follows changed, or they left)."""
        self._models.pop(user_id, None)

    # -- feedback ---------------------------------------------------------------------------
    async def rate(
        self, user_id: int, paper_id: int, action: FeedbackAction, guild_id: int | None = None
    ) -> PaperFeedback | None:
        """One click: 👍, 👎, 🔖 save / unsave, or clear. Idempotent (the same click again
        changes nothing); returns the feedback now stored (None: none). The member's
        cached model is updated in place, not rebuilt."""
        current = (await self.store.feedback_on(user_id, [paper_id])).get(paper_id)
        signal, saved = apply_action(current, action)
        after = await self.store.record_feedback(user_id, paper_id, signal, saved, guild_id)
        await self._update_model(user_id, paper_id, after)
        return after

    async def restore(
        self, user_id: int, paper_id: int, previous: PaperFeedback | None
    ) -> PaperFeedback | None:
        """Undo: put back the feedback a click replaced (`previous`, None for none)."""
        if previous is None or previous.empty:
            await self.store.clear_feedback(user_id, paper_id)
            after = None
        else:
            after = await self.store.record_feedback(
                user_id, paper_id, previous.signal, previous.saved, previous.guild_id
            )
        await self._update_model(user_id, paper_id, after)
        return after

    async def feedback_on(self, user_id: int, paper_ids: Sequence[int]) -> dict[int, PaperFeedback]:
        return await self.store.feedback_on(user_id, paper_ids)

    async def _update_model(self, user_id: int, paper_id: int, after: PaperFeedback | None) -> None:
        cached = self._models.get(user_id)
        if cached is None or cached.stats_version != self._stats_version or self._stats is None:
            return  # built from storage, with this click, when next needed
        signal = engine_signal(after) if after is not None else None
        async with cached.lock:
            if signal is None:
                cached.model.remove(paper_id)
                return
            stored = await self.papers.get_papers([paper_id])
            vectors = await self._vectors([paper_id])
            if not stored or paper_id not in vectors:
                self.forget_cached(user_id)
                return
            rated = Rated(paper_text(stored[0]), vectors[paper_id], signal)
            cached.model.add(rated, self._stats)

    async def forget_member(self, user_id: int) -> ForgetCounts:
        """Everything stored about the member (`/forget-me`), and their cached model."""
        counts = await self.store.forget_member(user_id)
        self.forget_cached(user_id)
        return counts

    async def member_known(self, user_id: int) -> bool:
        return await self.store.member_known(user_id)

    # -- rankings ---------------------------------------------------------------------------
    async def for_you(
        self, user_id: int, day: dt.date | None = None, *, limit: int | None = None
    ) -> ForYou:
        """The member's picks among a day's papers (the newest day by default), best
        first, above the calibrated threshold; rated and muted papers left out."""
        if day is None:
            days = await self.papers.days(limit=1)
            if not days:
                return ForYou(None, [], (await self.model(user_id)).mode)
            day = days[0]
        # The day's candidate set is kept between calls (and shared with the DM
        # fan-out): only the day's ids and titles are read to check it, and only the
        # picks shown are loaded. Loading the whole day's papers on every call was
        # most of For you's time.
        candidates = await self._listed_candidates(day)
        cached = await self._cached(user_id)
        async with cached.lock:  # a click being applied is never read half-done
            # Explained in the thread too, as many as are shown (muted ones aside).
            picks = await asyncio.to_thread(_explained, cached.model, candidates, limit)
        mutes = MuteFilter(await self.store.member_mutes(user_id))
        shown = await self._loaded_picks(picks, mutes, day, limit)
        return ForYou(day, shown, cached.model.mode, len(candidates))

    async def _listed_candidates(self, day: dt.date) -> CandidateSet:
        """The candidate set of `day`'s papers, as `_day_candidates` keeps it, built
        from the stored papers only when the kept one is of other papers."""
        listing = await self.papers.day_titles(day)
        async with self._day_lock:
            await self._current_stats()
            if self._day is not None and self._day[0] == (self._stats_version, *listing):
                return self._day[1]
        return await self._day_candidates(await self.papers.papers_on_day(day))

    async def _loaded_picks(
        self, picks: Sequence[Pick], mutes: MuteFilter, day: dt.date, limit: int | None
    ) -> list[Recommendation]:
        """The picks as recommendations, best first, muted papers left out: papers
        loaded a page of `limit` at a time until `limit` are kept (all without one)."""
        page = limit or len(picks) or 1
        kept: list[Recommendation] = []
        for start in range(0, len(picks), page):
            if limit is not None and len(kept) >= limit:
                break
            chunk = picks[start : start + page]
            ids = [int(p.paper_id) for p in chunk]
            loaded = {p.id: p for p in await self.papers.get_papers(ids, day=day)}
            for pick in chunk:
                paper = loaded.get(int(pick.paper_id))
                if paper is not None and not (mutes and mutes.hides(paper)):
                    kept.append(Recommendation(paper, pick))
        return kept[:limit] if limit is not None else kept

    async def rank_member_day(
        self,
        user_id: int,
        papers: Sequence[StoredPaper],
        *,
        limit: int | None = None,
        explain: int | None = None,
    ) -> list[Recommendation]:
        """The member's ranking of `papers` (a day's, for their DM): above the threshold
        (with no ratings and no follows, by popularity), rated and muted ones left out.
        The first `explain` (and no more than `limit`) have their why worked out in the
        worker thread, all of them without either; the others when it is read.

        Members asking at once (a DM fan-out) are ranked together (`RankBatches`), and
        the papers' candidate set is kept for the next member ranking the same papers."""
        mutes = MuteFilter(await self.store.member_mutes(user_id))
        hidden = frozenset(p.id for p in papers if mutes.hides(p)) if mutes else frozenset()
        if len(hidden) == len({p.id for p in papers}):
            return []
        candidates = await self._day_candidates(papers)
        cached = await self._cached(user_id)
        if limit is not None:
            explain = limit if explain is None else min(explain, limit)
        picks = await self.rank_batches.rank(candidates, cached.model, cached.lock, hidden, explain)
        # Scores do not depend on the other candidates: leaving muted papers out after
        # ranking gives what ranking without them would.
        by_id = {p.id: p for p in papers}
        kept = [Recommendation(by_id[int(p.paper_id)], p) for p in picks]
        return kept[:limit] if limit is not None else kept

    async def rank_members_day(
        self, user_ids: Sequence[int], papers: Sequence[StoredPaper], *, limit: int | None = None
    ) -> dict[int, list[Recommendation]]:
        """`rank_member_day` for many members at once (ranked together)."""
        ranked = await asyncio.gather(
            *(self.rank_member_day(user, papers, limit=limit) for user in user_ids)
        )
        return dict(zip(user_ids, ranked, strict=True))

    async def _day_candidates(self, papers: Sequence[StoredPaper]) -> CandidateSet:
        """`_candidates`, remembered for the last set of papers asked for."""
        async with self._day_lock:  # a fan-out asks for the same day many times at once
            await self._current_stats()
            day = self._day
            if day is not None and papers is self._day_papers and day[0][0] == self._stats_version:
                return day[1]  # the very list of papers again: each member of a fan-out
            key = (self._stats_version, *((p.id, p.title) for p in papers))
            if self._day is not None and self._day[0] == key:
                self._day_papers = papers
                return self._day[1]
            candidates = await self._candidates(papers)
            # Keyed by the version the vectors were read at (a catch-up may have moved it).
            key = (self._stats_version, *key[1:])
            self._day = (key, candidates)
            self._day_papers = papers
            return candidates

    async def related(self, paper_id: int, k: int = 5) -> list[Recommendation]:
        """The stored papers most like `paper_id`, best first, never itself: the search
        engine's results for the paper's key terms, reranked by similarity. LookupError
        when no such paper is stored."""
        found = await self.papers.get_papers([paper_id])
        if not found:
            raise LookupError(f"no paper {paper_id} is stored")
        paper = found[0]
        source = await self._candidates([paper])
        stats = await self._current_stats()
        if not len(source):
            return []
        vector = (await self._vectors([paper_id]))[paper_id]
        terms = await asyncio.to_thread(key_terms, paper_text(paper), vector, stats, RELATED_TERMS)
        matches = await self.papers.text_matches(
            ParsedQuery(terms=tuple(terms)),
            match_all=False,
            topic=None,
            since=None,
            limit=RELATED_CANDIDATES,
            count_up_to=RELATED_CANDIDATES,
        )
        ids = [paper_id, *(pid for pid, _ in matches.ranked if pid != paper_id)]
        # Similarity and its why need only titles and abstracts: the candidates are
        # read as such, and only the `k` picks are loaded as papers (loading all 100
        # was most of the call's CPU).
        texts = [
            PaperText(pid, title, abstract)
            for pid, title, abstract in await self.papers.texts_of(ids)
        ]
        candidates = await self._text_candidates(texts)
        picks = await asyncio.to_thread(related_picks, paper_id, candidates, k=k)
        by_id = {p.id: p for p in await self.papers.get_papers([int(p.paper_id) for p in picks])}
        return [
            Recommendation(by_id[int(p.paper_id)], p) for p in picks if int(p.paper_id) in by_id
        ]

    async def hybrid_scores(
        self, query: str, engine_scores: Mapping[int, float]
    ) -> dict[int, float]:
        """Search by meaning: each of the engine's candidates (paper id -> the keyword
        ranking's score) scored engine + meaning (`relevance.hybrid_scores`). Only
        their stored vectors are read (no paper text); a paper without one yet keeps
        its engine score. Never encodes: a search does not wait for a catch-up."""
        if not engine_scores:
            return {}
        stats = await self._stored_stats()
        vectors = await self._vectors(list(engine_scores))
        kept = [pid for pid in engine_scores if pid in vectors]
        out = {int(pid): float(score) for pid, score in engine_scores.items()}
        if not kept or not stats.n_docs:
            return out
        texts = [PaperText(pid, "") for pid in kept]
        by_id: dict[PaperId, float] = {pid: float(engine_scores[pid]) for pid in kept}

        def scored() -> dict[PaperId, float]:
            candidates = candidate_set(texts, [vectors[pid] for pid in kept], stats)
            return hybrid_scores(query, candidates, by_id, stats)

        out.update((int(pid), score) for pid, score in (await asyncio.to_thread(scored)).items())
        return out

    async def member_scores(self, user_id: int, paper_ids: Sequence[int]) -> dict[int, float]:
        """The member's model's score of each paper (no threshold; rated ones too):
        the *for you* sort of a search. A member with no ratings and no follows scores
        every paper 0, so the search's own order stands."""
        stored = await self.papers.get_papers(list(paper_ids))
        if not stored:
            return {}
        candidates = await self._candidates(stored)
        cached = await self._cached(user_id)
        if cached.model.mode == "popularity":
            return dict.fromkeys((p.id for p in stored), 0.0)
        async with cached.lock:
            picks = await asyncio.to_thread(
                rank, cached.model, candidates, threshold=None, exclude_rated=False
            )
        return {int(p.paper_id): p.score for p in picks}

    @property
    def stats_version(self) -> int:
        """The version of the statistics in use (changes when they are recounted)."""
        return self._stats_version

    def forget_stats(self) -> None:
        """Read the statistics from storage again at their next use: another process
        (the bot, for a search worker process) recounted them."""
        self._stats = None

    async def _stored_stats(self) -> CorpusStats:
        """The statistics in use, read from storage when none are loaded yet."""
        if self._stats is None and not self._sync_lock.locked():
            stats, version = await self._read_stats()
            self._use_stats(stats, version)
        return self._stats if self._stats is not None else await self._current_stats()

    async def _unmuted(self, user_id: int, papers: Iterable[StoredPaper]) -> list[StoredPaper]:
        mutes = MuteFilter(await self.store.member_mutes(user_id))
        return [p for p in papers if not (mutes and mutes.hides(p))]

    # -- mutes and authors ------------------------------------------------------------------
    async def mute(
        self, user_id: int, kind: MuteKind, text: str, guild_id: int | None = None
    ) -> tuple[Mute, bool]:
        """Mute a keyword, a topic (by name or slug, this server's own included) or an
        author; (the mute, False when it was muted already). Refused for text that
        cannot match anything."""
        key = None
        if kind is MuteKind.TOPIC:
            try:
                key = topic_key(resolve_topic(await self.topics.taxonomy(guild_id), text))
            except UnknownTopic as exc:
                raise Refused.unknown_topic(exc) from None
        try:
            mute = mute_for(kind, text, key)
        except ValueError as exc:
            raise Refused.from_value_error(exc) from None
        return mute, await self.store.add_mute(user_id, mute)

    async def unmute(self, user_id: int, mute: Mute) -> bool:
        return await self.store.remove_mute(user_id, mute.kind, mute.value)

    async def mutes(self, user_id: int) -> list[Mute]:
        return await self.store.member_mutes(user_id)

    async def author_choices(self, typed: str, limit: int = 25) -> list[AuthorName]:
        """Stored authors for what someone is typing, most papers first: the last word
        as a (half-typed) family name, an earlier one as the given name's initial."""
        chosen: dict[str, AuthorName] = {}
        for family, initial in author_key_prefixes(typed):
            for found in await self.store.authors_by_key_prefix(family, limit * 2):
                given = found.key.rpartition(" ")[2] if " " in found.key else ""
                if initial and not given.startswith(initial):
                    continue
                chosen.setdefault(found.key, found)
            if len(chosen) >= limit:
                break
        return list(chosen.values())[:limit]

    async def papers_by_author(self, key: str, limit: int = 50) -> list[int]:
        return await self.store.papers_by_author(key, limit)


def _explained(model: MemberModel, candidates: CandidateSet, limit: int | None) -> list[Pick]:
    """`rank`, the first `limit` picks (all with None) explained here: in the worker
    thread, not on the event loop when they are shown."""
    return shown_picks(rank(model, candidates), frozenset(), limit)


def _copy(stats: CorpusStats) -> CorpusStats:
    return CorpusStats(stats.n_docs, stats.df.copy(), stats.embedding_sum.copy())


def _encode_batch(
    texts: Sequence[PaperText], stats: CorpusStats
) -> tuple[list[tuple[int, bytes]], bytes]:
    """Vectors for new papers (counted into `stats`) as bytes, and the statistics."""
    vectors = encode(texts, stats)
    return [(int(t.id), v.to_bytes()) for t, v in zip(texts, vectors, strict=True)], (
        stats.to_bytes()
    )
