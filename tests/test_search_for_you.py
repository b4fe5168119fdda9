"""/search through the fake Discord: natural-language queries ranked by words and
meaning (hybrid), and `sort: for you` putting the member's kind of paper first."""

from __future__ import annotations

from bot.core.feedback import FeedbackAction
from tests.test_cog_search import search, world  # noqa: F401

QUERY = "self-supervised learning"  # the sample holds speech and non-speech papers on it


async def test_for_you_sort_puts_the_members_subject_first(world) -> None:  # noqa: F811
    fake, bot, ids = world
    await bot.services.relevance.sync_vectors()  # as after the sample's ingest
    papers = await bot.storage.papers_on_day(max(await bot.storage.days(limit=1)))
    speech = {p.title for p in papers if any(h.topic == "speech-audio" for h in p.topics)}
    liked = next(p for p in papers if p.title.startswith("W2v-BERT"))
    await bot.services.relevance.rate(ids.user, liked.id, FeedbackAction.LIKE, ids.guild)

    everyone = await search(fake, ids, query=QUERY)
    mine = await search(fake, ids, query=QUERY, sort="for you")
    shown = [e["title"] for e in everyone.embeds]
    for_me = [e["title"] for e in mine.embeds]
    assert mine.content == everyone.content  # the same matches, in the member's order
    assert for_me[0] in speech
    firsts = len([t for t in for_me[:3] if t in speech])
    assert firsts > len([t for t in shown[:3] if t in speech])
    # Another member's for-you order is not this member's.
    other = await search(fake, ids, user=ids.other, query=QUERY, sort="for you")
    assert [e["title"] for e in other.embeds] == shown
