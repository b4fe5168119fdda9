"""Members ranked together (a DM fan-out) get exactly what ranking each alone gives:
the same picks, scores and why lines, muted papers left out; only the picks a DM shows
are explained along with the ranking, the others when read, to the same why; followed
topics are encoded once for every model, alike. Real HF days in a real database
(bot/services/rank_batches.py), and the labelled real papers."""

from __future__ import annotations

import asyncio
import datetime as dt

import numpy as np

from bot.core.feedback import FeedbackAction, MuteFilter, MuteKind
from bot.core.subscriptions import Follow, FollowKind
from bot.core.topics import load_default_topics
from bot.services.relevance import Follows, Rated, Signal, build_model, rank
from bot.services.relevance.model import TopicVectors
from bot.services.relevance.similarity import subset
from storage import Storage
from tests.relevance_corpus import labelled_corpus
from tests.test_relevance_service import DAYS, real_days, service

FIRST = 1_180_000_000_000_000_100


def lines(picks) -> list[tuple[int, float, tuple[str, ...]]]:
    return [(p.paper.id, p.score, p.why.lines()) for p in picks]


async def members(store: Storage) -> list[int]:
    """Members of every kind a day is ranked for: likes, dislikes, saves, keyword and
    topic follows, mutes, and nothing at all (ranked by popularity)."""
    relevance = service(store)
    earlier = [
        p.id for day in DAYS[:2] for p in await store.papers_on_day(dt.date.fromisoformat(day))
    ]
    users = [FIRST + i for i in range(12)]
    follows = {
        2: [Follow(FollowKind.KEYWORD, "language")],
        3: [Follow(FollowKind.KEYWORD, "diffusion")],
        4: [Follow(FollowKind.TOPIC, "speech-audio"), Follow(FollowKind.KEYWORD, "agent")],
        5: [Follow(FollowKind.KEYWORD, "video")],
        7: [Follow(FollowKind.KEYWORD, "model")],
        # The same follows as others (their papers' why is shared), other likes.
        10: [Follow(FollowKind.KEYWORD, "model")],
        11: [Follow(FollowKind.KEYWORD, "language")],
    }
    for index, user in enumerate(users):
        for follow in follows.get(index, []):
            await store.add_follow(user, follow)
        if index in (0, 1, 3, 5, 6, 7, 8, 11):  # three likes of their own
            for pid in earlier[3 * index : 3 * index + 3]:
                await relevance.rate(user, pid, FeedbackAction.LIKE)
        if index in (1, 5):
            await relevance.rate(user, earlier[-1 - index], FeedbackAction.DISLIKE)
        if index == 6:
            await relevance.rate(user, earlier[-10], FeedbackAction.SAVE)
    await relevance.mute(users[5], MuteKind.KEYWORD, "model")
    await relevance.mute(users[7], MuteKind.KEYWORD, "language")
    return users  # users[9]: nothing known, ranked by popularity


async def test_members_ranked_together_get_what_each_gets_alone(storage) -> None:
    await real_days(storage)
    users = await members(storage)
    papers = await storage.papers_on_day(dt.date.fromisoformat(DAYS[2]))

    alone = service(storage)
    await alone.sync_vectors()
    each = [lines(await alone.rank_member_day(u, papers)) for u in users]
    assert alone.rank_batches.batches == len(users)  # one after another: a batch each

    together = service(storage)
    ranked = await asyncio.gather(*(together.rank_member_day(u, papers) for u in users))
    assert [lines(r) for r in ranked] == each
    assert together.rank_batches.members == len(users)
    assert together.rank_batches.batches < len(users)  # asked at once: ranked together
    assert sum(1 for e in each if e) >= len(users) - 2, "most members have picks"
    assert sum(len(e) for e in each) > 10 * len(users)

    # And what the engine gives one member alone, on papers no one else was ranked
    # against (nothing explained for another member is reused), muted papers left out.
    by_id = {p.id: p for p in papers}
    for user, got in zip(users, ranked, strict=True):
        muted = MuteFilter(await together.mutes(user))
        engine = [
            (int(p.paper_id), p.score, p.why.lines())
            for p in rank(await together.model(user), await together._candidates(papers))
            if not muted.hides(by_id[int(p.paper_id)])
        ]
        assert lines(got) == engine
    hidden = [p for p in lines(ranked[5]) if "model" in by_id[p[0]].title.lower()]
    assert not hidden  # the mute holds in a batch too


async def test_only_the_picks_shown_are_explained_with_the_ranking(storage) -> None:
    await real_days(storage)
    users = await members(storage)
    papers = await storage.papers_on_day(dt.date.fromisoformat(DAYS[2]))
    relevance = service(storage)
    user = users[7]  # a broad keyword: many picks
    whole = await relevance.rank_member_day(user, papers)
    assert all(p.pick.explained for p in whole)

    shown = await relevance.rank_member_day(user, papers, explain=3)
    assert [p.pick.explained for p in shown] == [True] * 3 + [False] * (len(whole) - 3)
    assert lines(shown) == lines(whole)  # read later, the same why
    assert all(p.pick.explained for p in shown)

    cut = await relevance.rank_member_day(user, papers, limit=2, explain=10)
    assert [p.pick.explained for p in cut] == [True, True]
    assert lines(cut) == lines(whole[:2])


def test_followed_topics_are_encoded_once_for_every_model_alike() -> None:
    data, encoded = labelled_corpus()
    stats = encoded.stats
    topics = load_default_topics()
    day = subset(encoded.corpus, data.days[sorted(data.days)[10]])
    likes = [Rated(encoded.texts[r], encoded.vectors[r], Signal.LIKE) for r in (3, 40, 41)]
    known = TopicVectors(stats)
    for follows, ratings in (
        (Follows(tuple(topics[:2])), []),
        (Follows(tuple(topics[1:4]), ("J. Smith",)), likes),
        (Follows(tuple(topics[:1])), likes[:1]),
    ):
        shared = build_model(ratings, follows, stats, known)
        alone = build_model(ratings, follows, stats)
        assert shared.follows is not None and alone.follows is not None
        assert np.array_equal(shared.follows.vectors.dense, alone.follows.vectors.dense)
        for got, want in zip(
            shared.follows.vectors.sparse, alone.follows.vectors.sparse, strict=True
        ):
            assert np.array_equal(got, want)
        assert rank(shared, day) == rank(alone, day)
    first = known.of(topics[:1])[0]
    assert known.of(topics[:3])[0] is first  # encoded once, then kept
