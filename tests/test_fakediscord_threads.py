"""The fake Discord's threads, through the real discord.py client: started from a
message (and 160004 on a second try), posted into, archived (by idle time and by hand)
and listed, payload limits checked, and refused without the permissions Discord asks."""

from __future__ import annotations

import asyncio

import discord
import pytest

from bot.fakediscord import DEFAULT_EVERYONE_PERMISSIONS
from bot.fakediscord.util import SEND_MESSAGES_IN_THREADS
from tests.test_fakediscord import world

THREAD_ROUTE = "POST /channels/{channel_id}/messages/{message_id}/threads"


async def test_a_thread_from_a_message_once_posted_into_archived_and_listed() -> None:
    async with world() as (fake, bot, ids):
        channel = bot.get_channel(ids["papers"])
        assert isinstance(channel, discord.TextChannel)
        message = await channel.send("a paper")
        thread = await message.create_thread(name="Talk about it", auto_archive_duration=60)
        assert thread.id == message.id and thread.parent_id == channel.id
        assert thread.auto_archive_duration == 60 and not thread.archived
        with pytest.raises(discord.HTTPException) as second:
            await message.create_thread(name="Again")
        assert second.value.code == 160004
        assert len(fake.threads(channel.id)) == 1

        posted = await thread.send("first reply")
        assert [m["content"] for m in fake.channel_messages(thread.id)] == ["first reply"]
        assert int(posted.channel.id) == thread.id
        # THREAD_CREATE put it in the client's cache, under its guild.
        assert bot.get_guild(ids["guild"]).get_thread(thread.id) is not None

        # An hour without messages archives it (THREAD_UPDATE); it is listed as such.
        assert fake.idle_threads(59) == []
        update = asyncio.ensure_future(bot.wait_for("raw_thread_update", timeout=5))
        await asyncio.sleep(0)
        assert fake.idle_threads(1) == [thread.id]
        raw = await update
        assert raw.thread_id == thread.id and raw.data["thread_metadata"]["archived"] is True
        listed = [t.id async for t in channel.archived_threads()]
        assert listed == [thread.id]
        # Writing in it reopens it, as on Discord.
        await thread.send("back again")
        assert fake.threads(channel.id)[0]["thread_metadata"]["archived"] is False
        # Unarchiving by edit, after a moderator archived it.
        fake.archive_thread(thread.id)
        await bot.http.edit_channel(thread.id, archived=False)
        assert fake.threads(channel.id)[0]["thread_metadata"]["archived"] is False
        # The thread requests were valid (the probe's own messages ping as they like).
        assert [r for r, _ in fake.payload_problems if "threads" in r] == []


async def test_thread_names_and_durations_are_checked() -> None:
    async with world(strict=True) as (fake, bot, ids):
        channel = bot.get_channel(ids["papers"])
        message = await channel.send("a paper", allowed_mentions=discord.AllowedMentions.none())
        with pytest.raises(discord.HTTPException) as long_name:
            await message.create_thread(name="x" * 101)
        assert long_name.value.code == 50035
        with pytest.raises(discord.HTTPException) as bad_duration:
            # 30 minutes: not a duration Discord takes
            await message.create_thread(name="ok", auto_archive_duration=30)
        assert bad_duration.value.code == 50035
        problems = [p for _, found in fake.payload_problems for p in found]
        assert any("101 characters" in p for p in problems)
        assert any("auto_archive_duration 30" in p for p in problems)
        assert fake.threads() == []
        thread = await message.create_thread(name="x" * 100, auto_archive_duration=10080)
        assert thread.name == "x" * 100


async def test_threads_need_their_permissions() -> None:
    async with world() as (fake, bot, ids):
        channel = bot.get_channel(ids["papers"])
        message = await channel.send("a paper")
        fake.set_bot_permissions(ids["guild"], DEFAULT_EVERYONE_PERMISSIONS)
        with pytest.raises(discord.Forbidden) as refused:
            await message.create_thread(name="no")
        assert refused.value.code == 50013
        fake.set_bot_permissions(ids["guild"], DEFAULT_EVERYONE_PERMISSIONS | (1 << 35))
        thread = await message.create_thread(name="yes")
        without = DEFAULT_EVERYONE_PERMISSIONS & ~SEND_MESSAGES_IN_THREADS
        fake.set_bot_permissions(ids["guild"], without | (1 << 35))
        fake.set_role_permissions(ids["guild"], ids["guild"], without)
        with pytest.raises(discord.Forbidden):
            await thread.send("not allowed")
        assert fake.channel_messages(thread.id) == []
        fake.delete_channel(thread.id)
        with pytest.raises(discord.NotFound):
            await bot.fetch_channel(thread.id)
