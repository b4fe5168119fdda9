"""Members' DM channels are remembered: a DM costs one request (the message), not two
(opening the channel, then the message), also after a restart, when discord.py's own
cache of 128 DM channels is empty anyway. A remembered channel that is gone is opened
again once; closed DMs are still closed DMs. Through the real bot against the fake
Discord, on a real SQLite file."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from bot.core.ingest import ingest_bytes
from bot.fakediscord import FakeDiscord
from tests.discord_harness import (
    SAMPLE_DAY,
    SAMPLE_DUMP,
    SAMPLE_TODAY,
    Ids,
    bot_against_fake,
    build_world,
    mention_leaks,
)

OPEN_DM = "POST /users/@me/channels"
POST = "POST /channels/{channel_id}/messages"
MORNING = dt.datetime(2026, 3, 15, 8, 0, tzinfo=dt.UTC)
NEXT_DAY = SAMPLE_DAY + dt.timedelta(days=1)
NEXT_MORNING = MORNING + dt.timedelta(days=1)
EXTENSIONS = ("cogs.follow", "cogs.operate")


async def follow(fake: FakeDiscord, ids: Ids, user: int, keyword: str) -> None:
    reply = await fake.invoke(ids.guild, ids.channel, user, "follow", {"keyword": keyword})
    assert "follow" in reply.content.casefold(), reply.content


async def ingest_next_day(bot) -> None:
    """The sample's papers again, listed on the day after: a second day to DM."""
    dump = SAMPLE_DUMP.read_bytes().replace(b"Mar 14", b"Mar 15", 1)
    report = await ingest_bytes(bot.storage, dump, "next_day.txt", today=SAMPLE_TODAY)
    assert report.error is None, report.error
    assert NEXT_DAY in await bot.storage.days(limit=5)


def dms_posted(fake: FakeDiscord, user: int) -> list[dict]:
    return fake.dm_messages(user)


async def test_a_members_dm_channel_is_opened_once_across_fan_outs_and_restarts(
    tmp_path: Path,
) -> None:
    async with FakeDiscord() as fake:
        ids = build_world(fake)
        members = (ids.user, ids.other)
        async with bot_against_fake(tmp_path, extensions=EXTENSIONS, fake=fake, ids=ids) as (
            _,
            bot,
            _,
        ):
            await follow(fake, ids, ids.user, "protein")
            await follow(fake, ids, ids.other, "speech")
            for user in members:
                await bot.services.schedules.fire(f"user:{user}", MORNING)
            assert [len(dms_posted(fake, u)) for u in members] == [1, 1]
            assert len(fake.requests_matching(OPEN_DM)) == 2  # the first DM opens it
        # A restart: discord.py's cache of DM channels starts empty.
        async with bot_against_fake(
            tmp_path, extensions=EXTENSIONS, fake=fake, ids=ids, ingest_sample=False
        ) as (_, bot, _):
            await ingest_next_day(bot)
            for user in members:
                await bot.services.schedules.fire(f"user:{user}", NEXT_MORNING)
            assert [len(dms_posted(fake, u)) for u in members] == [2, 2]
            for user in members:
                record = await bot.storage.delivery(f"user:{user}", NEXT_DAY)
                assert record.status == "sent"
        # Two fan-outs, two members: two channels opened, four DMs sent.
        assert len(fake.requests_matching(OPEN_DM)) == 2
        dm_channels = {fake.state.dm_channels[u] for u in members}
        sent = [
            r for r in fake.requests_matching(POST) if int(r.params["channel_id"]) in dm_channels
        ]
        assert len(sent) == 4
        assert mention_leaks(fake) == []


async def test_a_remembered_dm_channel_that_is_gone_is_opened_again_once(
    tmp_path: Path, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="paperbot.delivery")
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS) as (fake, bot, ids):
        await follow(fake, ids, ids.user, "protein")
        await bot.services.schedules.fire(f"user:{ids.user}", MORNING)
        old = await bot.storage.dm_channel(ids.user)
        assert old == fake.state.dm_channels[ids.user]
        fake.delete_channel(old)  # Discord no longer knows the remembered id: 404 10003

        await ingest_next_day(bot)
        await bot.services.schedules.fire(f"user:{ids.user}", NEXT_MORNING)
        new = await bot.storage.dm_channel(ids.user)
        assert new is not None and new != old
        assert new == fake.state.dm_channels[ids.user]
        # One 404 on the old channel, one reopen, the DM in the new channel.
        refused = [r for r in fake.requests_matching(POST, channel_id=old) if r.status == 404]
        assert len(refused) == 1
        assert len(fake.requests_matching(OPEN_DM)) == 2
        [dm] = fake.channel_messages(new)
        record = await bot.storage.delivery(f"user:{ids.user}", NEXT_DAY)
        assert record.status == "sent" and record.message_id == int(dm["id"])
        assert any("opening it again" in r.getMessage() for r in caplog.records)


async def test_closed_dms_on_a_remembered_channel_stay_closed_dms(tmp_path: Path) -> None:
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS) as (fake, bot, ids):
        await follow(fake, ids, ids.user, "protein")
        await bot.services.schedules.fire(f"user:{ids.user}", MORNING)
        assert await bot.storage.dm_channel(ids.user) is not None
        fake.refuse_dms(ids.user)  # 403 code 50007: not a gone channel, no reopening

        await ingest_next_day(bot)
        await bot.services.schedules.fire(f"user:{ids.user}", NEXT_MORNING)
        assert len(fake.requests_matching(OPEN_DM)) == 1
        assert (await bot.storage.user_delivery(ids.user)).dm_closed
        record = await bot.storage.delivery(f"user:{ids.user}", NEXT_DAY)
        assert record.status == "failed" and "50007" in record.detail


async def test_unranked_dms_are_each_members_own_when_laid_out_once(tmp_path: Path) -> None:
    """Without a ranker a DM lists every paper matching a follow; members who follow the
    same words share one layout, and nobody gets another member's papers or why."""
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS) as (fake, bot, ids):
        third = fake.add_member(ids.guild, "dave")
        await follow(fake, ids, ids.user, "protein")
        await follow(fake, ids, ids.other, "speech")
        await follow(fake, ids, third, "protein")
        bot.services.delivery.ranker = None
        for user in (ids.user, ids.other, third):
            await bot.services.schedules.fire(f"user:{user}", MORNING)
        [alice], [bob], [dave] = (fake.dm_messages(u) for u in (ids.user, ids.other, third))
        papers = await bot.storage.papers_on_day(SAMPLE_DAY)
        for dm, word in ((alice, "protein"), (bob, "speech"), (dave, "protein")):
            assert "matching what you follow" in dm["content"]
            titles = [e["title"] for e in dm["embeds"]]
            assert titles and all(f"keyword “{word}”" in e["description"] for e in dm["embeds"])
            matching = [p for p in papers if word in (p.title + " " + p.abstract).casefold()]
            assert {p.title for p in matching} >= set(titles)
        assert alice["embeds"] == dave["embeds"] != bob["embeds"]
