"""Leased delivery claims on SQLite (several processes sharing one ledger): a live
lease of another owner is 'held' and left alone, a lapsed one is taken over with the
attempt counted (so the taker reconciles first), and without an owner everything
behaves exactly as the single-process ledger always did."""

from __future__ import annotations

import asyncio
import datetime as dt

from storage import open_storage

DAY = dt.date(2026, 3, 14)
TARGET = "channel:42"
MINUTE = dt.timedelta(minutes=1)
LAPSED = dt.timedelta(0)  # a lease that is over as soon as it is written


async def test_a_leased_claim_records_its_owner_and_expiry(storage) -> None:
    before = dt.datetime.now(dt.UTC)
    record = await storage.claim_delivery(TARGET, DAY, owner="a", lease=MINUTE)
    assert (record.status, record.attempts, record.owner) == ("sending", 1, "a")
    assert before + MINUTE - dt.timedelta(seconds=1) <= record.lease_until
    assert record.lease_until <= dt.datetime.now(dt.UTC) + MINUTE
    assert await storage.delivery(TARGET, DAY) == record


async def test_a_lease_is_never_shorter_than_asked(backend_storage) -> None:
    # An odd lease, so its end falls between two whole seconds on either backend.
    lease = dt.timedelta(seconds=1, microseconds=700_000)
    before = dt.datetime.now(dt.UTC)
    record = await backend_storage.claim_delivery(TARGET, DAY, owner="a", lease=lease)
    assert record.lease_until >= before + lease
    stored = await backend_storage.delivery(TARGET, DAY)
    assert stored.lease_until >= before + lease


async def test_another_owners_live_lease_is_held_and_left_alone(storage) -> None:
    first = await storage.claim_delivery(TARGET, DAY, owner="a", lease=MINUTE)
    held = await storage.claim_delivery(TARGET, DAY, owner="b", lease=MINUTE)
    assert (held.status, held.owner, held.attempts) == ("held", "a", 1)
    assert await storage.delivery(TARGET, DAY) == first  # nothing written
    assert await storage.deliveries_in_state("held") == []


async def test_the_owner_retrying_its_own_claim_counts_an_attempt(storage) -> None:
    await storage.claim_delivery(TARGET, DAY, owner="a", lease=MINUTE)
    again = await storage.claim_delivery(TARGET, DAY, owner="a", lease=MINUTE)
    assert (again.status, again.owner, again.attempts) == ("sending", "a", 2)


async def test_a_lapsed_lease_is_taken_over_and_reconciled_first(storage) -> None:
    await storage.claim_delivery(TARGET, DAY, owner="dead", lease=LAPSED)
    taken = await storage.claim_delivery(TARGET, DAY, owner="b", lease=MINUTE)
    # attempts > 1 is what makes delivery search the channel history before sending.
    assert (taken.status, taken.owner, taken.attempts) == ("sending", "b", 2)
    assert await storage.delivery(TARGET, DAY) == taken
    assert (await storage.claim_delivery(TARGET, DAY, owner="c", lease=MINUTE)).status == "held"


async def test_finished_rows_stay_finished_for_every_owner(storage) -> None:
    await storage.claim_delivery(TARGET, DAY, owner="a", lease=LAPSED)
    await storage.finish_delivery(TARGET, DAY, "sent", 99)
    for owner in ("a", "b"):
        done = await storage.claim_delivery(TARGET, DAY, owner=owner, lease=MINUTE)
        assert (done.status, done.message_id, done.attempts) == ("sent", 99, 1)
    assert (await storage.claim_delivery(TARGET, DAY)).status == "sent"
    # The owner who delivered it is kept on the row (who posted what, after the fact).
    assert (await storage.delivery(TARGET, DAY)).owner == "a"


async def test_a_failed_row_is_retried_even_under_a_live_lease(storage) -> None:
    await storage.claim_delivery(TARGET, DAY, owner="a", lease=MINUTE)
    await storage.finish_delivery(TARGET, DAY, "failed", detail="403")
    retry = await storage.claim_delivery(TARGET, DAY, owner="b", lease=MINUTE)
    assert (retry.status, retry.owner, retry.attempts) == ("sending", "b", 2)


async def test_without_an_owner_the_claim_behaves_as_before(storage) -> None:
    plain = await storage.claim_delivery(TARGET, DAY)
    assert (plain.status, plain.attempts, plain.owner, plain.lease_until) == (
        "sending",
        1,
        None,
        None,
    )
    # An unleased claim always takes a 'sending' row over, and drops any lease on it.
    await storage.claim_delivery("user:1", DAY, owner="a", lease=MINUTE)
    taken = await storage.claim_delivery("user:1", DAY)
    assert (taken.status, taken.attempts, taken.owner, taken.lease_until) == (
        "sending",
        2,
        None,
        None,
    )


async def test_two_processes_racing_for_the_same_targets_each_win_half_once(tmp_path) -> None:
    """Two connections to one file (two processes): every target is claimed for
    sending by exactly one of them; the other sees 'held'."""
    path = tmp_path / "shared.db"
    first, second = await open_storage(path), await open_storage(path)
    try:
        targets = [f"channel:{n}" for n in range(150)]

        async def claim_all(store, owner: str) -> dict[str, str]:
            results = {}
            for target in targets:
                record = await store.claim_delivery(target, DAY, owner=owner, lease=MINUTE)
                results[target] = record.status
            return results

        a, b = await asyncio.gather(claim_all(first, "a"), claim_all(second, "b"))
        for target in targets:
            assert sorted((a[target], b[target])) == ["held", "sending"], target
        rows = await first.deliveries_in_state("sending")
        assert len(rows) == len(targets)
        assert all(r.attempts == 1 and r.owner in ("a", "b") for r in rows)
    finally:
        await first.close()
        await second.close()
