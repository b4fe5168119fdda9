"""Scenario 4: a CLI ingest (another process, same database) runs while the bot serves
50 concurrent /search interactions and posts digests. No "database is locked" reaches
a user, and every search stays correct."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys

import pytest

from bot.core.subscriptions import ChannelSubscription
from tests.discord_harness import add_members, bot_against_fake, mention_leaks
from tests.reliability.botproc import digests_per_channel
from tests.reliability.dumps import write_dump_folder

SEARCHES = 50
CHANNELS = 20
FIRE = dt.datetime(2026, 3, 15, 8, 30, tzinfo=dt.UTC)
PROTEIN = "Long-context Protein Language Model"


@pytest.mark.heavy
async def test_ingest_search_and_fanout_at_once(tmp_path, figures, caplog) -> None:
    caplog.set_level(logging.WARNING)
    dumps = tmp_path / "dumps"
    write_dump_folder(dumps, days=16)
    cogs = ("cogs.search", "cogs.digest")
    async with bot_against_fake(tmp_path, extensions=cogs, clock=lambda: FIRE) as (
        fake,
        bot,
        ids,
    ):
        db = bot.storage.path
        channels = [fake.add_channel(ids.guild, f"feed-{i}") for i in range(CHANNELS)]
        for channel in channels:
            await bot.storage.upsert_channel_subscription(
                ChannelSubscription(channel, ids.guild, "08:00", "UTC", (), 5)
            )
        ingest = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "ingest",
            str(dumps),
            "--db",
            db,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,  # a `[n/16]` progress line after each commit
        )
        assert ingest.stderr is not None
        # The ingest is under way (its first dump committed, fifteen to go) however long
        # the process took to start on a loaded machine: a fixed sleep could fire the
        # searches before it ever opened the database.
        first = (await asyncio.wait_for(ingest.stderr.readline(), 120)).decode()
        assert first.startswith("[1/16]"), first
        searches = [
            fake.invoke(ids.guild, ids.channel, member, "search", {"query": "protein"}, timeout=60)
            for member in add_members(fake, ids, SEARCHES)
        ]
        replies, _ = await asyncio.gather(
            asyncio.gather(*searches), bot.services.schedules.sweep(FIRE)
        )
        for reply in replies:
            await reply.wait(timeout=60)
        ingest_err = first + (await ingest.stderr.read()).decode()
        assert await ingest.wait() == 0, ingest_err
        errors = [r for r in replies if r.ephemeral or "wrong" in (r.content or "")]
        wrong = [r for r in replies if PROTEIN not in str(r.embeds)]
        counts = digests_per_channel(fake, channels)
        figures.trials = 1
        figures.posts_expected = CHANNELS
        figures.posts_seen = sum(counts.values())
        figures.duplicates = sum(c - 1 for c in counts.values() if c > 1)
        figures.losses = sum(1 for c in counts.values() if c == 0)
        figures.user_errors = len(errors)
        assert errors == [] and wrong == []
        assert set(counts.values()) == {1}
        assert "locked" not in ingest_err
        assert not [r for r in caplog.records if "locked" in r.getMessage()]
        assert fake.payload_problems == [] and mention_leaks(fake) == []
        stats = await bot.storage.stats()
        assert stats["dumps"] == 17  # the sample and all 16 dumps, none lost
