"""What threads store, on both backends: a digest's thread mode, each paper's thread per
channel, and the ledger rows of a digest's extra steps beside its own."""

from __future__ import annotations

import dataclasses

from bot.core.subscriptions import ChannelSubscription
from bot.core.threads import step_target
from tests.conftest import SAMPLE_DAY

GUILD = 1_180_000_000_000_000_001
CHANNEL = 1_180_000_000_000_000_777


async def test_a_digest_keeps_its_thread_mode(backend_storage) -> None:
    store = backend_storage
    sub = ChannelSubscription(CHANNEL, GUILD, "08:00", "UTC")
    await store.upsert_channel_subscription(sub)
    assert (await store.channel_subscription(CHANNEL)).thread == "none"
    for mode in ("digest", "paper", "none"):
        await store.upsert_channel_subscription(dataclasses.replace(sub, thread=mode))
        [listed] = await store.channel_subscriptions(GUILD)
        assert listed.thread == mode
        assert (await store.channel_subscription(CHANNEL)).thread == mode


async def test_a_papers_thread_is_remembered_per_channel_and_replaced(
    backend_sample_storage,
) -> None:
    store = backend_sample_storage
    [first, second, *_] = await store.papers_on_day(SAMPLE_DAY)
    assert await store.paper_thread(CHANNEL, first.id) is None
    await store.set_paper_thread(CHANNEL, first.id, CHANNEL + 1, GUILD)
    await store.set_paper_thread(CHANNEL + 9, first.id, CHANNEL + 2, GUILD)
    assert await store.paper_thread(CHANNEL, first.id) == CHANNEL + 1
    assert await store.paper_thread(CHANNEL + 9, first.id) == CHANNEL + 2
    assert await store.paper_thread(CHANNEL, second.id) is None
    # A deleted thread is replaced by a new one: the mapping follows it.
    await store.set_paper_thread(CHANNEL, first.id, CHANNEL + 3, GUILD)
    assert await store.paper_thread(CHANNEL, first.id) == CHANNEL + 3


async def test_step_rows_are_their_own_and_leave_the_digests_day_alone(backend_storage) -> None:
    store = backend_storage
    target = f"channel:{CHANNEL}"
    thread = step_target(target, "thread")
    assert thread == f"channel:{CHANNEL}/thread"
    await store.claim_delivery(target, SAMPLE_DAY)
    await store.claim_delivery(thread, SAMPLE_DAY)
    await store.finish_delivery(thread, SAMPLE_DAY, "sent", 42)
    # The thread is done, the digest's own row is not: the day is still due.
    assert await store.last_delivered_day(target) is None
    again = await store.claim_delivery(thread, SAMPLE_DAY)
    assert (again.status, again.message_id) == ("sent", 42)
    retry = await store.claim_delivery(target, SAMPLE_DAY)
    assert (retry.status, retry.attempts) == ("sending", 2)
    await store.finish_delivery(target, SAMPLE_DAY, "sent", 41)
    assert await store.last_delivered_day(target) == SAMPLE_DAY
