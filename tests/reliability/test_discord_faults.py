"""Scenario 3: fan-out under Discord faults — a 429 storm, 500s, gateway drops with
resume, a channel deleted halfway. Every channel is served exactly once (except the one
meant to fail) and the bot, with every extension of bot.discord_app.client.EXTENSIONS loaded, still
answers commands afterwards: /search, and every registered command that needs no
options."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.core.subscriptions import ChannelSubscription
from bot.discord_app.client import EXTENSIONS
from bot.fakediscord import FakeDiscord
from tests.command_tree import required_options, slash_commands
from tests.discord_harness import bot_against_fake, bot_knows_channels, mention_leaks
from tests.reliability.botproc import digests_per_channel

CHANNELS = 100
FIRE = dt.datetime(2026, 3, 15, 8, 30, tzinfo=dt.UTC)  # 30 min after an 08:00 UTC post time


async def subscribe_many(fake: FakeDiscord, bot, guild: int) -> list[int]:
    channels = [fake.add_channel(guild, f"feed-{i}") for i in range(CHANNELS)]
    for channel in channels:
        await bot.storage.upsert_channel_subscription(
            ChannelSubscription(channel, guild, "08:00", "UTC", (), 5)
        )
    await bot_knows_channels(bot, channels)  # the CHANNEL_CREATE events reached its cache
    return channels


async def still_answers(fake: FakeDiscord, bot, ids) -> None:
    reply = await fake.invoke(ids.guild, ids.channel, ids.user, "search", {"query": "protein"})
    await reply.wait()
    assert not reply.ephemeral, reply.content
    assert "Long-context Protein Language Model" in str(reply.embeds)
    # Every other command the bot registered that runs without options answers too,
    # without the bot failing (the admin runs them: configuring ones are included).
    failed = {}
    for command in slash_commands(bot.tree):
        if required_options(command) or command.qualified_name == "search":
            continue
        name = command.qualified_name
        reply = await fake.invoke(ids.guild, ids.channel, ids.admin, name, timeout=20)
        await reply.wait(timeout=20)
        text = (reply.content or "") + " ".join(e.get("description", "") for e in reply.embeds)
        if not text.strip() or "went wrong" in text:
            failed[name] = text
    assert failed == {}, failed


def record(figures, counts: dict[int, int], expected_missing: set[int] = frozenset()) -> None:
    figures.trials += 1
    figures.posts_expected += len(counts) - len(expected_missing)
    figures.posts_seen += sum(v for k, v in counts.items() if k not in expected_missing)
    figures.duplicates += sum(v - 1 for v in counts.values() if v > 1)
    figures.losses += sum(1 for k, v in counts.items() if v == 0 and k not in expected_missing)


@pytest.mark.heavy
@pytest.mark.parametrize(
    ("kind", "faults"),
    [
        ("429 storm on 30%", {"rate_limit_fraction": 0.3, "retry_after": 0.02}),
        ("500s on 10%", {"server_error_fraction": 0.1}),
    ],
)
async def test_fanout_through_http_faults(tmp_path, figures, kind, faults) -> None:
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS, clock=lambda: FIRE) as (
        fake,
        bot,
        ids,
    ):
        channels = await subscribe_many(fake, bot, ids.guild)
        fake.faults.configure(**faults)
        # The periodic sweep, as it runs every SWEEP_EVERY_SECONDS: a post that failed
        # transiently (discord.py gave up retrying) is due again on the next one.
        sweeps = 0
        while await bot.services.schedules.sweep(FIRE):
            sweeps += 1
            assert sweeps <= 5, "posts still due after five sweeps"
        injected = fake.stats["429"] + fake.stats["server_error"]
        fake.faults.configure(rate_limit_fraction=0.0, server_error_fraction=0.0)
        counts = digests_per_channel(fake, channels)
        record(figures, counts)
        assert injected >= 3, f"{kind}: the faults never fired"
        assert set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}
        await still_answers(fake, bot, ids)
        assert fake.payload_problems == [] and mention_leaks(fake) == []
        figures.notes.append(f"{kind}: {injected} faults injected, {sweeps} sweeps")


@pytest.mark.heavy
async def test_fanout_through_gateway_drops(tmp_path, figures) -> None:
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS, clock=lambda: FIRE) as (
        fake,
        bot,
        ids,
    ):
        channels = await subscribe_many(fake, bot, ids.guild)
        fake.drop_gateway_every(0.5)
        await bot.services.schedules.sweep(FIRE)
        # At least two drops during or after the fan-out, however long it took.
        await fake.gateway.changed.wait_for(
            lambda: fake.stats["gateway_drops"] >= 2, 30, "two gateway drops"
        )
        fake.drop_gateway_every(None)
        assert fake.stats["gateway_drops"] >= 2
        await fake.gateway.changed.wait_for(lambda: fake.stats["resume"] >= 2, 20, "2 resumes")
        assert fake.stats["resume"] >= 2
        await asyncio.wait_for(bot.wait_until_ready(), 20)
        counts = digests_per_channel(fake, channels)
        record(figures, counts)
        assert set(counts.values()) == {1}
        await still_answers(fake, bot, ids)


@pytest.mark.heavy
async def test_channel_deleted_halfway(tmp_path, figures) -> None:
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS, clock=lambda: FIRE) as (
        fake,
        bot,
        ids,
    ):
        channels = await subscribe_many(fake, bot, ids.guild)
        sweep = asyncio.create_task(bot.services.schedules.sweep(FIRE))
        # Woken by every message the fake stores, so the sweep is still under way.
        await fake.messages_changed.wait_for(
            lambda: sum(digests_per_channel(fake, channels).values()) >= CHANNELS // 2,
            30,
            "half the digests",
        )
        counts = digests_per_channel(fake, channels)
        doomed = next(c for c in reversed(channels) if counts[c] == 0)
        fake.delete_channel(doomed)
        await sweep
        counts = digests_per_channel(fake, channels) | {doomed: 0}
        record(figures, counts, expected_missing={doomed})
        assert {v for k, v in counts.items() if k != doomed} == {1}
        sub = await bot.storage.channel_subscription(doomed)
        assert sub is not None and sub.failures == 1 and "10003" in (sub.last_error or "")
        record_row = await bot.storage.delivery(f"channel:{doomed}", dt.date(2026, 3, 14))
        assert record_row is not None and record_row.status == "failed"
        await still_answers(fake, bot, ids)


@pytest.mark.heavy
async def test_fanout_stays_under_the_global_rate_limit(tmp_path, figures) -> None:
    """Realistic limits (50/s global, per-route buckets with headers): pacing means
    Discord never has to say 429."""
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS, clock=lambda: FIRE) as (
        fake,
        bot,
        ids,
    ):
        channels = await subscribe_many(fake, bot, ids.guild)
        fake.faults.enable_rate_limits(global_per_second=50, bucket_limit=5, bucket_window=1.0)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await bot.services.schedules.sweep(FIRE)
        elapsed = loop.time() - started
        fake.faults.disable_rate_limits()
        counts = digests_per_channel(fake, channels)
        record(figures, counts)
        assert set(counts.values()) == {1}
        assert fake.stats["rate_limited_global"] == 0
        figures.notes.append(
            f"{CHANNELS} posts in {elapsed:.1f}s ({CHANNELS / elapsed:.0f}/s), "
            f"{fake.stats['429']} per-route 429s"
        )


async def test_a_post_discord_gave_up_on_is_retried_by_the_next_sweep(tmp_path) -> None:
    """discord.py retries a 429 five times, then raises. That day must not be lost: the
    run stays unmarked and the next sweep posts it (exactly once)."""
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS, clock=lambda: FIRE) as (
        fake,
        bot,
        ids,
    ):
        await bot.storage.upsert_channel_subscription(
            ChannelSubscription(ids.channel, ids.guild, "08:00", "UTC", (), 5)
        )
        fake.faults.configure(retry_after=0.01)
        fake.faults.inject_next("POST /channels/{channel_id}/messages", status=429, count=5)
        assert await bot.services.schedules.sweep(FIRE) == [f"channel:{ids.channel}"]
        assert digests_per_channel(fake, [ids.channel]) == {ids.channel: 0}
        assert await bot.services.schedules.sweep(FIRE) == [f"channel:{ids.channel}"]
        assert digests_per_channel(fake, [ids.channel]) == {ids.channel: 1}
        assert await bot.services.schedules.sweep(FIRE) == []
