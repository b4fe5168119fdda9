"""`/digest subscribe … order: relevance`: a channel digest ordered by this server's
members' 👍 per paper, with HF upvotes where known (score = 👍 + log10(1 + upvotes)).
Real clicks through the feedback port, then the digest through the fake Discord, on a
real HF day."""

from __future__ import annotations

import math

from bot.core.feedback import FeedbackAction
from tests.hf_days import TODAY_SHAPE, day_items
from tests.test_cog_digest import digest, posts, subscribe
from tests.test_hf_digest_e2e import hf_pages, ingest, shown, world  # noqa: F401


async def test_relevance_order_puts_this_servers_likes_first(world) -> None:  # noqa: F811
    fake, bot, ids = world
    real = day_items(TODAY_SHAPE)  # most upvoted first
    await ingest(bot, real, f"{TODAY_SHAPE}.json")
    day_papers = await bot.storage.papers_on_day(max(await bot.storage.days(limit=1)))
    by_arxiv = {p.arxiv_id: p.id for p in day_papers}
    assert len(by_arxiv) == len(real)

    def paper_id(item: dict) -> int:
        return by_arxiv[item["paper"]["id"]]

    least, second_least = real[-1], real[-2]  # the day's least upvoted papers
    least_id, second_id = paper_id(least), paper_id(second_least)
    reader, other_reader = ids.user, fake.add_member(ids.guild, "another-reader")
    stranger_guild = fake.add_guild("elsewhere")
    stranger = fake.add_member(stranger_guild, "stranger")
    rate = bot.services.relevance.rate
    # Two of this server's members like the least upvoted paper; one likes the second
    # least; a like in another server and a dislike here count for nothing.
    await rate(reader, least_id, FeedbackAction.LIKE, ids.guild)
    await rate(other_reader, least_id, FeedbackAction.LIKE, ids.guild)
    await rate(other_reader, least_id, FeedbackAction.LIKE, ids.guild)  # the same click again
    await rate(reader, second_id, FeedbackAction.LIKE, ids.guild)
    third_id = paper_id(real[-3])
    await rate(stranger, third_id, FeedbackAction.LIKE, stranger_guild)
    await rate(other_reader, third_id, FeedbackAction.DISLIKE, ids.guild)

    done = await subscribe(fake, ids, order="relevance", max="5")
    assert "most liked here first" in done.content, done.content
    await digest(fake, ids, "now", channel=ids.channel)
    [post] = posts(fake, ids.channel)

    likes = {hf_pages([least])[0]: 2, hf_pages([second_least])[0]: 1}

    def score(item: dict) -> float:
        page = hf_pages([item])[0]
        return likes.get(page, 0) + math.log10(1 + item["paper"]["upvotes"])

    expected = sorted(real, key=lambda i: (-score(i), -i["paper"]["upvotes"]))[:5]
    assert shown(post) == hf_pages(expected)
    # The 👍 moved the day's least upvoted papers up past well-upvoted ones.
    assert hf_pages([least])[0] in shown(post)
    assert shown(post) != hf_pages(real[:5])
