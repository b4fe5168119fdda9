"""`/digest pause` and `/digest resume`, and what `/digest now` says when there is nothing
it can post: through the real discord.py client, the fake Discord, APScheduler jobs and a
real SQLite file, with a hand-moved clock."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from bot.core.delivery_plan import digest_marker
from tests.discord_harness import Clock, bot_against_fake, mention_leaks, settle
from tests.test_scheduling_e2e import berlin, post_attempts, posts, subscribe, tiny_dump

EXTENSIONS = ("cogs.digest", "cogs.operate")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def world(tmp_path, caplog, clock):
    caplog.set_level(logging.WARNING)
    async with bot_against_fake(
        tmp_path, extensions=EXTENSIONS, clock=clock, scheduler=True
    ) as running:
        fake, _, _ = running
        yield running
        await settle()
        assert fake.payload_problems == [] and mention_leaks(fake) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def digest(fake, ids, command: str, channel: int, user: int | None = None):
    return await fake.invoke(
        ids.guild, ids.channel, user or ids.admin, f"digest {command}", {"channel": channel}
    )


def line_for(text: str, channel: int) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"<#{channel}>"))


async def test_pause_stops_the_schedule_and_resume_restarts_it(world, clock) -> None:
    fake, bot, ids = world
    await subscribe(fake, ids, ids.channel)
    target = f"channel:{ids.channel}"
    assert bot.services.schedules.next_run(target) is not None

    paused = await digest(fake, ids, "pause", ids.channel)
    assert paused.ephemeral
    assert paused.content == (
        f"⏸️ Paused the digest for <#{ids.channel}>; its settings are kept. "
        "`/digest resume` restarts it."
    )
    assert bot.services.schedules.next_run(target) is None  # no cron job any more
    listed = await fake.invoke(ids.guild, ids.channel, ids.admin, "digest list")
    assert line_for(listed.content, ids.channel).endswith("⏸️ paused; `/digest resume` restarts it")
    status = await fake.invoke(ids.guild, ids.channel, ids.admin, "status")
    assert "⏸️ paused; `/digest resume` restarts it" in line_for(status.content, ids.channel)

    # The scheduler skips it: neither the cron fire nor the catch-up sweep posts.
    clock.now = at = berlin(3, 16, 8)
    await bot.services.schedules.fire(target, at)
    assert await bot.services.schedules.sweep(at + dt.timedelta(minutes=1)) == []
    assert post_attempts(fake, ids.channel) == 0
    now = await digest(fake, ids, "now", ids.channel)
    assert now.content == (
        f"The digest for <#{ids.channel}> is paused. Run `/digest resume` to post it again."
    )
    assert post_attempts(fake, ids.channel) == 0

    resumed = await digest(fake, ids, "resume", ids.channel)
    assert resumed.content.startswith(f"▶️ The digest for <#{ids.channel}> is back on. Next: <t:")
    sub = await bot.storage.channel_subscription(ids.channel)
    assert (sub.paused, sub.failures) == (False, 0)
    next_run = bot.services.schedules.next_run(target)
    assert next_run is not None and next_run > clock.now
    clock.now = at = berlin(3, 17, 8)
    await bot.services.schedules.fire(target, at)
    [posted] = posts(fake, ids.channel)
    assert digest_marker(dt.date(2026, 3, 14)) in posted["content"]

    again = await digest(fake, ids, "resume", ids.channel)
    assert again.ephemeral and again.content.startswith(
        f"The digest for <#{ids.channel}> isn't paused: it posts next <t:"
    )


async def test_resume_after_failures_clears_them_without_resubscribing(world, clock) -> None:
    fake, bot, ids = world
    forbidden = fake.add_channel(ids.guild, "forbidden")
    await subscribe(fake, ids, forbidden)
    fake.fail_channel(forbidden, 403)
    for day in (16, 17, 18):
        await tiny_dump(bot, dt.date(2026, 3, day))
        clock.now = at = berlin(3, day, 8)
        await bot.services.schedules.fire(f"channel:{forbidden}", at)
    sub = await bot.storage.channel_subscription(forbidden)
    assert (sub.paused, sub.failures) == (True, 3)

    now = await digest(fake, ids, "now", forbidden)
    assert now.content.startswith(
        f"The digest for <#{forbidden}> is paused after 3 failed posts (403 "
    )
    assert now.content.endswith("Fix my permissions there, then run `/digest resume`.")
    listed = await fake.invoke(ids.guild, ids.channel, ids.admin, "digest list")
    assert "⏸️ paused after 3 failures: 403" in line_for(listed.content, forbidden)
    assert line_for(listed.content, forbidden).endswith(
        "Fix my permissions there, then `/digest resume`"
    )

    fake.restore_channel(forbidden)
    resumed = await digest(fake, ids, "resume", forbidden)
    assert resumed.content.startswith(f"▶️ The digest for <#{forbidden}> is back on.")
    sub = await bot.storage.channel_subscription(forbidden)
    assert (sub.paused, sub.failures, sub.last_error) == (False, 0, None)
    posted = await digest(fake, ids, "now", forbidden)
    assert posted.content == f"Posted the digest for 2026-03-18 in <#{forbidden}>."
    [message] = posts(fake, forbidden)
    assert digest_marker(dt.date(2026, 3, 18)) in message["content"]


async def test_digest_now_on_an_empty_database_says_there_are_no_papers(tmp_path) -> None:
    async with bot_against_fake(
        tmp_path, extensions=EXTENSIONS, ingest_sample=False, scheduler=True
    ) as (fake, _, ids):
        await subscribe(fake, ids, ids.channel)
        reply = await digest(fake, ids, "now", ids.channel)
        assert reply.ephemeral
        assert reply.content == (
            "There are no papers yet, so there is no digest to post: ingest a dump first "
            "(`/ingest`)."
        )
