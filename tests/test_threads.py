"""Discussion threads through the real discord.py client, the fake Discord and a real
SQLite file: `/digest subscribe … thread:`, the threads a digest starts exactly once
(also after a failure between post and thread), refused permissions, and `/discuss`."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.core.threads import MAX_THREAD_NAME, item_marker
from bot.fakediscord import DEFAULT_EVERYONE_PERMISSIONS
from bot.fakediscord.util import SEND_MESSAGES_IN_THREADS
from tests.discord_harness import SAMPLE_DAY, bot_against_fake, mention_leaks, settle

EXTENSIONS = ("cogs.digest", "cogs.discuss", "cogs.search")
BERLIN = "Europe/Berlin"
THREAD_ROUTE = "POST /channels/{channel_id}/messages/{message_id}/threads"
POST_ROUTE = "POST /channels/{channel_id}/messages"


@pytest.fixture
async def world(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS, scheduler=True) as running:
        fake, _, _ = running
        yield running
        await settle()
        assert fake.payload_problems == []
        assert mention_leaks(fake) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def posts(fake, channel_id: int) -> list[dict]:
    return fake.channel_messages(channel_id, include_interaction_responses=False)


async def subscribe(fake, ids, **options):
    opts = {"channel": ids.channel, "time": "08:00", "timezone": BERLIN, **options}
    return await fake.invoke(ids.guild, ids.channel, ids.admin, "digest subscribe", opts)


async def post_now(fake, ids):
    return await fake.invoke(
        ids.guild, ids.channel, ids.admin, "digest now", {"channel": ids.channel}
    )


async def test_thread_per_digest_is_started_once_from_the_post(world) -> None:
    fake, bot, ids = world
    done = await subscribe(fake, ids, thread="digest")
    assert "a thread per digest" in done.content
    assert (await bot.storage.channel_subscription(ids.channel)).thread == "digest"
    listed = await fake.invoke(ids.guild, ids.channel, ids.admin, "digest list", {})
    assert "· a thread per digest ·" in listed.content

    now = await post_now(fake, ids)
    assert now.content == f"Posted the digest for {SAMPLE_DAY} in <#{ids.channel}>."
    [posted] = posts(fake, ids.channel)
    [thread] = fake.threads(ids.channel)
    # Started from the digest post itself: the thread has the message's id.
    assert thread["id"] == posted["id"]
    assert thread["name"] == "paperbot daily digest · Sat 14 Mar 2026"
    assert thread["thread_metadata"]["auto_archive_duration"] == 1440
    [request] = fake.requests_matching(THREAD_ROUTE)
    assert request.json["auto_archive_duration"] == 1440
    record = await bot.storage.delivery(f"channel:{ids.channel}/thread", SAMPLE_DAY)
    assert (record.status, record.message_id) == ("sent", int(thread["id"]))

    again = await post_now(fake, ids)
    assert "already" in again.content
    assert len(posts(fake, ids.channel)) == 1
    assert len(fake.requests_matching(THREAD_ROUTE)) == 1


async def test_thread_per_paper_posts_each_paper_under_a_header(world) -> None:
    fake, bot, ids = world
    await subscribe(fake, ids, thread="paper", max=4)
    now = await post_now(fake, ids)
    assert now.content.startswith("Posted the digest")
    header, *papers = posts(fake, ids.channel)
    assert "one thread per paper below" in header["content"]
    assert header["embeds"] == [] and header.get("components") == []
    assert len(papers) == 4
    threads = {t["id"]: t for t in fake.threads(ids.channel)}
    assert set(threads) == {p["id"] for p in papers}
    stored = await bot.storage.papers_on_day(SAMPLE_DAY)
    by_id = {p.id: p for p in stored}
    for message in papers:
        [embed] = message["embeds"]
        thread = threads[message["id"]]
        assert 1 <= len(thread["name"]) <= MAX_THREAD_NAME
        # Named after the paper the message shows, and remembered for /discuss.
        paper_id = int(message["content"].rsplit("/", 1)[1])
        assert item_marker(SAMPLE_DAY, paper_id) in message["content"]
        title = " ".join(by_id[paper_id].title.split())
        assert title.startswith(thread["name"].removesuffix("…").rstrip())
        assert thread["name"].split()[0] in embed["title"]
        assert await bot.storage.paper_thread(ids.channel, paper_id) == int(thread["id"])
    record = await bot.storage.delivery(f"channel:{ids.channel}", SAMPLE_DAY)
    assert (record.status, record.message_id) == ("sent", int(header["id"]))

    again = await post_now(fake, ids)
    assert "already" in again.content
    assert len(posts(fake, ids.channel)) == 5
    assert len(fake.requests_matching(THREAD_ROUTE)) == 4


async def test_a_failure_between_post_and_thread_neither_repeats_nor_skips(world) -> None:
    fake, bot, ids = world
    await subscribe(fake, ids, thread="digest")
    # Discord fails the thread request (503 is not retried by discord.py): the post is
    # out, its thread is not, and the digest's row stays unfinished.
    fake.faults.inject_next(THREAD_ROUTE, status=503)
    first = await post_now(fake, ids)
    assert "try again shortly" in first.content
    record = await bot.storage.delivery(f"channel:{ids.channel}", SAMPLE_DAY)
    assert record.status == "sending"
    assert fake.threads(ids.channel) == []
    # The next attempt finds the post in the channel's history and starts its thread.
    second = await post_now(fake, ids)
    assert second.content == f"The digest for {SAMPLE_DAY} was already in <#{ids.channel}>."
    [posted] = posts(fake, ids.channel)
    [thread] = fake.threads(ids.channel)
    assert thread["id"] == posted["id"]
    assert len(fake.requests_matching(POST_ROUTE, channel_id=ids.channel)) == 1
    record = await bot.storage.delivery(f"channel:{ids.channel}", SAMPLE_DAY)
    assert (record.status, record.message_id) == ("sent", int(posted["id"]))


async def test_a_thread_discord_made_but_never_confirmed_is_recorded_not_repeated(world) -> None:
    fake, bot, ids = world
    await subscribe(fake, ids, thread="digest")
    sub = await bot.storage.channel_subscription(ids.channel)
    # Discord starts the thread but its answer never arrives; the attempt dies.
    fake.faults.hold_response(THREAD_ROUTE, seconds=30)
    attempt = asyncio.create_task(bot.services.delivery.deliver_channel(sub, bot.clock()))
    await asyncio.wait_for(fake.faults.holding.wait(), 10)
    attempt.cancel()
    await asyncio.gather(attempt, return_exceptions=True)
    [thread] = fake.threads(ids.channel)
    again = await post_now(fake, ids)
    assert "already in" in again.content
    # The retry asked again, Discord answered 160004, and that thread was recorded.
    assert len(fake.requests_matching(THREAD_ROUTE)) == 2
    assert fake.requests_matching(THREAD_ROUTE)[1].response["code"] == 160004
    assert fake.threads(ids.channel) == [thread]
    assert len(posts(fake, ids.channel)) == 1
    record = await bot.storage.delivery(f"channel:{ids.channel}/thread", SAMPLE_DAY)
    assert (record.status, record.message_id) == ("sent", int(thread["id"]))


async def test_missing_thread_permission_is_told_once_and_the_post_stays(world) -> None:
    fake, bot, ids = world
    await subscribe(fake, ids, thread="paper", max=3)
    # Later the bot loses Create Public Threads (it can still post).
    fake.set_bot_permissions(ids.guild, DEFAULT_EVERYONE_PERMISSIONS)
    now = await post_now(fake, ids)
    assert now.content.startswith("Posted the digest")
    _, *papers, notice = posts(fake, ids.channel)
    assert len(papers) == 3 and fake.threads() == []
    assert "Create Public Threads" in notice["content"]
    assert "(403 Missing Permissions (code 50013))" in notice["content"]
    # One refused request, not one per paper; the digest itself is delivered.
    assert len(fake.requests_matching(THREAD_ROUTE)) == 1
    record = await bot.storage.delivery(f"channel:{ids.channel}", SAMPLE_DAY)
    assert record.status == "sent"
    again = await post_now(fake, ids)
    assert "already" in again.content
    assert len(posts(fake, ids.channel)) == 5

    # A new subscription asking for threads is refused up front, with the reason.
    refused = await subscribe(fake, ids, thread="digest")
    assert refused.ephemeral
    assert "Create Public Threads" in refused.content and "thread: none" in refused.content
    assert (await bot.storage.channel_subscription(ids.channel)).thread == "paper"


async def discuss(fake, ids, paper: str, channel: int | None = None):
    where = channel or ids.channel
    return await fake.invoke(ids.guild, where, ids.user, "discuss", {"paper": paper})


async def test_discuss_opens_finds_reopens_and_replaces_a_papers_thread(world) -> None:
    fake, bot, ids = world
    [paper, *_] = await bot.storage.papers_on_day(SAMPLE_DAY)
    choices = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "discuss", {"paper": paper.title[:20]}, focused="paper"
    )
    assert f"#{paper.id}" in [c["value"] for c in choices]

    opened = await discuss(fake, ids, f"#{paper.id}")
    assert opened.ephemeral and opened.content.startswith("💬 Started the discussion of")
    [starter] = posts(fake, ids.channel)
    [thread] = fake.threads(ids.channel)
    assert thread["id"] == starter["id"] and f"<#{thread['id']}>" in opened.content
    assert await bot.storage.paper_thread(ids.channel, paper.id) == int(thread["id"])

    found = await discuss(fake, ids, paper.title)
    assert found.content.startswith("💬 **") and "is discussed in" in found.content
    assert len(fake.threads(ids.channel)) == 1 and len(posts(fake, ids.channel)) == 1

    fake.archive_thread(int(thread["id"]))
    reopened = await discuss(fake, ids, f"#{paper.id}")
    assert reopened.content.startswith("💬 Reopened the discussion")
    assert fake.threads(ids.channel)[0]["thread_metadata"]["archived"] is False

    fake.delete_channel(int(thread["id"]))
    replaced = await discuss(fake, ids, f"#{paper.id}")
    assert replaced.content.startswith("💬 Started the discussion")
    [new_thread] = fake.threads(ids.channel)
    assert new_thread["id"] != thread["id"]
    assert await bot.storage.paper_thread(ids.channel, paper.id) == int(new_thread["id"])


async def test_discuss_finds_the_thread_a_paper_digest_started(world) -> None:
    fake, _, ids = world
    await subscribe(fake, ids, thread="paper", max=2)
    await post_now(fake, ids)
    _, first, _ = posts(fake, ids.channel)
    paper_id = int(first["content"].rsplit("/", 1)[1])
    found = await discuss(fake, ids, f"#{paper_id}")
    assert f"is discussed in <#{first['id']}>" in found.content
    assert len(fake.requests_matching(THREAD_ROUTE)) == 2


async def test_discuss_links_an_archived_thread_it_cannot_reopen(world) -> None:
    fake, bot, ids = world
    [paper, *_] = await bot.storage.papers_on_day(SAMPLE_DAY)
    await discuss(fake, ids, f"#{paper.id}")
    [thread] = fake.threads(ids.channel)
    # Idle past its auto-archive duration: archived, and listed as such.
    assert fake.idle_threads(1439) == []
    assert fake.idle_threads(1) == [int(thread["id"])]
    assert fake.threads(ids.channel)[0]["thread_metadata"]["archived"] is True
    without = DEFAULT_EVERYONE_PERMISSIONS & ~SEND_MESSAGES_IN_THREADS
    fake.set_bot_permissions(ids.guild, without)
    fake.set_role_permissions(ids.guild, ids.guild, without)  # @everyone's too
    linked = await discuss(fake, ids, f"#{paper.id}")
    assert "(archived: write in it to reopen it)" in linked.content
    assert len(fake.threads(ids.channel)) == 1


async def test_discuss_refusals_are_one_ephemeral_line(world) -> None:
    fake, bot, ids = world
    unknown = await discuss(fake, ids, "zzqx no such paper qqq")
    assert unknown.ephemeral and unknown.content.startswith("No paper matches")
    [paper, *_] = await bot.storage.papers_on_day(SAMPLE_DAY)
    await discuss(fake, ids, f"#{paper.id}")
    [thread] = fake.threads(ids.channel)
    inside = await discuss(fake, ids, f"#{paper.id}", channel=int(thread["id"]))
    assert inside.ephemeral and "a thread can't hold threads" in inside.content
    fake.set_bot_permissions(ids.guild, DEFAULT_EVERYONE_PERMISSIONS)
    other = (await bot.storage.papers_on_day(SAMPLE_DAY))[1]
    refused = await discuss(fake, ids, f"#{other.id}")
    assert refused.ephemeral and "Create Public Threads" in refused.content
    assert await bot.storage.paper_thread(ids.channel, other.id) is None
