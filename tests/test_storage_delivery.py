"""DeliveryStorage against real databases: subscriptions, follows, guild topics, the
exactly-once delivery ledger, meta, and migrations. No mocks: every test goes through
`open_storage` and reads back what it wrote. Interface tests run on both backends
(`backend_storage`); those about SQLite's file and locking use `storage` (SQLite);
PostgreSQL's own are in test_postgres_*.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from importlib import resources

import aiosqlite
import pytest

from bot.core.models import Topic, TopicHit
from bot.core.subscriptions import FAILURES_BEFORE_PAUSE, ChannelSubscription, Follow
from storage import open_storage
from storage.sqlite.store import SqliteStorage
from tests.conftest import location_of

DAY = dt.date(2026, 3, 14)
GUILD_A, GUILD_B = 111, 222
CHANNEL = 9001
USER = 42


def migration_files() -> list[str]:
    folder = resources.files("storage.sqlite").joinpath("migrations")
    return sorted(e.name for e in folder.iterdir() if e.name.endswith(".sql"))


def user_version(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def sub(channel_id: int = CHANNEL, guild_id: int = GUILD_A, **changes) -> ChannelSubscription:
    fields = {"post_time": "08:00", "timezone": "UTC", "topics": ("nlp",), "max_items": 10}
    fields.update(changes)
    return ChannelSubscription(channel_id, guild_id, created_by=7, **fields)


@pytest.fixture
def db_path(tmp_path):
    """The file the `storage` fixture opens (same tmp_path within one test)."""
    return tmp_path / "paperbot.db"


# -- channel subscriptions ---------------------------------------------------------------


async def test_upsert_creates_subscription(backend_storage):
    assert await backend_storage.channel_subscription(CHANNEL) is None
    await backend_storage.upsert_channel_subscription(sub(topics=("nlp", "vision"), max_items=5))
    got = await backend_storage.channel_subscription(CHANNEL)
    assert got == ChannelSubscription(
        CHANNEL, GUILD_A, "08:00", "UTC", ("nlp", "vision"), 5, False, 0, None, 7, None
    )
    assert got.target == f"channel:{CHANNEL}"


async def test_upsert_again_replaces_settings_and_unpauses(backend_storage):
    await backend_storage.upsert_channel_subscription(sub())
    for _ in range(FAILURES_BEFORE_PAUSE):
        await backend_storage.record_channel_failure(
            CHANNEL, "403 Missing Access", FAILURES_BEFORE_PAUSE
        )
    paused = await backend_storage.channel_subscription(CHANNEL)
    assert paused.paused and paused.failures == FAILURES_BEFORE_PAUSE

    await backend_storage.upsert_channel_subscription(
        sub(post_time="19:30", timezone="Europe/Berlin", topics=(), max_items=25)
    )
    got = await backend_storage.channel_subscription(CHANNEL)
    assert (got.post_time, got.timezone, got.topics, got.max_items) == (
        "19:30",
        "Europe/Berlin",
        (),
        25,
    )
    assert got.paused is False
    assert got.failures == 0
    assert got.last_error is None
    assert len(await backend_storage.channel_subscriptions()) == 1


async def test_delete_only_within_the_owning_guild(backend_storage):
    await backend_storage.upsert_channel_subscription(sub(guild_id=GUILD_A))
    assert await backend_storage.delete_channel_subscription(GUILD_B, CHANNEL) is False
    assert await backend_storage.channel_subscription(CHANNEL) is not None
    assert await backend_storage.delete_channel_subscription(GUILD_A, CHANNEL) is True
    assert await backend_storage.channel_subscription(CHANNEL) is None
    assert await backend_storage.delete_channel_subscription(GUILD_A, CHANNEL) is False


async def test_channel_subscriptions_isolates_guilds(backend_storage):
    await backend_storage.upsert_channel_subscription(sub(3, GUILD_A))
    await backend_storage.upsert_channel_subscription(sub(1, GUILD_A))
    await backend_storage.upsert_channel_subscription(sub(2, GUILD_B))
    assert [s.channel_id for s in await backend_storage.channel_subscriptions(GUILD_A)] == [1, 3]
    assert [s.channel_id for s in await backend_storage.channel_subscriptions(GUILD_B)] == [2]
    assert await backend_storage.channel_subscriptions(333) == []
    assert [s.channel_id for s in await backend_storage.channel_subscriptions()] == [1, 2, 3]
    assert {s.guild_id for s in await backend_storage.channel_subscriptions(GUILD_B)} == {GUILD_B}


async def test_failures_count_and_pause_exactly_at_threshold(backend_storage):
    await backend_storage.upsert_channel_subscription(sub())
    await backend_storage.upsert_channel_subscription(sub(CHANNEL + 1))
    first = await backend_storage.record_channel_failure(CHANNEL, "404 Unknown Channel", 3)
    assert (first.failures, first.paused, first.last_error) == (1, False, "404 Unknown Channel")
    second = await backend_storage.record_channel_failure(CHANNEL, "403 Missing Access", 3)
    assert (second.failures, second.paused, second.last_error) == (2, False, "403 Missing Access")
    third = await backend_storage.record_channel_failure(CHANNEL, "403 Missing Access", 3)
    assert (third.failures, third.paused) == (3, True)
    # Only the failing channel is touched.
    other = await backend_storage.channel_subscription(CHANNEL + 1)
    assert (other.failures, other.paused) == (0, False)


async def test_success_resets_consecutive_failures(backend_storage):
    await backend_storage.upsert_channel_subscription(sub())
    await backend_storage.record_channel_failure(CHANNEL, "403", 3)
    await backend_storage.record_channel_failure(CHANNEL, "403", 3)
    await backend_storage.record_channel_success(CHANNEL)
    got = await backend_storage.channel_subscription(CHANNEL)
    assert (got.failures, got.last_error, got.paused) == (0, None, False)
    # Consecutive: two more failures after a success do not pause.
    await backend_storage.record_channel_failure(CHANNEL, "403", 3)
    again = await backend_storage.record_channel_failure(CHANNEL, "403", 3)
    assert (again.failures, again.paused) == (2, False)
    await backend_storage.record_channel_success(CHANNEL)  # idempotent
    assert (await backend_storage.channel_subscription(CHANNEL)).failures == 0


async def test_failure_error_is_truncated_and_unknown_channel_is_none(backend_storage):
    await backend_storage.upsert_channel_subscription(sub())
    got = await backend_storage.record_channel_failure(CHANNEL, "x" * 5000, 3)
    assert got.last_error == "x" * 300
    assert await backend_storage.record_channel_failure(404404, "gone", 3) is None
    await backend_storage.record_channel_success(404404)  # no row, no error


async def test_channel_last_run_day(backend_storage):
    await backend_storage.upsert_channel_subscription(sub())
    await backend_storage.upsert_channel_subscription(sub(CHANNEL + 1))
    await backend_storage.set_last_run(f"channel:{CHANNEL}", DAY)
    assert (await backend_storage.channel_subscription(CHANNEL)).last_run_day == DAY
    assert (await backend_storage.channel_subscription(CHANNEL + 1)).last_run_day is None
    await backend_storage.set_last_run(f"channel:{CHANNEL}", DAY + dt.timedelta(days=1))
    assert (await backend_storage.channel_subscription(CHANNEL)).last_run_day == DAY + dt.timedelta(
        1
    )


# -- follows and member delivery ---------------------------------------------------------


async def test_add_follow_reports_duplicates(backend_storage):
    nlp = Follow("topic", "nlp")
    assert await backend_storage.add_follow(USER, nlp) is True
    assert await backend_storage.add_follow(USER, nlp) is False
    # The same slug from a guild is a different follow.
    assert await backend_storage.add_follow(USER, Follow("topic", "nlp", GUILD_A)) is True
    assert await backend_storage.add_follow(USER, Follow("keyword", "protein folding")) is True
    got = await backend_storage.user_delivery(USER)
    assert got.follows == (
        Follow("keyword", "protein folding"),
        Follow("topic", "nlp", 0),
        Follow("topic", "nlp", GUILD_A),
    )
    # Defaults of the delivery row that add_follow creates.
    assert (got.post_time, got.timezone, got.dm_closed, got.dm_closed_told) == (
        "08:00",
        "UTC",
        False,
        False,
    )
    assert got.last_run_day is None
    assert got.target == f"user:{USER}"


async def test_remove_follow(backend_storage):
    await backend_storage.add_follow(USER, Follow("topic", "nlp"))
    await backend_storage.add_follow(USER, Follow("keyword", "nlp"))
    assert await backend_storage.remove_follow(USER, "topic", "nlp") is True
    assert await backend_storage.remove_follow(USER, "topic", "nlp") is False
    assert await backend_storage.remove_follow(USER + 1, "keyword", "nlp") is False
    assert (await backend_storage.user_delivery(USER)).follows == (Follow("keyword", "nlp"),)


async def test_remove_follow_of_a_server_topic_is_that_servers_only(backend_storage):
    # Two servers may each have a topic with the same slug; unfollowing one keeps the other.
    for guild in (0, GUILD_A, GUILD_B):
        await backend_storage.add_follow(USER, Follow("topic", "proteins", guild))
    assert await backend_storage.remove_follow(USER, "topic", "proteins", GUILD_A) is True
    assert await backend_storage.remove_follow(USER, "topic", "proteins", GUILD_A) is False
    assert (await backend_storage.user_delivery(USER)).follows == (
        Follow("topic", "proteins", 0),
        Follow("topic", "proteins", GUILD_B),
    )


async def test_user_delivery_none_for_strangers(backend_storage):
    assert await backend_storage.user_delivery(USER) is None


async def test_user_deliveries_lists_only_users_with_follows(backend_storage):
    await backend_storage.add_follow(3, Follow("topic", "vision"))
    await backend_storage.add_follow(1, Follow("keyword", "diffusion"))
    await backend_storage.add_follow(1, Follow("topic", "nlp"))
    await backend_storage.set_user_delivery(2, "09:00", "UTC")  # a time but nothing followed
    await backend_storage.add_follow(4, Follow("topic", "nlp"))
    await backend_storage.remove_follow(4, "topic", "nlp")  # followed, then unfollowed
    users = await backend_storage.user_deliveries()
    assert [u.user_id for u in users] == [1, 3]
    assert users[0].follows == (Follow("keyword", "diffusion"), Follow("topic", "nlp"))
    assert users[1].follows == (Follow("topic", "vision"),)
    # The user without follows still has their settings.
    assert (await backend_storage.user_delivery(2)).follows == ()


async def test_set_user_delivery_sets_time_and_clears_dm_closed(backend_storage):
    await backend_storage.add_follow(USER, Follow("topic", "nlp"))
    await backend_storage.set_dm_closed(USER, True, told=True)
    closed = await backend_storage.user_delivery(USER)
    assert (closed.dm_closed, closed.dm_closed_told) == (True, True)
    await backend_storage.set_user_delivery(USER, "21:15", "America/New_York")
    got = await backend_storage.user_delivery(USER)
    assert (got.post_time, got.timezone) == ("21:15", "America/New_York")
    assert (got.dm_closed, got.dm_closed_told) == (False, False)
    assert got.follows == (Follow("topic", "nlp"),)


async def test_set_user_delivery_creates_row(backend_storage):
    await backend_storage.set_user_delivery(USER, "06:05", "Asia/Tokyo")
    got = await backend_storage.user_delivery(USER)
    assert (got.post_time, got.timezone, got.follows) == ("06:05", "Asia/Tokyo", ())


async def test_set_dm_closed_with_told_flag(backend_storage):
    await backend_storage.add_follow(USER, Follow("topic", "nlp"))
    await backend_storage.set_dm_closed(USER, True)
    got = await backend_storage.user_delivery(USER)
    assert (got.dm_closed, got.dm_closed_told) == (True, False)
    await backend_storage.set_dm_closed(USER, True, told=True)
    got = await backend_storage.user_delivery(USER)
    assert (got.dm_closed, got.dm_closed_told) == (True, True)
    await backend_storage.set_dm_closed(USER, False)
    got = await backend_storage.user_delivery(USER)
    assert (got.dm_closed, got.dm_closed_told) == (False, False)
    # Works for a user with no row yet, without inventing follows.
    await backend_storage.set_dm_closed(USER + 1, True)
    stranger = await backend_storage.user_delivery(USER + 1)
    assert (stranger.dm_closed, stranger.follows) == (True, ())
    assert [u.user_id for u in await backend_storage.user_deliveries()] == [USER]


async def test_user_last_run_day(backend_storage):
    await backend_storage.add_follow(USER, Follow("topic", "nlp"))
    await backend_storage.add_follow(USER + 1, Follow("topic", "nlp"))
    await backend_storage.set_last_run(f"user:{USER}", DAY)
    assert (await backend_storage.user_delivery(USER)).last_run_day == DAY
    assert (await backend_storage.user_delivery(USER + 1)).last_run_day is None


async def test_last_run_targets_do_not_collide(backend_storage):
    """`channel:5` and `user:5` are different rows in different tables."""
    await backend_storage.upsert_channel_subscription(sub(5))
    await backend_storage.add_follow(5, Follow("topic", "nlp"))
    await backend_storage.set_last_run("user:5", DAY)
    assert (await backend_storage.channel_subscription(5)).last_run_day is None
    assert (await backend_storage.user_delivery(5)).last_run_day == DAY


# -- guild topics ----------------------------------------------------------------------------


def guild_topic(guild_id: int = GUILD_A, slug: str = "proteins", **changes) -> Topic:
    fields = {"name": "Proteins", "keywords": ("protein*", "enzyme"), "phrases": ("drug design",)}
    fields.update(changes)
    return Topic(slug, guild_id=guild_id, **fields)


async def test_guild_topics_upsert_and_list(backend_storage):
    await backend_storage.upsert_guild_topic(guild_topic(GUILD_A, "proteins"))
    await backend_storage.upsert_guild_topic(guild_topic(GUILD_A, "agents", name="Agents"))
    await backend_storage.upsert_guild_topic(guild_topic(GUILD_B, "proteins", name="B's proteins"))
    assert await backend_storage.guild_topics(GUILD_A) == [
        guild_topic(GUILD_A, "agents", name="Agents"),
        guild_topic(GUILD_A, "proteins"),
    ]
    assert await backend_storage.guild_topics(GUILD_B) == [
        guild_topic(GUILD_B, "proteins", name="B's proteins")
    ]
    assert [(t.guild_id, t.slug) for t in await backend_storage.guild_topics()] == [
        (GUILD_A, "agents"),
        (GUILD_A, "proteins"),
        (GUILD_B, "proteins"),
    ]
    # Upsert replaces name, keywords and phrases in place.
    changed = guild_topic(
        GUILD_A, "proteins", name="Protein science", keywords=("fold",), phrases=()
    )
    await backend_storage.upsert_guild_topic(changed)
    assert (await backend_storage.guild_topics(GUILD_A))[1] == changed
    assert len(await backend_storage.guild_topics()) == 3


async def test_delete_guild_topic_removes_assignments_and_follows(backend_sample_storage):
    storage = backend_sample_storage
    ids = [pid for pid, _, _ in (await anext(storage.paper_texts(batch=6)))]
    builtin_before = await storage.topic_counts(None)
    await storage.upsert_guild_topic(guild_topic(GUILD_A, "proteins"))
    await storage.upsert_guild_topic(guild_topic(GUILD_B, "proteins"))
    hit = TopicHit("proteins", 2.0, ("protein",))
    await storage.replace_topic_assignments(f"{GUILD_A}:proteins", [(i, hit) for i in ids[:3]])
    await storage.replace_topic_assignments(f"{GUILD_B}:proteins", [(i, hit) for i in ids[3:]])
    await storage.add_follow(USER, Follow("topic", "proteins", GUILD_A))
    await storage.add_follow(USER, Follow("topic", "proteins", GUILD_B))
    await storage.add_follow(USER, Follow("keyword", "proteins"))
    await storage.add_follow(USER + 1, Follow("topic", "proteins", GUILD_A))
    key_a, key_b = f"{GUILD_A}:proteins", f"{GUILD_B}:proteins"
    await storage.upsert_channel_subscription(sub(1, topics=(key_a,)))
    await storage.upsert_channel_subscription(sub(2, topics=("nlp", key_a, "vision")))
    await storage.upsert_channel_subscription(sub(3, topics=("nlp",)))
    await storage.upsert_channel_subscription(sub(4, GUILD_B, topics=(key_b,)))
    assert await storage.topic_followers(GUILD_A, "proteins") == [USER, USER + 1]
    assert await storage.topic_followers(GUILD_B, "proteins") == [USER]

    removal = await storage.delete_guild_topic(GUILD_A, "proteins")

    # It says who followed it and which digests filtered on it, as they are now.
    assert removal is not None
    assert removal.followers == (USER, USER + 1)
    assert [(d.channel_id, d.topics) for d in removal.digests] == [
        (1, ()),
        (2, ("nlp", "vision")),
    ]
    assert [(s.channel_id, s.topics) for s in await storage.channel_subscriptions()] == [
        (1, ()),
        (2, ("nlp", "vision")),
        (3, ("nlp",)),
        (4, (key_b,)),
    ]
    assert await storage.topic_followers(GUILD_A, "proteins") == []

    assert await storage.guild_topics(GUILD_A) == []
    assert [t.slug for t in await storage.guild_topics(GUILD_B)] == ["proteins"]
    assert await storage.topic_papers(f"{GUILD_A}:proteins", since=None, limit=100) == []
    assert sorted(
        pid for pid, _ in await storage.topic_papers(f"{GUILD_B}:proteins", since=None, limit=100)
    ) == sorted(ids[3:])
    counts = await storage.topic_counts(None)
    assert f"{GUILD_A}:proteins" not in counts
    assert {k: v for k, v in counts.items() if ":" not in k} == builtin_before
    assert (await storage.user_delivery(USER)).follows == (
        Follow("keyword", "proteins"),
        Follow("topic", "proteins", GUILD_B),
    )
    # USER + 1 followed only the deleted topic, so they are no longer a delivery target.
    assert (await storage.user_delivery(USER + 1)).follows == ()
    assert [u.user_id for u in await storage.user_deliveries()] == [USER]

    # A second removal finds nothing, so nobody could be told twice.
    assert await storage.delete_guild_topic(GUILD_A, "proteins") is None
    assert await storage.delete_guild_topic(GUILD_A, "never-existed") is None


async def test_replace_topic_assignments_replaces_exactly(backend_sample_storage):
    storage = backend_sample_storage
    key = f"{GUILD_A}:agents"
    ids = [pid for batch in [b async for b in storage.paper_texts(batch=50)] for pid, _, _ in batch]
    first = [(ids[0], TopicHit(key, 1.0, ("agent",))), (ids[1], TopicHit(key, 3.0, ("tool",)))]
    await storage.replace_topic_assignments(key, first)
    assert await storage.topic_papers(key, since=None, limit=10) == [(ids[1], 3.0), (ids[0], 1.0)]

    second = [(ids[1], TopicHit(key, 0.5, ("agent",))), (ids[2], TopicHit(key, 2.5, ("a", "b")))]
    await storage.replace_topic_assignments(key, second)
    assert await storage.topic_papers(key, since=None, limit=10) == [(ids[2], 2.5), (ids[1], 0.5)]
    paper = (await storage.get_papers([ids[2]]))[0]
    assert TopicHit(key, 2.5, ("a", "b")) in paper.topics

    other = f"{GUILD_B}:agents"
    await storage.replace_topic_assignments(other, [(ids[5], TopicHit(other, 1.0, ()))])
    await storage.replace_topic_assignments(key, [])
    assert await storage.topic_papers(key, since=None, limit=10) == []
    assert await storage.topic_papers(other, since=None, limit=10) == [(ids[5], 1.0)]


async def test_paper_texts_batches_all_sample_papers(backend_sample_storage):
    batches = [batch async for batch in backend_sample_storage.paper_texts(batch=10)]
    assert len(batches) == 10
    assert [len(b) for b in batches] == [10] * 9 + [8]
    ids = [pid for batch in batches for pid, _, _ in batch]
    assert len(ids) == len(set(ids)) == 98
    assert ids == sorted(ids)
    assert ids == [pid for pid, _ in await backend_sample_storage.all_titles()]
    titles = dict(await backend_sample_storage.all_titles())
    for batch in batches:
        for pid, title, abstract in batch:
            assert title == titles[pid]
            assert isinstance(abstract, str)
    assert sum(1 for batch in batches for *_, abstract in batch if abstract) > 0


async def test_paper_texts_on_empty_database(backend_storage):
    assert [batch async for batch in backend_storage.paper_texts()] == []


# -- the delivery ledger -------------------------------------------------------------------


TARGET = f"channel:{CHANNEL}"


async def test_first_claim_sends(backend_storage):
    assert await backend_storage.delivery(TARGET, DAY) is None
    record = await backend_storage.claim_delivery(TARGET, DAY)
    assert (record.target, record.day, record.status, record.attempts) == (
        TARGET,
        DAY,
        "sending",
        1,
    )
    assert record.message_id is None
    assert await backend_storage.delivery(TARGET, DAY) == record


async def test_unfinished_claim_means_reconcile(backend_storage):
    await backend_storage.claim_delivery(TARGET, DAY)
    again = await backend_storage.claim_delivery(TARGET, DAY)
    assert (again.status, again.attempts) == ("sending", 2)
    third = await backend_storage.claim_delivery(TARGET, DAY)
    assert (third.status, third.attempts) == ("sending", 3)


async def test_claims_are_per_target_and_day(backend_storage):
    await backend_storage.claim_delivery(TARGET, DAY)
    other_day = await backend_storage.claim_delivery(TARGET, DAY + dt.timedelta(days=1))
    other_target = await backend_storage.claim_delivery(f"user:{CHANNEL}", DAY)
    assert other_day.attempts == other_target.attempts == 1


async def test_sent_is_final_for_claims(backend_storage):
    await backend_storage.claim_delivery(TARGET, DAY)
    await backend_storage.finish_delivery(TARGET, DAY, "sent", 123456789012345678)
    for _ in range(3):
        record = await backend_storage.claim_delivery(TARGET, DAY)
        assert (record.status, record.attempts, record.message_id) == (
            "sent",
            1,
            123456789012345678,
        )
    assert (await backend_storage.delivery(TARGET, DAY)).attempts == 1


async def test_failed_is_reclaimable(backend_storage):
    await backend_storage.claim_delivery(TARGET, DAY)
    await backend_storage.finish_delivery(TARGET, DAY, "failed", detail="403 Missing Access")
    failed = await backend_storage.delivery(TARGET, DAY)
    assert (failed.status, failed.attempts, failed.detail) == ("failed", 1, "403 Missing Access")
    retry = await backend_storage.claim_delivery(TARGET, DAY)
    assert (retry.status, retry.attempts) == ("sending", 2)
    await backend_storage.finish_delivery(TARGET, DAY, "sent", 77)
    done = await backend_storage.claim_delivery(TARGET, DAY)
    assert (done.status, done.attempts, done.message_id) == ("sent", 2, 77)


async def test_empty_is_final(backend_storage):
    await backend_storage.claim_delivery(TARGET, DAY)
    await backend_storage.finish_delivery(TARGET, DAY, "empty")
    for _ in range(2):
        record = await backend_storage.claim_delivery(TARGET, DAY)
        assert (record.status, record.attempts, record.message_id) == ("empty", 1, None)


async def test_finish_never_reopens_a_delivered_day(backend_storage):
    """A late 'failed' from a racing attempt must not make a sent day re-sendable."""
    await backend_storage.claim_delivery(TARGET, DAY)
    await backend_storage.finish_delivery(TARGET, DAY, "sent", 55, "reconciled")
    await backend_storage.finish_delivery(TARGET, DAY, "failed", detail="late 403")
    record = await backend_storage.claim_delivery(TARGET, DAY)
    assert (record.status, record.message_id, record.detail) == ("sent", 55, "reconciled")

    other = DAY + dt.timedelta(days=1)
    await backend_storage.claim_delivery(TARGET, other)
    await backend_storage.finish_delivery(TARGET, other, "empty")
    await backend_storage.finish_delivery(TARGET, other, "sent", 56)
    assert (await backend_storage.delivery(TARGET, other)).status == "empty"
    assert await backend_storage.last_delivered_day(TARGET) == other


async def test_finish_without_claim_writes_nothing(backend_storage):
    await backend_storage.finish_delivery(TARGET, DAY, "sent", 1)
    assert await backend_storage.delivery(TARGET, DAY) is None


async def test_last_delivered_day_counts_only_sent_and_empty(backend_storage):
    assert await backend_storage.last_delivered_day(TARGET) is None
    days = [DAY + dt.timedelta(days=i) for i in range(5)]
    for day in days:
        await backend_storage.claim_delivery(TARGET, day)
    await backend_storage.finish_delivery(TARGET, days[0], "sent", 1)
    await backend_storage.finish_delivery(TARGET, days[2], "empty")
    await backend_storage.finish_delivery(TARGET, days[3], "failed", detail="404")
    # days[1] and days[4] stay 'sending'.
    assert await backend_storage.last_delivered_day(TARGET) == days[2]
    await backend_storage.finish_delivery(TARGET, days[4], "sent", 5)
    assert await backend_storage.last_delivered_day(TARGET) == days[4]
    # Another target's deliveries do not count; a far-later day in it is ignored.
    await backend_storage.claim_delivery("user:1", DAY + dt.timedelta(days=400))
    await backend_storage.finish_delivery("user:1", DAY + dt.timedelta(days=400), "sent", 9)
    assert await backend_storage.last_delivered_day(TARGET) == days[4]
    assert await backend_storage.last_delivered_day("user:2") is None


async def test_last_delivered_day_is_a_date_max_across_months(backend_storage):
    dec, jan = dt.date(2025, 12, 31), dt.date(2026, 1, 2)
    for day in (jan, dec):
        await backend_storage.claim_delivery(TARGET, day)
        await backend_storage.finish_delivery(TARGET, day, "sent", 1)
    assert await backend_storage.last_delivered_day(TARGET) == jan


async def test_deliveries_in_state(backend_storage):
    d1, d2 = DAY, DAY + dt.timedelta(days=1)
    await backend_storage.claim_delivery("user:2", d2)
    await backend_storage.claim_delivery("user:2", d1)
    await backend_storage.claim_delivery("channel:9", d1)
    await backend_storage.claim_delivery("channel:8", d1)
    await backend_storage.finish_delivery("channel:8", d1, "sent", 3)
    await backend_storage.claim_delivery("channel:7", d1)
    await backend_storage.finish_delivery("channel:7", d1, "failed", detail="boom")
    sending = await backend_storage.deliveries_in_state("sending")
    assert [(r.target, r.day) for r in sending] == [
        ("channel:9", d1),
        ("user:2", d1),
        ("user:2", d2),
    ]
    assert all(r.status == "sending" for r in sending)
    assert [
        (r.target, r.message_id) for r in await backend_storage.deliveries_in_state("sent")
    ] == [("channel:8", 3)]
    failed = await backend_storage.deliveries_in_state("failed")
    assert [(r.target, r.detail) for r in failed] == [("channel:7", "boom")]
    assert await backend_storage.deliveries_in_state("empty") == []


async def test_concurrent_claims_on_one_storage(backend_storage):
    records = await asyncio.gather(
        *(backend_storage.claim_delivery(TARGET, DAY) for _ in range(50))
    )
    assert sum(1 for r in records if r.attempts == 1) == 1
    assert sorted(r.attempts for r in records) == list(range(1, 51))
    assert all(r.status == "sending" for r in records)
    assert (await backend_storage.delivery(TARGET, DAY)).attempts == 50


async def test_concurrent_claims_from_two_processes(backend_storage):
    """Two Storage objects on one database: separate connections, so only the database's
    own locking (SQLite: BEGIN IMMEDIATE + busy timeout; PostgreSQL: row locks) keeps the
    claim atomic."""
    other = await open_storage(location_of(backend_storage))
    try:
        stores = [backend_storage, other] * 25
        records = await asyncio.gather(*(s.claim_delivery(TARGET, DAY) for s in stores))
        assert sum(1 for r in records if r.attempts == 1) == 1
        assert sorted(r.attempts for r in records) == list(range(1, 51))

        # Whoever won finishes; from then on both "processes" see the day as done.
        fresh = DAY + dt.timedelta(days=1)
        first = await asyncio.gather(
            backend_storage.claim_delivery(TARGET, fresh), other.claim_delivery(TARGET, fresh)
        )
        winner = [
            s for s, r in zip((backend_storage, other), first, strict=True) if r.attempts == 1
        ]
        assert len(winner) == 1
        await winner[0].finish_delivery(TARGET, fresh, "sent", 4242)
        after = await asyncio.gather(*(s.claim_delivery(TARGET, fresh) for s in stores[:10]))
        assert {(r.status, r.attempts, r.message_id) for r in after} == {("sent", 2, 4242)}
        assert await other.last_delivered_day(TARGET) == fresh
    finally:
        await other.close()


# -- meta ----------------------------------------------------------------------------------


async def test_meta_get_set_overwrite(backend_storage):
    assert await backend_storage.get_meta("schedule.version") is None
    await backend_storage.set_meta("schedule.version", "1")
    assert await backend_storage.get_meta("schedule.version") == "1"
    await backend_storage.set_meta("schedule.version", "2")
    assert await backend_storage.get_meta("schedule.version") == "2"
    await backend_storage.set_meta("other", "")
    assert await backend_storage.get_meta("other") == ""
    assert await backend_storage.get_meta("schedule.version") == "2"


# -- migrations ----------------------------------------------------------------------------


async def test_fresh_database_is_fully_migrated(storage, db_path):
    files = migration_files()
    assert files, "no migration files found"
    assert user_version(db_path) == len(files)


async def test_reopening_keeps_data_and_does_not_remigrate(tmp_path):
    path = tmp_path / "reopen.db"
    async with await open_storage(path) as first:
        await first.set_meta("k", "v")
        await first.upsert_channel_subscription(sub())
        await first.claim_delivery(TARGET, DAY)
    version = user_version(path)
    # A second migration run would fail on CREATE TABLE and lose nothing silently.
    async with await open_storage(path) as second:
        assert await second.get_meta("k") == "v"
        assert (await second.channel_subscription(CHANNEL)).channel_id == CHANNEL
        assert (await second.claim_delivery(TARGET, DAY)).attempts == 2
    assert user_version(path) == version == len(migration_files())


async def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.db"
    async with await open_storage(path):
        pass
    newer = len(migration_files()) + 1
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {newer}")
    with pytest.raises(RuntimeError, match=rf"schema version {newer} is newer.*upgrade paperbot"):
        await open_storage(path)
    assert user_version(path) == newer  # left untouched


# -- regressions: races between processes and cancelled writers -------------------------


class WriteLockRequests:
    """Counts the `BEGIN IMMEDIATE`s handed to aiosqlite's worker threads, where each
    then waits for SQLite's write lock: a test waits for a writer to be queued there,
    instead of sleeping and hoping it got that far."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self._changed = asyncio.Event()
        execute = aiosqlite.Connection.execute

        def counting_execute(conn, sql, *args, **kwargs):
            result = execute(conn, sql, *args, **kwargs)
            if sql.strip().upper() == "BEGIN IMMEDIATE":
                # Awaiting `result` queues the statement at once, before any other task
                # runs; so by the time a waiter wakes, the statement is in the thread.
                self.count += 1
                self._changed.set()
            return result

        monkeypatch.setattr(aiosqlite.Connection, "execute", counting_execute)

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while self.count < count:
                self._changed.clear()
                await self._changed.wait()


async def test_two_processes_opening_a_fresh_file_migrate_once(tmp_path, monkeypatch):
    path = tmp_path / "fresh.db"
    write_locks = WriteLockRequests(monkeypatch)
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        blocker.execute("PRAGMA journal_mode = WAL")
        blocker.execute("BEGIN IMMEDIATE")  # both opens read version 0, then wait here
        opens = [asyncio.create_task(open_storage(path)) for _ in range(2)]
        await write_locks.wait_for(2)  # both read version 0 and wait for the lock
        blocker.execute("COMMIT")
    finally:
        blocker.close()
    results = await asyncio.gather(*opens, return_exceptions=True)
    for result in results:
        if not isinstance(result, BaseException):
            await result.close()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    assert user_version(path) == len(migration_files())


async def test_cancelled_claim_does_not_wedge_the_writer(storage, db_path, monkeypatch):
    other = await SqliteStorage.open(db_path)
    try:
        holder = other.write()
        await holder.__aenter__()  # "another process" holds the write lock
        write_locks = WriteLockRequests(monkeypatch)
        claim = asyncio.create_task(storage.claim_delivery(TARGET, DAY))
        await write_locks.wait_for(1)  # the claim is now waiting in BEGIN IMMEDIATE
        claim.cancel()
        await asyncio.sleep(0)  # one turn of the loop: the claim sees its cancellation
        await holder.__aexit__(None, None, None)
        with pytest.raises(asyncio.CancelledError):
            await claim
        record = await storage.claim_delivery(TARGET, DAY)
        assert (record.status, record.attempts) == ("sending", 1)
        # ... and the other process is not locked out either.
        assert (await other.claim_delivery(TARGET, DAY)).attempts == 2
    finally:
        await other.close()
