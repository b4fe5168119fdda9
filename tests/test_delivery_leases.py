"""Delivery under leased claims: the time between taking a lease and sending must stay
inside the lease, and a lease is never shorter than asked.

A "peer" here is a second Storage handle on the same database claiming under its own
owner, exactly what another bot process does."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

from bot.core.subscriptions import ChannelSubscription
from bot.discord_app.client import PaperBot
from bot.fakediscord import FakeDiscord
from storage import open_storage
from tests.discord_harness import SAMPLE_DAY, Clock, paperbot_on

START = dt.datetime(2026, 3, 15, 8, 0, 30, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=1)


def guild_on(shard: int, shards: int = 4) -> int:
    return ((1_000_000 + shard) << 22) | 7


def posts(fake: FakeDiscord, channel_id: int) -> int:
    messages = fake.channel_messages(channel_id, include_interaction_responses=False)
    return sum("paperbot digest" in (m.get("content") or "") for m in messages)


@contextlib.asynccontextmanager
async def one_sharded_channel(
    tmp_path: Path,
) -> AsyncIterator[tuple[FakeDiscord, PaperBot, ChannelSubscription]]:
    """A bot on shards 0-1 of 4 with one subscribed channel in a guild on shard 0."""
    settings = {"shard_count": 4, "shard_ids": (0, 1), "claim_timeout": LEASE}
    async with FakeDiscord() as fake:
        guild = fake.add_guild("g0", guild_id=guild_on(0))
        channel = fake.add_channel(guild, "papers")
        async with paperbot_on(
            fake, tmp_path, extensions=(), settings=settings, clock=Clock(START)
        ) as bot:
            sub = ChannelSubscription(channel, guild, "08:00", "UTC", (), 5)
            await bot.storage.upsert_channel_subscription(sub)
            yield fake, bot, sub


async def test_a_claim_never_outlives_its_lease_waiting_for_the_pacer(tmp_path) -> None:
    """Sharded fan-out: many posts wait their turn in the pacer. A post must not be
    claimed first and sent after its lease ran out, when a peer may already have taken
    the lapsed claim over (reconciled: nothing in the history yet) and sent it too."""
    # 0.5/s split over 2 of 4 shards: 0.25 posts/s, burst 1 (the second post waits 4 s).
    settings = {
        "shard_count": 4,
        "shard_ids": (0, 1),
        "claim_timeout": LEASE,
        "max_posts_per_second": 0.5,
    }
    async with FakeDiscord() as fake:
        guilds = [fake.add_guild(f"g{s}", guild_id=guild_on(s)) for s in (0, 1)]
        channels = [fake.add_channel(g, "papers") for g in guilds]
        async with paperbot_on(
            fake, tmp_path, extensions=(), settings=settings, clock=Clock(START)
        ) as bot:
            subs = []
            for guild, channel in zip(guilds, channels, strict=True):
                sub = ChannelSubscription(channel, guild, "08:00", "UTC", (), 5)
                await bot.storage.upsert_channel_subscription(sub)
                subs.append(sub)
            fan_out = asyncio.gather(
                *(bot.services.delivery.deliver_channel(s, START) for s in subs)
            )
            # The first post went out; the second now waits for the pacer (4 s).
            await fake.wait_for_request("POST /channels/{channel_id}/messages")
            # Real time passing, not synchronisation: past our lease (1 s, plus up to 1 s
            # as lease ends are stamped in whole seconds) while the second post still
            # waits, a peer process's sweep claims both; whatever it wins, it now sends.
            await asyncio.sleep(LEASE.total_seconds() + 1)
            peer = await open_storage(bot.storage.path)
            try:
                won = [
                    await peer.claim_delivery(
                        s.target, SAMPLE_DAY, owner="peer", lease=dt.timedelta(minutes=5)
                    )
                    for s in subs
                ]
            finally:
                await peer.close()
            outcomes = await fan_out
            peer_sends = sum(r.status == "sending" for r in won)
            ours = sum(o.status in ("sent", "reconciled") for o in outcomes)
            assert peer_sends == 1, won
            # Every (channel, day) is sent by exactly one process.
            assert ours + peer_sends == 2, outcomes
            assert sum(posts(fake, c) for c in channels) == ours


async def test_a_reconcile_that_eats_the_lease_does_not_send(tmp_path) -> None:
    """Taking over a lapsed claim means reading the channel history first; when that
    read takes longer than half the lease, sending afterwards could outlive the lease."""
    async with one_sharded_channel(tmp_path) as (fake, bot, sub):
        # A process claimed it and died; its lease is over.
        await bot.storage.claim_delivery(
            sub.target, SAMPLE_DAY, owner="dead", lease=dt.timedelta(0)
        )
        fake.faults.hold_response("GET /channels/{channel_id}/messages", seconds=1)
        outcome = await bot.services.delivery.deliver_channel(sub, START)
        assert outcome.status == "retry", outcome
        assert posts(fake, sub.channel_id) == 0
        # The next try (now quick) reconciles again and posts once.
        again = await bot.services.delivery.deliver_channel(sub, START)
        assert again.status == "sent", again
        assert posts(fake, sub.channel_id) == 1


async def test_a_send_discord_applies_after_it_was_given_up_posts_once(tmp_path) -> None:
    """The one case the history check cannot cover: an attempt gives up waiting for its
    send (half the lease), the next attempt looks in the history and finds nothing, and
    only then does Discord apply the first request. Both carry the same nonce, so Discord
    returns the first message to the second request instead of posting twice."""
    route = "POST /channels/{channel_id}/messages"
    async with one_sharded_channel(tmp_path) as (fake, bot, sub):
        # Discord sits on the first post for 1.5 s, past the attempt's 0.5 s budget.
        fake.faults.delay_request(route, seconds=1.5)
        first = await bot.services.delivery.deliver_channel(sub, START)
        assert first.status == "retry", first
        second = await bot.services.delivery.deliver_channel(sub, START)
        assert second.status == "sent", second
        assert posts(fake, sub.channel_id) == 1
        # Now the first request lands: same nonce, so no second message.
        landed = await fake.wait_for_request(route, count=2, answered=True, timeout=5)
        assert len(landed) == 2, landed
        assert posts(fake, sub.channel_id) == 1
        assert fake.stats["nonce_duplicates"] == 1
        assert {r.response["id"] for r in landed} == {str(second.message_id)}
        # Every attempt for a (target, day) sends the same nonce.
        assert len({r.json["nonce"] for r in landed}) == 1
