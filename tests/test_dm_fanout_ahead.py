"""A DM fan-out works out only a few seconds of posts ahead of the pacer: every member
due at the same minute is fired at once, but no more than `members_ahead` of them are
being ranked, laid out or posted at a time, and every one of them still gets their DM
exactly once, laid out as for them alone (bot/services/delivery.py). Through the real
bot against the fake Discord, on a real SQLite file."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from bot.core.feedback import FeedbackAction
from bot.core.member_digest import MAX_PICKS, member_digest_pages
from bot.core.subscriptions import Follow, FollowKind
from tests.discord_harness import SAMPLE_DAY, bot_against_fake

MORNING = dt.datetime(2026, 3, 15, 8, 0, tzinfo=dt.UTC)
MEMBERS = 90
RATE = 15.0  # posts/s: two seconds ahead is 30 members, 60 fires: fewer than are due
KEYWORDS = ("model", "language", "learning", "speech", "protein", "image")


async def test_members_are_worked_out_a_few_seconds_ahead_of_posting(tmp_path: Path) -> None:
    async with bot_against_fake(
        tmp_path, extensions=(), settings={"max_posts_per_second": RATE}
    ) as (fake, bot, ids):
        delivery, schedules = bot.services.delivery, bot.services.schedules
        assert delivery.members_ahead < schedules.member_fires_at_once < MEMBERS
        users = []
        for index in range(MEMBERS):
            user = fake.add_member(ids.guild, f"reader-{index}")
            await bot.storage.add_follow(
                user, Follow(FollowKind.KEYWORD, KEYWORDS[index % len(KEYWORDS)])
            )
            await bot.storage.set_user_delivery(user, "08:00", "UTC")
            users.append(user)

        seen: list[tuple[int, int]] = []
        fan_out = asyncio.gather(*(schedules.fire(f"user:{u}", MORNING) for u in users))
        while not fan_out.done():
            seen.append((delivery.members_in_progress, schedules.member_fires_in_progress))
            await asyncio.sleep(0.005)
        await fan_out

        # As many as allowed, never more: members worked out, and members' fires (each
        # reading the member's settings) under way.
        assert max(worked for worked, _ in seen) == delivery.members_ahead
        assert max(fired for _, fired in seen) == schedules.member_fires_at_once
        assert delivery.members_in_progress == schedules.member_fires_in_progress == 0
        for user in users:
            [dm] = fake.dm_messages(user)
            record = await bot.storage.delivery(f"user:{user}", SAMPLE_DAY)
            assert record.status == "sent" and record.message_id == int(dm["id"])


async def test_dms_laid_out_in_a_fan_out_are_what_each_member_alone_gets(
    tmp_path: Path,
) -> None:
    """Papers are laid out once per why for every member of a fan-out: members who
    follow the same words, some with likes of their own, each get the DM laid out for
    them alone."""
    async with bot_against_fake(tmp_path, extensions=()) as (fake, bot, ids):
        papers = await bot.storage.papers_on_day(SAMPLE_DAY)
        users = []
        for index in range(12):
            user = fake.add_member(ids.guild, f"reader-{index}")
            await bot.storage.add_follow(user, Follow(FollowKind.KEYWORD, KEYWORDS[index % 3]))
            await bot.storage.set_user_delivery(user, "08:00", "UTC")
            if index % 2:
                for paper in papers[index : index + 2]:
                    await bot.services.relevance.rate(user, paper.id, FeedbackAction.LIKE)
            users.append(user)
        await asyncio.gather(*(bot.services.schedules.fire(f"user:{u}", MORNING) for u in users))

        for user in users:
            [dm] = fake.dm_messages(user)
            picks = await bot.services.relevance.rank_member_day(user, papers)
            chosen = [(p.paper, tuple(p.why_lines())) for p in picks[:MAX_PICKS]]
            follows = (await bot.storage.user_delivery(user)).follows
            names = await bot.services.topics.member_topic_names(follows)
            alone = member_digest_pages(chosen, SAMPLE_DAY, names, ranked=True, picked=len(picks))[
                0
            ]
            assert dm["content"].startswith(alone["content"])
            assert [(e["title"], e["description"]) for e in dm["embeds"]] == [
                (e["title"], e["description"]) for e in alone["embeds"]
            ]
