"""Leased delivery claims on PostgreSQL, between real "processes" (separate Storage
objects, so separate pools and connections, on one schema)."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
import pytest

from storage import open_storage

TARGET = "channel:9001"
DAY = dt.date(2026, 3, 14)
LEASE = dt.timedelta(minutes=5)


@pytest.fixture
async def two(postgres_storage, postgres_schema):
    """Two processes sharing one database."""
    other = await open_storage(postgres_schema)
    try:
        yield postgres_storage, other
    finally:
        await other.close()


async def expire_lease(url: str, target: str = TARGET, day: dt.date = DAY) -> None:
    """Age the stored lease as if its owner had stalled past it."""
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)).isoformat(timespec="seconds")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "UPDATE deliveries SET lease_until = $1 WHERE target = $2 AND day = $3",
            past,
            target,
            day.isoformat(),
        )
    finally:
        await conn.close()


async def test_a_live_lease_of_another_owner_is_held(two):
    a, b = two
    before = dt.datetime.now(dt.UTC)
    first = await a.claim_delivery(TARGET, DAY, owner="a", lease=LEASE)
    assert (first.status, first.attempts, first.owner) == ("sending", 1, "a")
    assert first.lease_until is not None and first.lease_until.tzinfo is not None
    assert before + LEASE <= first.lease_until <= before + LEASE + dt.timedelta(seconds=2)

    held = await b.claim_delivery(TARGET, DAY, owner="b", lease=LEASE)
    assert (held.status, held.attempts, held.owner) == ("held", 1, "a")
    assert held.lease_until == first.lease_until
    assert await a.delivery(TARGET, DAY) == first  # nothing was written

    # The owner itself may claim again (a retry): it reconciles first.
    again = await a.claim_delivery(TARGET, DAY, owner="a", lease=LEASE)
    assert (again.status, again.attempts, again.owner) == ("sending", 2, "a")


async def test_an_expired_lease_is_taken_over(two, postgres_schema):
    a, b = two
    await a.claim_delivery(TARGET, DAY, owner="a", lease=LEASE)
    await expire_lease(postgres_schema)
    taken = await b.claim_delivery(TARGET, DAY, owner="b", lease=LEASE)
    assert (taken.status, taken.attempts, taken.owner) == ("sending", 2, "b")
    assert taken.lease_until > dt.datetime.now(dt.UTC)
    # Now b holds it: a is the one kept out.
    assert (await a.claim_delivery(TARGET, DAY, owner="a", lease=LEASE)).status == "held"
    assert await b.delivery(TARGET, DAY) == taken


async def test_final_and_failed_rows_under_leases(two):
    a, b = two
    await a.claim_delivery(TARGET, DAY, owner="a", lease=LEASE)
    await a.finish_delivery(TARGET, DAY, "sent", 2**62)
    done = await b.claim_delivery(TARGET, DAY, owner="b", lease=LEASE)
    assert (done.status, done.attempts, done.message_id) == ("sent", 1, 2**62)
    await b.finish_delivery(TARGET, DAY, "failed", detail="late")  # never reopens
    assert (await a.delivery(TARGET, DAY)).status == "sent"

    other_day = DAY + dt.timedelta(days=1)
    await a.claim_delivery(TARGET, other_day, owner="a", lease=LEASE)
    await a.finish_delivery(TARGET, other_day, "failed", detail="403")
    retry = await b.claim_delivery(TARGET, other_day, owner="b", lease=LEASE)
    assert (retry.status, retry.attempts, retry.owner) == ("sending", 2, "b")


async def test_an_unleased_claim_always_takes_over(two):
    a, b = two
    await a.claim_delivery(TARGET, DAY, owner="a", lease=LEASE)
    single = await b.claim_delivery(TARGET, DAY)
    assert (single.status, single.attempts, single.owner, single.lease_until) == (
        "sending",
        2,
        None,
        None,
    )


async def test_two_concurrent_claimers_exactly_one_sends(two):
    a, b = two
    for offset in range(5):
        day = DAY + dt.timedelta(days=offset)
        claims = [
            (a if i % 2 else b).claim_delivery(TARGET, day, owner=f"owner-{i}", lease=LEASE)
            for i in range(8)
        ]
        records = await asyncio.gather(*claims)
        sending = [r for r in records if r.status == "sending"]
        assert len(sending) == 1 and sending[0].attempts == 1
        assert sorted({r.status for r in records}) == ["held", "sending"]
        assert all(r.owner == sending[0].owner for r in records)
        stored = await a.delivery(TARGET, day)
        assert (stored.attempts, stored.owner) == (1, sending[0].owner)


async def test_a_row_locked_by_another_claim_is_held_without_waiting(two, postgres_schema):
    a, b = two
    await a.claim_delivery(TARGET, DAY, owner="a", lease=LEASE)
    await expire_lease(postgres_schema)  # even a takeable row is not waited for
    conn = await asyncpg.connect(postgres_schema)
    try:
        async with conn.transaction():
            await conn.execute(
                "SELECT 1 FROM deliveries WHERE target = $1 AND day = $2 FOR UPDATE",
                TARGET,
                DAY.isoformat(),
            )
            held = await asyncio.wait_for(
                b.claim_delivery(TARGET, DAY, owner="b", lease=LEASE), timeout=5
            )
            assert (held.status, held.owner) == ("held", "a")
    finally:
        await conn.close()
    taken = await b.claim_delivery(TARGET, DAY, owner="b", lease=LEASE)
    assert (taken.status, taken.attempts, taken.owner) == ("sending", 2, "b")
