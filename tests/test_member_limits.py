"""Many members at once: a per-member cooldown on the expensive commands, and an
interaction that expired before the bot answered it, through the real discord.py
client against the fake Discord."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.discord_app.checks import EXPENSIVE_CALLS
from bot.fakediscord import FakeDiscord
from tests.discord_harness import bot_against_fake, build_world, settle

COOLDOWN_LINE = "You're searching fast — try again in "
ERROR_LINE = "Something went wrong"


async def test_one_member_flooding_search_does_not_starve_the_others(tmp_path) -> None:
    async with bot_against_fake(tmp_path) as (fake, _, ids):
        others = [fake.add_member(ids.guild, name) for name in ("bob", "carol", "dave")]
        flood = [
            fake.invoke(ids.guild, ids.channel, ids.user, "search", {"query": "language model"})
            for _ in range(100)
        ]
        normal = [
            fake.invoke(ids.guild, ids.channel, member, "search", {"query": query})
            for member in others
            for query in ("protein", "speech recognition")
        ]
        replies = await asyncio.gather(*flood, *normal)
        flooded, answered = replies[:100], replies[100:]

        results = [r for r in flooded if not r.content.startswith(COOLDOWN_LINE)]
        limited = [r for r in flooded if r.content.startswith(COOLDOWN_LINE)]
        assert len(results) == EXPENSIVE_CALLS and len(limited) == 100 - EXPENSIVE_CALLS
        assert all(r.embeds and "`language model`" in r.content for r in results)
        assert all(r.ephemeral and r.content.endswith(" s.") for r in limited)
        assert all(r.embeds and not r.ephemeral for r in answered)
        assert not any(ERROR_LINE in (r.content or "") for r in replies)


async def test_the_cooldown_passes_and_autocomplete_is_never_limited(tmp_path) -> None:
    async with bot_against_fake(tmp_path) as (fake, _, ids):
        for _ in range(EXPENSIVE_CALLS):
            await fake.invoke(ids.guild, ids.channel, ids.user, "search", {"query": "protein"})
        over = await fake.invoke(ids.guild, ids.channel, ids.user, "search", {"query": "x"})
        assert over.content.startswith(COOLDOWN_LINE) and over.ephemeral
        for _ in range(20):
            choices = await fake.autocomplete(
                ids.guild, ids.channel, ids.user, "search", {"source": "arx"}, focused="source"
            )
            assert choices


@pytest.mark.parametrize("command", ["related", "foryou", "saved export"])
async def test_the_other_expensive_commands_are_limited_per_member(tmp_path, command) -> None:
    options = {"paper": "language"} if command == "related" else {}
    async with bot_against_fake(tmp_path, extensions=("cogs.search", "cogs.reading")) as (
        fake,
        _,
        ids,
    ):
        other = fake.add_member(ids.guild, "bob")
        for _ in range(EXPENSIVE_CALLS):
            first = await fake.invoke(ids.guild, ids.channel, ids.user, command, options)
            assert not (first.content or "").startswith(COOLDOWN_LINE)
        over = await fake.invoke(ids.guild, ids.channel, ids.user, command, options)
        assert over.content.startswith(COOLDOWN_LINE) and over.ephemeral
        fresh = await fake.invoke(ids.guild, ids.channel, other, command, options)
        assert not (fresh.content or "").startswith(COOLDOWN_LINE)


async def test_an_expired_interaction_logs_one_warning(tmp_path, caplog) -> None:
    async with FakeDiscord() as fake:
        ids = build_world(fake)
        async with bot_against_fake(tmp_path, fake=fake, ids=ids) as _:
            fake.interaction_timeout = 1e-9  # every answer now comes too late
            caplog.clear()
            with caplog.at_level(logging.INFO):
                await fake.invoke(
                    ids.guild, ids.channel, ids.user, "search", {"query": "protein"}, wait=False
                )
                await fake.wait_for_request(
                    "POST /interactions/{}/{}/callback", answered=True, timeout=10
                )
                await settle()
            assert fake.stats["expired_interactions"] == 1
            ours = [r for r in caplog.records if r.levelno >= logging.WARNING]
            assert [r.levelname for r in ours] == ["WARNING"], [r.getMessage() for r in ours]
            assert "expired" in ours[0].getMessage()
