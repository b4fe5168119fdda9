"""Discussion threads through the real discord.py client, the fake Discord and a real
SQLite file: `/digest subscribe … thread:`, the threads a digest starts exactly once
(also after a failure between post and thread), refused permissions, and `/discuss`."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.core.threads import MAX_THREAD_NAME, item_marker
from bot.fakediscord import DEFAULT_EVERYONE_PERMISSIONS, MANAGE_GUILD
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
