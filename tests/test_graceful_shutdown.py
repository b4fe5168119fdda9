"""Graceful shutdown: README ("Deploying at scale") promises that on `systemctl stop`
(SIGTERM) "paperbot finishes the message in flight before it exits". Closing the bot
must let a post already sent to Discord be answered and recorded, not cut it off."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.core.subscriptions import ChannelSubscription
from bot.fakediscord import FakeDiscord
from tests.discord_harness import SAMPLE_DAY, Clock, paperbot_on

START = dt.datetime(2026, 3, 15, 8, 0, 30, tzinfo=dt.UTC)


async def test_closing_the_bot_finishes_the_post_in_flight(tmp_path) -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_guild("g")
        channel = fake.add_channel(guild, "papers")
        async with paperbot_on(fake, tmp_path, extensions=(), clock=Clock(START)) as bot:
            sub = ChannelSubscription(channel, guild, "08:00", "UTC", (), 5)
            await bot.storage.upsert_channel_subscription(sub)
            # Discord accepts the post but answers only a second later.
            route = "POST /channels/{channel_id}/messages"
            fake.faults.hold_response(route, seconds=1)
            fire = asyncio.create_task(bot.services.schedules.fire(sub.target, START))
            await fake.wait_for_request(route)  # the post is on its way
            assert not fire.done()  # its answer is still held back
            await bot.close()  # what SIGTERM does
            await fire
            record = await bot.storage.delivery(sub.target, SAMPLE_DAY)
            assert record is not None and record.status == "sent", record


async def test_closing_lets_a_scheduled_post_in_flight_finish_and_be_recorded(tmp_path) -> None:
    """The post comes from a cron job the scheduler is running (as on a real SIGTERM):
    closing must not cancel that job while Discord holds its answer, but stop new
    jobs, wait for the post, and only then shut the scheduler down."""
    async with FakeDiscord() as fake:
        guild = fake.add_guild("g")
        channel = fake.add_channel(guild, "papers")
        clock = Clock(START)
        async with paperbot_on(fake, tmp_path, extensions=(), clock=clock, scheduler=True) as bot:
            schedules = bot.services.schedules
            sub = ChannelSubscription(channel, guild, "08:00", "UTC", (), 5)
            await bot.storage.upsert_channel_subscription(sub)
            await schedules.rebuild()
            route = "POST /channels/{channel_id}/messages"
            fake.faults.hold_response(route, seconds=1)
            # The channel's cron job fires now, run by the scheduler itself.
            schedules.scheduler.modify_job(sub.target, next_run_time=dt.datetime.now(dt.UTC))
            schedules.scheduler.resume()
            await fake.wait_for_request(route)  # the post is on its way, its answer held
            assert await bot.storage.delivery(sub.target, SAMPLE_DAY) is not None
            await bot.close()  # what SIGTERM does
            record = await bot.storage.delivery(sub.target, SAMPLE_DAY)
            assert record is not None and record.status == "sent", record
            assert len(fake.channel_messages(channel)) == 1
