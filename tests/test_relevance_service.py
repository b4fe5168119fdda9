"""RelevanceService over a real database: a click updates the cached model exactly as a
rebuild from storage would, mutes hide papers, author follows lift their papers,
concurrent encoders count every paper once, and forgetting a member forgets the model."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.core.authors import author_key
from bot.core.feedback import FeedbackAction, MuteKind
from bot.core.ingest import ingest_bytes
from bot.core.subscriptions import Follow
from bot.core.topics import load_default_topics
from bot.services.refusals import Refused
from bot.services.relevance import CorpusStats
from bot.services.relevance_service import RelevanceService
from bot.services.topics import TopicCatalog
from storage import Storage
from tests.relevance_dumps import hf_dump, papers_by_day

USER = 1_180_000_000_000_000_042
DAYS = ["2025-01-06", "2025-01-07", "2025-01-08"]


def service(store: Storage) -> RelevanceService:
    return RelevanceService(
        store=store, papers=store, topics=TopicCatalog(store, load_default_topics())
    )


async def real_days(store: Storage) -> list[int]:
    """Three real HF days (the busiest in the data), stored on DAYS; their paper ids."""
    busiest = sorted(papers_by_day().values(), key=len, reverse=True)[:3]
    for day, papers in zip(DAYS, busiest, strict=True):
        report = await ingest_bytes(
            store, hf_dump(papers), f"{day}.json", cli_date=dt.date.fromisoformat(day)
        )
        assert report.error is None and report.new == len(papers)
    return [pid for pid, _ in await store.all_titles()]


def shown(picks) -> list[tuple[int, float]]:
    return [(p.paper.id, p.score) for p in picks]


async def test_clicks_update_the_cached_model_as_a_rebuild_would(backend_storage) -> None:
    store = backend_storage
    ids = await real_days(store)
    clicking = service(store)
    await clicking.sync_vectors()
    day = dt.date.fromisoformat(DAYS[2])
    await clicking.for_you(USER, day)  # the model is cached from here on
    first_day = [p.id for p in await store.papers_on_day(dt.date.fromisoformat(DAYS[0]))]
    clicks = [
        (first_day[0], FeedbackAction.LIKE),
        (first_day[1], FeedbackAction.SAVE),
        (first_day[2], FeedbackAction.DISLIKE),
        (first_day[3], FeedbackAction.LIKE),
        (first_day[0], FeedbackAction.DISLIKE),  # re-rated
        (first_day[3], FeedbackAction.CLEAR),  # undone
        (first_day[4], FeedbackAction.LIKE),
        (first_day[4], FeedbackAction.LIKE),  # the same click twice
    ]
    for pid, action in clicks:
        await clicking.rate(USER, pid, action)
        fresh = service(store)
        assert shown((await clicking.for_you(USER, day)).picks) == shown(
            (await fresh.for_you(USER, day)).picks
        ), (pid, action)
    assert (await clicking.model(USER)).rated.keys() == {first_day[i] for i in (0, 1, 2, 4)}
    # Undo puts the earlier state back, in storage and in the cached model.
    before = (await store.feedback_on(USER, [first_day[4]]))[first_day[4]]
    await clicking.rate(USER, first_day[4], FeedbackAction.DISLIKE)
    await clicking.restore(USER, first_day[4], before)
    assert (await store.feedback_on(USER, [first_day[4]]))[first_day[4]].signal == before.signal
    assert shown((await clicking.for_you(USER, day)).picks) == shown(
        (await service(store).for_you(USER, day)).picks
    )
    assert len(ids) > 60


async def test_mutes_hide_papers_from_for_you_and_unmute_brings_them_back(storage) -> None:
    await real_days(storage)
    relevance = service(storage)
    day = dt.date.fromisoformat(DAYS[1])
    papers = await storage.papers_on_day(day)
    await relevance.rate(USER, papers[0].id, FeedbackAction.LIKE)
    everything = {p.paper.id for p in (await relevance.for_you(USER, day)).picks}
    # A popular-mode member would see every paper: mute by author, keyword and topic.
    author = next(p for p in papers if p.authors and p.id in everything)
    mute, new = await relevance.mute(USER, MuteKind.AUTHOR, author.authors[0].upper())
    assert new and mute.value == author_key(author.authors[0])
    left = {p.paper.id for p in (await relevance.for_you(USER, day)).picks}
    assert author.id not in left
    word = next(w for w in author.title.split() if len(w) > 6 and w.isalpha())
    await relevance.mute(USER, MuteKind.KEYWORD, word)
    left = {p.paper.id for p in (await relevance.for_you(USER, day)).picks}
    assert not any(word.casefold() in p.title.casefold() for p in papers if p.id in left)
    topic = next(t.topic for p in papers for t in p.topics)
    mute, _ = await relevance.mute(USER, MuteKind.TOPIC, topic)
    left = {p.paper.id for p in (await relevance.for_you(USER, day)).picks}
    assert not any(topic in {t.topic for t in p.topics} for p in papers if p.id in left)
    with pytest.raises(Refused):
        await relevance.mute(USER, MuteKind.TOPIC, "no such topic at all")
    for each in await relevance.mutes(USER):
        assert await relevance.unmute(USER, each)
    assert {p.paper.id for p in (await relevance.for_you(USER, day)).picks} == everything


async def test_a_followed_author_lifts_their_papers_with_why(storage) -> None:
    await real_days(storage)
    relevance = service(storage)
    day = dt.date.fromisoformat(DAYS[0])
    paper = next(p for p in await storage.papers_on_day(day) if p.authors)
    name = paper.authors[-1]
    await storage.add_follow(USER, Follow("author", author_key(name), label=name))
    picks = (await relevance.for_you(USER, day)).picks
    lifted = next(p for p in picks if p.paper.id == paper.id)
    assert f"author: {name}" in lifted.why_lines()
    choices = await relevance.author_choices(name.split()[0] + " " + name.split()[-1][:3])
    assert author_key(name) in [c.key for c in choices]


async def test_two_encoders_at_once_count_every_paper_once(backend_storage) -> None:
    ids = await real_days(backend_storage)
    one, other = service(backend_storage), service(backend_storage)
    one.batch = other.batch = 16
    done = await asyncio.gather(one.sync_vectors(), other.sync_vectors())
    assert sum(done) == len(ids)
    stats = await backend_storage.vector_stats()
    assert stats is not None and CorpusStats.from_bytes(stats.blob).n_docs == len(ids)
    assert await backend_storage.papers_without_vectors() == []


async def test_forgetting_a_member_forgets_their_model(storage) -> None:
    await real_days(storage)
    relevance = service(storage)
    day = dt.date.fromisoformat(DAYS[0])
    papers = await storage.papers_on_day(day)
    await relevance.rate(USER, papers[0].id, FeedbackAction.LIKE)
    assert (await relevance.for_you(USER, day)).mode == "feedback"
    counts = await relevance.forget_member(USER)
    assert counts.ratings == 1 and counts.total == 1
    assert (await relevance.for_you(USER, day)).mode == "popularity"
    assert not await relevance.member_known(USER)


async def test_related_never_gives_the_paper_and_search_gets_a_score_for_meaning(
    storage,
) -> None:
    ids = await real_days(storage)
    relevance = service(storage)
    for pid in ids[::15]:
        found = await relevance.related(pid, k=5)
        assert pid not in [p.paper.id for p in found]
    with pytest.raises(LookupError):
        await relevance.related(10**9)
    scores = await relevance.hybrid_scores("speculative decoding", {ids[0]: 1.0, ids[1]: 0.5})
    assert set(scores) == {ids[0], ids[1]}


async def test_for_you_with_a_limit_is_the_day_ranked_whole_then_cut(backend_storage) -> None:
    """For you reads the day's ids and titles and loads only the picks it shows: the
    same picks, scores and order as ranking the day's loaded papers, muted papers left
    out before the limit is applied, and a day ingested again is ranked afresh."""
    store = backend_storage
    await real_days(store)
    relevance = service(store)
    day = dt.date.fromisoformat(DAYS[1])
    papers = await store.papers_on_day(day)
    assert await store.day_titles(day) == [(p.id, p.title) for p in papers]
    await relevance.rate(USER, papers[0].id, FeedbackAction.LIKE)
    await relevance.rate(USER, papers[1].id, FeedbackAction.SAVE)
    whole = await relevance.rank_member_day(USER, papers)
    assert len(whole) >= 4
    for limit in (1, 2, None):
        got = (await relevance.for_you(USER, day, limit=limit)).picks
        assert shown(got) == shown(whole[:limit])
        assert got[0].paper == whole[0].paper  # the paper as the day's list holds it
    # Mute the best pick's first author: the limit counts only papers still shown.
    muted = whole[0].paper.authors[0]
    await relevance.mute(USER, MuteKind.AUTHOR, muted)
    left = [p for p in whole if author_key(muted) not in map(author_key, p.paper.authors)]
    assert len(left) < len(whole)
    assert shown((await relevance.for_you(USER, day, limit=3)).picks) == shown(left[:3])
    # Another day's list, then this one again: each ranked from its own papers.
    other = dt.date.fromisoformat(DAYS[2])
    assert shown((await relevance.for_you(USER, other, limit=3)).picks) == shown(
        (await service(store).for_you(USER, other, limit=3)).picks
    )
    assert shown((await relevance.for_you(USER, day, limit=3)).picks) == shown(left[:3])


async def test_related_reads_candidate_texts_and_loads_only_its_picks(backend_storage) -> None:
    """/related scores its candidates from their titles and abstracts (`texts_of`) and
    loads only the picks: the same picks and scores as scoring fully loaded papers."""
    from bot.core.models import ParsedQuery
    from bot.services.relevance import candidate_set, key_terms
    from bot.services.relevance import related as related_picks
    from bot.services.relevance_service import RELATED_CANDIDATES, RELATED_TERMS, paper_text

    store = backend_storage
    ids = await real_days(store)
    assert await store.texts_of([ids[3], 10**9, ids[1], ids[3]]) == [
        (p.id, p.title, p.abstract) for p in await store.get_papers([ids[3], ids[1]])
    ]
    relevance = service(store)
    await relevance.sync_vectors()
    stats = await relevance._current_stats()
    checked = 0
    for pid in ids[::9]:
        paper = (await store.get_papers([pid]))[0]
        vector = (await relevance._vectors([pid]))[pid]
        terms = key_terms(paper_text(paper), vector, stats, RELATED_TERMS)
        matches = await store.text_matches(
            ParsedQuery(terms=tuple(terms)), match_all=False, topic=None, since=None,
            limit=RELATED_CANDIDATES, count_up_to=RELATED_CANDIDATES,
        )  # fmt: skip
        loaded = await store.get_papers([pid, *(m for m, _ in matches.ranked if m != pid)])
        vectors = await relevance._vectors([p.id for p in loaded])
        whole = candidate_set(
            [paper_text(p) for p in loaded], [vectors[p.id] for p in loaded], stats
        )
        expected = related_picks(pid, whole, k=5)
        got = await relevance.related(pid)
        assert [(r.paper.id, r.score, r.why) for r in got] == [
            (int(p.paper_id), p.score, p.why) for p in expected
        ]
        fresh = await store.get_papers([r.paper.id for r in got])
        assert [r.paper for r in got] == fresh
        checked += bool(got)
    assert checked >= 5
