"""Sharded scheduling in one process, on SQLite, driven by a hand-moved clock: cron jobs
only for this process's shards (members everywhere), heartbeats, and the sweep taking
over a dead shard's overdue digests, each still posted exactly once.

The multi-process proofs (real `paperbot run` processes on PostgreSQL) live in
tests/reliability/test_sharded_fanout.py."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.core.delivery_plan import shard_looks_dead, shard_of, takeover_due
from bot.core.pacing import process_share
from bot.core.subscriptions import ChannelSubscription, Follow
from bot.discord_app.client import HTTP_CONNECTIONS
from bot.fakediscord import FakeDiscord
from bot.services.delivery import Outcome
from bot.services.scheduling import heartbeat_key
from tests.discord_harness import SAMPLE_DAY, Clock, paperbot_on

SHARDS = 4
MINE = (0, 1)
TIMEOUT = dt.timedelta(seconds=60)
START = dt.datetime(2026, 3, 15, 8, 0, 30, tzinfo=dt.UTC)  # 30 s after the 08:00 posts


def guild_on(shard: int) -> int:
    """A snowflake-shaped guild id on `shard` of SHARDS."""
    return ((1_000_000 + shard) << 22) | 7


def posts(fake: FakeDiscord, channel_id: int) -> int:
    messages = fake.channel_messages(channel_id, include_interaction_responses=False)
    return sum("paperbot digest" in (m.get("content") or "") for m in messages)


# --- the pure rules ---------------------------------------------------------------------


def test_guild_ids_map_to_shards_as_discord_routes_them() -> None:
    assert [shard_of(guild_on(s), SHARDS) for s in range(SHARDS)] == [0, 1, 2, 3]
    assert shard_of(guild_on(5), SHARDS) == 1


def test_a_shard_is_dead_after_a_claim_timeout_without_heartbeat() -> None:
    now = START
    assert shard_looks_dead(None, now, TIMEOUT)
    assert not shard_looks_dead(now - TIMEOUT, now, TIMEOUT)
    assert shard_looks_dead(now - TIMEOUT - dt.timedelta(seconds=1), now, TIMEOUT)


def test_takeover_waits_a_claim_timeout_after_the_post_time() -> None:
    grace = dt.timedelta(hours=6)
    fired = dt.datetime(2026, 3, 15, 8, tzinfo=dt.UTC)
    for after, expected in ((30, False), (60, False), (61, True), (3600, True)):
        now = fired + dt.timedelta(seconds=after)
        assert takeover_due(now, "08:00", "UTC", None, grace, TIMEOUT) is expected, after
    # Already run today (by its owner before it died): nothing to take over.
    later = fired + dt.timedelta(minutes=5)
    assert not takeover_due(later, "08:00", "UTC", fired.date(), grace, TIMEOUT)
    # Outside the grace window it is as lost as for its owner.
    assert not takeover_due(fired + dt.timedelta(hours=7), "08:00", "UTC", None, grace, TIMEOUT)


def test_pacing_splits_the_global_budget_between_processes() -> None:
    assert process_share(47.0, 2, 0, None) == (47.0, 2)  # unsharded
    assert process_share(47.0, 2, 4, 4) == (47.0, 2)  # one process, all shards
    rate, burst = process_share(47.0, 2, 2, 4)
    assert (rate, burst) == (23.5, 1)
    assert 2 * (rate + burst) < 50  # both processes at full speed stay under 50/s
    assert process_share(47.0, 2, 1, 16) == (47.0 / 16, 1)


# --- one process of a sharded bot, against the fake Discord -----------------------------


@pytest.fixture
async def world(tmp_path):
    clock = Clock(START)
    settings = {"shard_count": SHARDS, "shard_ids": MINE, "claim_timeout": TIMEOUT}
    async with FakeDiscord() as fake:
        guilds = [fake.add_guild(f"g{s}", guild_id=guild_on(s)) for s in range(SHARDS)]
        channels = [fake.add_channel(g, "papers") for g in guilds]
        member = fake.add_member(guilds[2], "dana")  # on a foreign shard: DMs go anyway
        async with paperbot_on(
            fake, tmp_path, extensions=(), settings=settings, clock=clock, scheduler=True
        ) as bot:
            for guild, channel in zip(guilds, channels, strict=True):
                await bot.storage.upsert_channel_subscription(
                    ChannelSubscription(channel, guild, "08:00", "UTC", (), 5)
                )
            await bot.storage.add_follow(member, Follow("keyword", "language"))
            await bot.storage.set_user_delivery(member, "08:00", "UTC")
            await bot.services.schedules.rebuild()
            yield fake, bot, clock, channels, member


async def test_cron_jobs_only_for_own_shards_and_every_member(world) -> None:
    _, bot, _, channels, member = world
    jobs = {job.id for job in bot.services.schedules.scheduler.get_jobs()}
    assert {f"channel:{c}" for c in channels[:2]} | {f"user:{member}"} <= jobs
    assert not {f"channel:{c}" for c in channels[2:]} & jobs
    assert bot.services.delivery.owner is not None  # sharded: claims are leases


async def test_sweep_posts_own_shards_and_takes_over_dead_ones_only(world) -> None:
    fake, bot, clock, channels, member = world
    own = [f"channel:{c}" for c in channels[:2]]
    # 30 s after the post time, just started: only our own shards (and the member).
    assert sorted(await bot.services.schedules.sweep(clock.now)) == sorted([*own, f"user:{member}"])
    assert [posts(fake, c) for c in channels] == [1, 1, 0, 0]
    assert fake.dm_messages(member)

    # Shard 2's process is alive (its heartbeat is fresh); shard 3 never beat at all.
    clock.now = START + dt.timedelta(minutes=2)
    await bot.storage.set_meta(heartbeat_key(2), (clock.now - TIMEOUT / 2).isoformat())
    assert await bot.services.schedules.sweep(clock.now) == [f"channel:{channels[3]}"]
    assert [posts(fake, c) for c in channels] == [1, 1, 0, 1]

    # Shard 2's heartbeat goes stale: its digest is ours now, once.
    clock.now = START + dt.timedelta(minutes=4)
    assert await bot.services.schedules.sweep(clock.now) == [f"channel:{channels[2]}"]
    assert await bot.services.schedules.sweep(clock.now) == []
    assert [posts(fake, c) for c in channels] == [1, 1, 1, 1]
    assert len(fake.dm_messages(member)) == 1
    owners = {(await bot.storage.delivery(f"channel:{c}", SAMPLE_DAY)).owner for c in channels}
    assert owners == {bot.services.delivery.owner}


async def test_no_takeover_in_the_first_claim_timeout_after_start(world) -> None:
    fake, bot, clock, channels, _ = world
    # Long past the post time, but this process only just started: peers starting with
    # it may not have beaten yet, so it does not judge them dead.
    clock.now = START + TIMEOUT / 2
    await bot.services.schedules.sweep(clock.now)
    assert [posts(fake, c) for c in channels] == [1, 1, 0, 0]
    assert await bot.services.schedules.dead_shards(clock.now) == set()
    clock.now = START + TIMEOUT * 2
    assert await bot.services.schedules.dead_shards(clock.now) == {2, 3}


async def test_heartbeat_marks_own_shards_alive(world) -> None:
    _, bot, clock, _, _ = world
    await bot.services.schedules.heartbeat(clock.now)
    for shard in MINE:
        assert await bot.storage.get_meta(heartbeat_key(shard)) == "2026-03-15T08:00:30+00:00"
    assert await bot.storage.get_meta(heartbeat_key(2)) is None


async def test_a_live_claim_of_another_process_is_held_and_retried(world) -> None:
    fake, bot, clock, channels, _ = world
    target = f"channel:{channels[0]}"
    await bot.storage.claim_delivery(target, SAMPLE_DAY, owner="peer", lease=TIMEOUT)
    sub = await bot.storage.channel_subscription(channels[0])
    outcome = await bot.services.delivery.deliver_channel(sub, clock.now)
    assert (outcome.status, outcome.day) == ("held", SAMPLE_DAY)
    await bot.services.schedules.fire(target, clock.now)
    # Held is transient: the run is not marked, so the next sweep tries again.
    assert (await bot.storage.channel_subscription(channels[0])).last_run_day is None
    assert posts(fake, channels[0]) == 0
    assert target in await bot.services.schedules.sweep(clock.now)


async def test_a_dead_processes_lapsed_claim_is_reconciled_then_sent_once(world) -> None:
    fake, bot, clock, channels, _ = world
    target = f"channel:{channels[1]}"
    # A process claimed it and died before sending; its lease has run out.
    await bot.storage.claim_delivery(target, SAMPLE_DAY, owner="dead", lease=dt.timedelta(0))
    sub = await bot.storage.channel_subscription(channels[1])
    outcome = await bot.services.delivery.deliver_channel(sub, clock.now)
    assert outcome == Outcome("sent", SAMPLE_DAY, outcome.message_id)
    record = await bot.storage.delivery(target, SAMPLE_DAY)
    assert (record.status, record.attempts, record.owner) == (
        "sent",
        2,
        bot.services.delivery.owner,
    )
    # attempts 2: the history was searched before the post (a GET of the messages).
    history = fake.requests_matching(
        "GET /channels/{channel_id}/messages", channel_id=sub.channel_id
    )
    assert history
    assert posts(fake, channels[1]) == 1


async def test_the_takeover_job_runs_only_dead_shards_channels(world) -> None:
    fake, bot, clock, channels, _ = world
    assert await bot.services.schedules.take_over(clock.now) == []  # just started: nobody is dead
    clock.now = START + dt.timedelta(minutes=3)
    await bot.storage.set_meta(heartbeat_key(3), clock.now.isoformat(timespec="seconds"))
    # Our own overdue channels are the sweep's business, not the takeover job's.
    assert await bot.services.schedules.take_over(clock.now) == [f"channel:{channels[2]}"]
    assert [posts(fake, c) for c in channels] == [0, 0, 1, 0]
    assert await bot.services.schedules.take_over(clock.now) == []


async def test_a_send_outliving_half_the_lease_is_abandoned_then_reconciled(world) -> None:
    fake, bot, clock, channels, _ = world
    delivery = bot.services.delivery
    delivery.settings = dataclasses.replace(bot.settings, claim_timeout=dt.timedelta(seconds=1))
    # Discord stores the digest but answers only after the lease would have run out.
    fake.faults.hold_response("POST /channels/{channel_id}/messages", seconds=2)
    sub = await bot.storage.channel_subscription(channels[0])
    outcome = await bot.services.delivery.deliver_channel(sub, clock.now)
    assert outcome.status == "retry"  # gave up waiting; not recorded as sent
    record = await bot.storage.delivery(sub.target, SAMPLE_DAY)
    assert (record.status, record.owner) == ("sending", bot.services.delivery.owner)
    again = await bot.services.delivery.deliver_channel(sub, clock.now)
    assert again.status == "reconciled"  # found in the history, not posted twice
    assert posts(fake, channels[0]) == 1


async def test_each_shard_here_adds_a_connection_to_the_http_pool(world) -> None:
    """Each shard's gateway connection holds one of the pool's for as long as it is open:
    a process running shards 0 and 1 keeps HTTP_CONNECTIONS for requests beside them."""
    _, bot, *_ = world
    assert bot.http.connector.limit == HTTP_CONNECTIONS + len(MINE)
