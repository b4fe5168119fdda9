"""Scheduled channel digests end to end: a real PaperBot (discord.py client, APScheduler
jobs, SQLite) against the fake Discord, driven by a hand-moved clock. Each digest must
reach its channel exactly once per day, through repeated cron fires, catch-up sweeps,
restarts and a crash between the send and the ledger update."""

from __future__ import annotations

import datetime as dt
import json
import logging
from zoneinfo import ZoneInfo

import pytest

from bot.cli.settings import Settings
from bot.core.delivery_plan import digest_marker
from bot.core.ingest import ingest_bytes
from bot.discord_app.replies import send_kwargs
from bot.discord_app.views import pager_view
from bot.fakediscord import FakeDiscord
from tests.discord_harness import (
    SAMPLE_DAY,
    Clock,
    bot_against_fake,
    build_world,
    mention_leaks,
    settle,
)

EXTENSIONS = ("cogs.digest", "cogs.operate")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def berlin(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def utc(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=dt.UTC)


def posts(fake: FakeDiscord, channel_id: int) -> list[dict]:
    """Messages the bot posted in a channel itself (not interaction responses)."""
    return fake.channel_messages(channel_id, include_interaction_responses=False)


def post_attempts(fake: FakeDiscord, channel_id: int) -> int:
    route = "POST /channels/{channel_id}/messages"
    return len(fake.requests_matching(route, channel_id=channel_id))


def check_clean(fake: FakeDiscord, caplog) -> None:
    """Every payload valid, no pings, no error logged by a command, view or job."""
    assert fake.payload_problems == []
    assert mention_leaks(fake) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.fixture
def clock() -> Clock:
    return Clock()  # 2026-03-15 12:00 UTC: the day after the sample dump


@pytest.fixture
async def fake(caplog):
    """A fake Discord that outlives the bots run against it (for restarts)."""
    caplog.set_level(logging.WARNING)
    async with FakeDiscord() as running:
        yield running
        check_clean(running, caplog)


def run_bot(tmp_path, fake, ids, clock, *, first: bool = False, **settings):
    """One bot process on the shared database and fake; `first` ingests the sample."""
    return bot_against_fake(
        tmp_path,
        extensions=EXTENSIONS,
        settings=settings,
        clock=clock,
        fake=fake,
        ids=ids,
        ingest_sample=first,
        scheduler=True,
    )


async def subscribe(fake, ids, channel: int, time: str = "08:00", zone: str = "Europe/Berlin"):
    reply = await fake.invoke(
        ids.guild,
        ids.channel,
        ids.admin,
        "digest subscribe",
        {"channel": channel, "time": time, "timezone": zone},
    )
    assert reply.content.startswith("📬"), reply.content
    return reply


async def tiny_dump(bot, day: dt.date) -> None:
    """Two new papers dated `day` (the sample has 98 on 2026-03-14)."""
    items = [
        {"paper": {"title": f"Tiny paper {n} of {day}", "summary": f"Finding {n} on {day}."}}
        for n in (1, 2)
    ]
    raw = json.dumps(items).encode()
    report = await ingest_bytes(bot.storage, raw, f"{day}.json", cli_date=day, today=day)
    assert report.error is None and report.new == 2, report


def button_id(message: dict, label: str) -> str:
    for row in message["components"]:
        for component in row["components"]:
            if component.get("label") == label:
                return component["custom_id"]
    raise AssertionError(f"no {label!r} button in {message['components']}")


# --- exactly once -------------------------------------------------------------------------


async def test_cron_fire_posts_once_through_repeats_and_a_restart(tmp_path, fake, clock) -> None:
    ids = build_world(fake)
    target = f"channel:{ids.channel}"
    at = berlin(3, 16, 8)
    async with run_bot(tmp_path, fake, ids, clock, first=True) as (_, bot, _):
        await subscribe(fake, ids, ids.channel)
        # Subscribed at 13:00 Berlin: today's 08:00 has passed, so the first run is tomorrow.
        assert bot.services.schedules.next_run(target).astimezone(BERLIN).time() == dt.time(8)
        assert await bot.services.schedules.sweep(clock.now) == []
        assert posts(fake, ids.channel) == []

        clock.now = at
        await bot.services.schedules.fire(target, at)
        [posted] = posts(fake, ids.channel)
        assert posted["content"].endswith(f"-# {digest_marker(SAMPLE_DAY)}")
        assert int(posted["author"]["id"]) == fake.bot_user_id
        record = await bot.storage.delivery(target, SAMPLE_DAY)
        assert (record.status, record.message_id) == ("sent", int(posted["id"]))

        # The cron job fires again (a coalesced misfire, a second process, a sweep).
        await bot.services.schedules.fire(target, at)
        await bot.services.schedules.fire(target, at + dt.timedelta(minutes=1))
        assert await bot.services.schedules.sweep(at + dt.timedelta(hours=1)) == []
        assert len(posts(fake, ids.channel)) == 1

    # A new process: new PaperBot, same database, same Discord, same channel.
    async with run_bot(tmp_path, fake, ids, clock) as (_, bot, _):
        assert bot.services.schedules.next_run(target) is not None  # jobs rebuilt from the database
        await bot.services.schedules.fire(target, at)
        assert await bot.services.schedules.sweep(at + dt.timedelta(hours=2)) == []
        # Next day, no new dump: nothing to post, and still nothing twice.
        clock.now = next_day = at + dt.timedelta(days=1)
        assert await bot.services.schedules.sweep(next_day + dt.timedelta(minutes=5)) == [target]
        await bot.services.schedules.fire(target, next_day)
        assert len(posts(fake, ids.channel)) == 1
        assert post_attempts(fake, ids.channel) == 1


async def post_like_the_bot(bot, ids, day: dt.date) -> dict:
    """What a process that died right after the POST left behind: the ledger row
    claimed ('sending'), and the digest in the channel, sent exactly as delivery sends it."""
    sub = await bot.storage.channel_subscription(ids.channel)
    record = await bot.storage.claim_delivery(sub.target, day)
    assert (record.status, record.attempts) == ("sending", 1)
    pages = await bot.services.delivery.channel_pages(sub.topics, sub.max_items, sub.guild_id, day)
    channel = bot.get_partial_messageable(ids.channel, guild_id=ids.guild)
    message = await channel.send(**send_kwargs(pages[0], pager_view("c", day, 1, len(pages))))
    return {"id": message.id}


async def test_crash_after_the_send_is_reconciled_not_resent(tmp_path, fake, clock) -> None:
    ids = build_world(fake)
    target = f"channel:{ids.channel}"
    async with run_bot(tmp_path, fake, ids, clock, first=True) as (_, bot, _):
        await subscribe(fake, ids, ids.channel)
        sent = await post_like_the_bot(bot, ids, SAMPLE_DAY)
        # ...and here the process died, before finish_delivery(..., 'sent'). A member
        # quoting the marker afterwards is newer in the history, and not the digest.
        await fake.send_user_message(ids.channel, ids.user, f"> {digest_marker(SAMPLE_DAY)}")
    assert len(posts(fake, ids.channel)) == 2

    async with run_bot(tmp_path, fake, ids, clock) as (_, bot, _):
        at = berlin(3, 16, 8)
        clock.now = at
        await bot.services.schedules.fire(target, at)
        record = await bot.storage.delivery(target, SAMPLE_DAY)
        assert (record.status, record.message_id) == ("sent", sent["id"])
        assert (record.detail, record.attempts) == ("reconciled", 2)
        assert len(posts(fake, ids.channel)) == 2  # the user's line and the one digest
        assert post_attempts(fake, ids.channel) == 1
        await bot.services.schedules.fire(target, at)
        assert post_attempts(fake, ids.channel) == 1


async def test_now_after_a_crash_reports_the_digest_already_there(tmp_path, fake, clock) -> None:
    ids = build_world(fake)
    async with run_bot(tmp_path, fake, ids, clock, first=True) as (_, bot, _):
        await subscribe(fake, ids, ids.channel)
        sent = await post_like_the_bot(bot, ids, SAMPLE_DAY)
        sub = await bot.storage.channel_subscription(ids.channel)
        outcome = await bot.services.delivery.deliver_channel(sub, clock.now)
        assert (outcome.status, outcome.message_id) == ("reconciled", sent["id"])
        # And /digest now, run by an admin afterwards, posts nothing either.
        reply = await fake.invoke(
            ids.guild, ids.channel, ids.admin, "digest now", {"channel": ids.channel}
        )
        assert "already" in reply.content
        assert post_attempts(fake, ids.channel) == 1


async def test_claimed_row_without_a_message_posts_exactly_once(tmp_path, fake, clock) -> None:
    ids = build_world(fake)
    target = f"channel:{ids.channel}"
    async with run_bot(tmp_path, fake, ids, clock, first=True) as (_, bot, _):
        await subscribe(fake, ids, ids.channel)
        # A process died after claiming but before its POST reached Discord.
        await bot.storage.claim_delivery(target, SAMPLE_DAY)
        # Only a member's message carries the marker: that is no digest.
        quote = f"did the {digest_marker(SAMPLE_DAY)} go out?"
        await fake.send_user_message(ids.channel, ids.user, quote)
    async with run_bot(tmp_path, fake, ids, clock) as (_, bot, _):
        at = berlin(3, 16, 8)
        clock.now = at
        await bot.services.schedules.fire(target, at)
        await bot.services.schedules.fire(target, at)
        [question, posted] = posts(fake, ids.channel)
        assert question["content"] == quote
        record = await bot.storage.delivery(target, SAMPLE_DAY)
        assert (record.status, record.message_id, record.attempts) == ("sent", int(posted["id"]), 2)
        # It looked in the history before posting (and only then posted).
        history = fake.requests_matching("GET /channels/{channel_id}/messages")
        assert (
            history
            and history[0].timestamp
            < fake.requests_matching("POST /channels/{channel_id}/messages")[0].timestamp
        )


# --- downtime and the grace window -----------------------------------------------------------


async def test_sweep_posts_a_missed_run_within_the_grace_window_only(tmp_path, fake, clock) -> None:
    ids = build_world(fake)
    late = fake.add_channel(ids.guild, "late")
    async with run_bot(tmp_path, fake, ids, clock, first=True) as (_, bot, _):
        assert bot.services.schedules.grace == dt.timedelta(hours=6)
        await subscribe(fake, ids, ids.channel, "08:00")
        await subscribe(fake, ids, late, "06:00")
    # The bot is down at 06:00 and 08:00 and comes back at 13:00 (08:00 + 5 h; 06:00 + 7 h).
    async with run_bot(tmp_path, fake, ids, clock) as (_, bot, _):
        clock.now = back = berlin(3, 16, 13)
        assert await bot.services.schedules.sweep(back) == [f"channel:{ids.channel}"]
        assert len(posts(fake, ids.channel)) == 1
        assert posts(fake, late) == []
        assert await bot.services.schedules.sweep(back + dt.timedelta(minutes=5)) == []
        assert len(posts(fake, ids.channel)) == 1
        # The late channel is not forgotten: its next run posts as usual.
        await bot.services.schedules.fire(f"channel:{late}", berlin(3, 17, 6))
        assert len(posts(fake, late)) == 1


async def test_grace_window_follows_the_misfire_setting(tmp_path, fake, clock) -> None:
    one_hour = Settings.load(env_file=None, environ={"MISFIRE_GRACE_HOURS": "1"}).misfire_grace
    assert one_hour == dt.timedelta(hours=1)
    ids = build_world(fake)
    early = fake.add_channel(ids.guild, "early")
    async with run_bot(tmp_path, fake, ids, clock, first=True, misfire_grace=one_hour) as (
        _,
        bot,
        _,
    ):
        await subscribe(fake, ids, ids.channel, "08:45")
        await subscribe(fake, ids, early, "08:00")
        job = bot.services.schedules.scheduler.get_job(f"channel:{early}")
        assert job.misfire_grace_time == 3600  # the cron job itself gives up after 1 h too
        clock.now = back = berlin(3, 16, 9, 30)  # 45 min after one run, 90 after the other
        assert await bot.services.schedules.sweep(back) == [f"channel:{ids.channel}"]
        assert len(posts(fake, ids.channel)) == 1
        assert posts(fake, early) == []


async def test_zero_grace_means_no_grace(tmp_path, fake, clock) -> None:
    none = Settings.load(env_file=None, environ={"MISFIRE_GRACE_HOURS": "0"}).misfire_grace
    assert none == dt.timedelta(0)
    ids = build_world(fake)
    async with run_bot(tmp_path, fake, ids, clock, first=True, misfire_grace=none) as (
        _,
        bot,
        _,
    ):
        await subscribe(fake, ids, ids.channel, "08:45")
        job = bot.services.schedules.scheduler.get_job(f"channel:{ids.channel}")
        # APScheduler reads None as "however late"; 1 s is its smallest limit.
        assert job.misfire_grace_time == 1
        clock.now = back = berlin(3, 16, 8, 46)  # one minute late
        assert await bot.services.schedules.sweep(back) == []
        assert posts(fake, ids.channel) == []
        # On time, the cron fire posts as usual.
        await bot.services.schedules.fire(f"channel:{ids.channel}", berlin(3, 17, 8, 45))
        assert len(posts(fake, ids.channel)) == 1


# --- time zones -------------------------------------------------------------------------------


async def test_next_runs_stay_at_8_local_across_the_2026_dst_changes(tmp_path, fake, clock) -> None:
    ids = build_world(fake)
    us = fake.add_channel(ids.guild, "us")
    async with run_bot(tmp_path, fake, ids, clock, first=True) as (_, bot, _):
        await subscribe(fake, ids, ids.channel, "08:00", "Europe/Berlin")
        await subscribe(fake, ids, us, "08:00", "America/New_York")
        await bot.services.schedules.rebuild()
        for target, zone in ((f"channel:{ids.channel}", BERLIN), (f"channel:{us}", NEW_YORK)):
            local = bot.services.schedules.next_run(target).astimezone(zone)
            assert (local.hour, local.minute) == (8, 0), (target, local)
        berlin_job = bot.services.schedules.scheduler.get_job(f"channel:{ids.channel}")
        us_job = bot.services.schedules.scheduler.get_job(f"channel:{us}")
        cases = [
            # Berlin springs forward on 29 March 2026: 08:00 is 07:00 UTC, then 06:00 UTC.
            (berlin_job, utc(3, 28, 0), utc(3, 28, 7)),
            (berlin_job, utc(3, 28, 12), utc(3, 29, 6)),
            # and falls back on 25 October.
            (berlin_job, utc(10, 24, 12), utc(10, 25, 7)),
            # New York springs forward on 8 March 2026: 13:00 UTC, then 12:00 UTC.
            (us_job, utc(3, 7, 0), utc(3, 7, 13)),
            (us_job, utc(3, 7, 14), utc(3, 8, 12)),
            # and falls back on 1 November.
            (us_job, utc(10, 31, 14), utc(11, 1, 13)),
        ]
        for job, now, expected in cases:
            assert job.trigger.get_next_fire_time(None, now) == expected, (job.id, now)


async def test_a_post_time_the_dst_jump_skips_is_caught_up(tmp_path, fake, clock) -> None:
    """02:30 does not exist in Berlin on 29 March 2026; the sweep posts at 03:30."""
    ids = build_world(fake)
    clock.now = utc(3, 28, 12)
    async with run_bot(tmp_path, fake, ids, clock, first=True) as (_, bot, _):
        await subscribe(fake, ids, ids.channel, "02:30")
        assert await bot.services.schedules.sweep(berlin(3, 29, 3, 15)) == []  # 01:15 UTC: not yet
        assert await bot.services.schedules.sweep(berlin(3, 29, 4)) == [f"channel:{ids.channel}"]
        assert len(posts(fake, ids.channel)) == 1


async def test_the_repeated_autumn_hour_fires_twice_but_posts_once(tmp_path, fake, clock) -> None:
    """02:30 happens twice in Berlin on 25 October 2026, and the cron trigger fires at
    both; the channel still gets one digest."""
    ids = build_world(fake)
    clock.now = utc(10, 24, 12)
    target = f"channel:{ids.channel}"
    async with run_bot(tmp_path, fake, ids, clock, first=True) as (_, bot, _):
        await subscribe(fake, ids, ids.channel, "02:30")
        trigger = bot.services.schedules.scheduler.get_job(target).trigger
        first = trigger.get_next_fire_time(None, clock.now).astimezone(dt.UTC)
        second = trigger.get_next_fire_time(first, first + dt.timedelta(seconds=1))
        second = second.astimezone(dt.UTC)  # (ambiguous local times never compare equal)
        assert (first, second) == (utc(10, 25, 0, 30), utc(10, 25, 1, 30))
        for at in (first, second):
            clock.now = at
            await bot.services.schedules.fire(target, at)
            assert await bot.services.schedules.sweep(at + dt.timedelta(minutes=1)) == []
        assert len(posts(fake, ids.channel)) == 1
        assert post_attempts(fake, ids.channel) == 1


# --- failing channels --------------------------------------------------------------------------


async def test_failing_channels_pause_after_three_days_and_resubscribing_resumes(
    tmp_path, fake, clock
) -> None:
    ids = build_world(fake)
    second = fake.add_channel(ids.guild, "second")
    forbidden = fake.add_channel(ids.guild, "forbidden")
    deleted = fake.add_channel(ids.guild, "deleted")
    channels = (ids.channel, second, forbidden, deleted)
    async with run_bot(tmp_path, fake, ids, clock, first=True) as (_, bot, _):
        for channel in channels:
            await subscribe(fake, ids, channel)
        fake.fail_channel(forbidden, 403)  # the bot lost access
        fake.delete_channel(deleted)  # 404 Unknown Channel from now on
        days = [dt.date(2026, 3, 16), dt.date(2026, 3, 17), dt.date(2026, 3, 18)]
        for n, day in enumerate(days, start=1):
            await tiny_dump(bot, day)
            clock.now = at = berlin(day.month, day.day, 8)
            for channel in channels:
                await bot.services.schedules.fire(f"channel:{channel}", at)
            for channel in (ids.channel, second):
                got = posts(fake, channel)
                assert len(got) == n and digest_marker(day) in got[-1]["content"]
            for channel in (forbidden, deleted):
                sub = await bot.storage.channel_subscription(channel)
                assert (sub.failures, sub.paused) == (n, n == 3), (channel, sub)
        assert "403" in (await bot.storage.channel_subscription(forbidden)).last_error
        assert "404" in (await bot.storage.channel_subscription(deleted)).last_error

        listed = await fake.invoke(ids.guild, ids.channel, ids.admin, "digest list")
        lines = {line.split(" ")[0]: line for line in listed.content.splitlines()}
        for channel in (forbidden, deleted):
            assert "⏸️ paused" in lines[f"<#{channel}>"]
        for channel in (ids.channel, second):
            assert "next <t:" in lines[f"<#{channel}>"]
        status = await fake.invoke(ids.guild, ids.channel, ids.admin, "status")
        paused = [line for line in status.content.splitlines() if "paused after 3 failures" in line]
        assert sorted(line.split(" ")[0] for line in paused) == sorted(
            f"<#{c}>" for c in (forbidden, deleted)
        )

        # A paused digest is not even attempted any more.
        attempts = post_attempts(fake, forbidden)
        assert attempts == 3
        clock.now = at = berlin(3, 19, 8)
        await bot.services.schedules.sweep(at + dt.timedelta(minutes=1))
        await bot.services.schedules.fire(f"channel:{forbidden}", at)
        assert post_attempts(fake, forbidden) == attempts

        # Fixed permissions, subscribed again: it resumes and gets the newest day once.
        fake.restore_channel(forbidden)
        await subscribe(fake, ids, forbidden)
        sub = await bot.storage.channel_subscription(forbidden)
        assert (sub.paused, sub.failures, sub.last_error) == (False, 0, None)
        clock.now = at = berlin(3, 20, 8)
        await bot.services.schedules.fire(f"channel:{forbidden}", at)
        await bot.services.schedules.fire(f"channel:{forbidden}", at)
        [posted] = posts(fake, forbidden)
        assert digest_marker(days[-1]) in posted["content"]
        assert len(posts(fake, ids.channel)) == len(posts(fake, second)) == 3


# --- the digest pager ---------------------------------------------------------------------------


async def test_digest_pager_edits_the_post_in_place_even_after_a_restart(
    tmp_path, fake, clock
) -> None:
    ids = build_world(fake)
    async with run_bot(tmp_path, fake, ids, clock, first=True) as (_, bot, _):
        await subscribe(fake, ids, ids.channel)
        clock.now = at = berlin(3, 16, 8)
        await bot.services.schedules.fire(f"channel:{ids.channel}", at)
        [posted] = posts(fake, ids.channel)
        assert "top 10 of 98 papers · page 1/2" in posted["content"]
        assert len(posted["embeds"]) == 5
        first_titles = [e["title"] for e in posted["embeds"]]

        click = await fake.click(posted, ids.user, button_id(posted, "Next ▶"))
        assert click.callback_type == 7 and click.message_id == int(posted["id"])
        page2 = fake.message(int(posted["id"]))
        assert "page 2/2" in page2["content"] and len(page2["embeds"]) == 5
        assert not {e["title"] for e in page2["embeds"]} & set(first_titles)
        assert digest_marker(SAMPLE_DAY) in page2["content"]
        with pytest.raises(PermissionError):  # disabled on the last page
            await fake.click(page2, ids.user, button_id(page2, "Next ▶"))

        back = await fake.click(page2, ids.other, button_id(page2, "◀ Previous"))
        assert back.callback_type == 7
        again = fake.message(int(posted["id"]))
        assert "page 1/2" in again["content"]
        assert [e["title"] for e in again["embeds"]] == first_titles

    async with run_bot(tmp_path, fake, ids, clock) as (_, bot, _):
        old = fake.message(int(posted["id"]))
        click = await fake.click(old, ids.user, button_id(old, "Next ▶"))
        assert click.callback_type == 7
        assert "page 2/2" in fake.message(int(posted["id"]))["content"]
        assert len(posts(fake, ids.channel)) == 1  # paged in place, never re-posted
        await settle()
