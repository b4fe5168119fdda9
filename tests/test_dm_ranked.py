"""A member's DM digest ranked by their model (docs/RELEVANCE.md): their picks above the
calibrated threshold, best first, each with why; muted papers never; and no DM at all
when nothing passes, the day recorded as done so it is not retried. Through the real
bot against the fake Discord; feedback through the relevance service's port."""

from __future__ import annotations

import datetime as dt
import re

from bot.core.feedback import FeedbackAction, MuteKind
from bot.core.member_digest import MAX_PICKS
from tests.discord_harness import SAMPLE_DAY
from tests.test_cog_follow import MORNING, run, sample_papers, world  # noqa: F401


def why_of(embed: dict) -> str:
    [line] = [x for x in embed["description"].splitlines() if x.startswith("**Why:** ")]
    return line


def unescaped(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


async def test_dm_lists_the_members_picks_best_first_with_why(world) -> None:  # noqa: F811
    fake, bot, ids = world
    await run(fake, ids, "follow", keyword="protein")
    papers = await sample_papers(bot)
    speech = [p for p in papers if any(h.topic == "speech-audio" for h in p.topics)]
    liked = next(p for p in speech if "Self-Supervised Speech Representation" in p.title)
    # A 👍 on one speech paper: more like it, though the member follows no speech topic.
    await bot.services.relevance.rate(ids.user, liked.id, FeedbackAction.LIKE, ids.guild)

    await bot.services.schedules.fire(f"user:{ids.user}", MORNING)
    [dm] = fake.dm_messages(ids.user)
    assert "picked for you from what you rate and follow" in dm["content"]
    picks = await bot.services.relevance.rank_member_day(ids.user, papers)
    titles = [e["title"] for e in dm["embeds"]]
    # Best first: the model's order, the first page of it.
    assert titles == [r.paper.title for r in picks][: len(titles)]
    assert liked.title not in titles  # rated already
    shown = {r.paper.title: r for r in picks}
    learned = [t for t in titles if "like “" in why_of(dm["embeds"][titles.index(t)])]
    assert learned, "some pick comes from the 👍, not from a follow"
    for title in learned:
        why = unescaped(why_of(dm["embeds"][titles.index(title)]))
        assert why.startswith("**Why:** like “Self-Supervised Speech Representation")
        assert "you liked · " in why  # and the shared words that weighed most
        assert any(h.topic == "speech-audio" for h in shown[title].paper.topics)
    # Every protein paper (the follow) is there too, wherever it ranks.
    followed = {p.title for p in papers if re.search(r"\bproteins?\b", p.title + p.abstract, re.I)}
    assert followed <= set(shown)
    record = await bot.storage.delivery(f"user:{ids.user}", SAMPLE_DAY)
    assert record.status == "sent" and record.message_id == int(dm["id"])


async def test_muted_papers_never_appear_in_the_dm(world) -> None:  # noqa: F811
    fake, bot, ids = world
    await run(fake, ids, "follow", topic="speech-audio")
    await bot.services.relevance.mute(ids.user, MuteKind.KEYWORD, "audio")
    await bot.services.schedules.fire(f"user:{ids.user}", MORNING)
    [dm] = fake.dm_messages(ids.user)
    shown = [e["title"] for e in dm["embeds"]]
    papers = {p.title: p for p in await sample_papers(bot)}
    assert shown and all("audio" not in (t + papers[t].abstract).casefold() for t in shown)


async def test_nothing_above_the_threshold_sends_no_dm_and_the_day_is_done(world) -> None:  # noqa: F811
    fake, bot, ids = world
    # Every paper the follow matches is muted: nothing passes for this member today.
    await run(fake, ids, "follow", keyword="protein")
    await bot.services.relevance.mute(ids.user, MuteKind.KEYWORD, "protein")
    await bot.services.schedules.fire(f"user:{ids.user}", MORNING)
    assert fake.dm_messages(ids.user) == []
    assert fake.requests_matching("POST /users/@me/channels") == []
    record = await bot.storage.delivery(f"user:{ids.user}", SAMPLE_DAY)
    assert record.status == "empty"
    # Not retried: later fires and a sweep send nothing and leave the day done.
    await bot.services.schedules.fire(f"user:{ids.user}", MORNING + dt.timedelta(minutes=5))
    await bot.services.schedules.sweep(MORNING + dt.timedelta(minutes=10))
    assert fake.dm_messages(ids.user) == []
    assert (await bot.storage.delivery(f"user:{ids.user}", SAMPLE_DAY)).status == "empty"


async def test_a_member_with_many_picks_gets_the_best_ones_first(world) -> None:  # noqa: F811
    fake, bot, ids = world
    # "model" is in most of the sample's papers: far more picks than one DM shows.
    await run(fake, ids, "follow", keyword="model")
    papers = await sample_papers(bot)
    picks = await bot.services.relevance.rank_member_day(ids.user, papers)
    assert len(picks) > MAX_PICKS
    await bot.services.schedules.fire(f"user:{ids.user}", MORNING)
    [dm] = fake.dm_messages(ids.user)
    assert f"the best {MAX_PICKS} of {len(picks)} papers picked for you" in dm["content"]
    assert [e["title"] for e in dm["embeds"]] == [r.paper.title for r in picks[:5]]
