"""Scenario 6: every configuring command × (owner, admin, member without Manage Server,
a member from another server). Discord's default_permissions hint is cleared first, as a
server admin can do, so the bot's own check is what is being tested."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.fakediscord import MANAGE_GUILD
from tests.discord_harness import bot_against_fake, mention_leaks

ALL_COGS = ("cogs.search", "cogs.digest", "cogs.follow", "cogs.topic_admin", "cogs.operate")
DUMP = (
    b"new\n\nMar 22\n\nA Tiny Paper On Matrices\n\n"
    b"We study matrices. They are useful. Results are good.\n"
)
REFUSED = "Manage Server"


def commands(channel: int, attachment: dict) -> list[tuple[str, dict[str, Any]]]:
    """Every configuring command, in an order where each one has something to act on."""
    return [
        ("digest subscribe", {"channel": channel, "time": "08:00", "timezone": "UTC"}),
        ("digest list", {}),
        ("digest preview", {"channel": channel}),
        ("digest now", {"channel": channel}),
        ("digest unsubscribe", {"channel": channel}),
        ("topic add", {"name": "Matrices", "keywords": "matrix, matrices"}),
        ("topic remove", {"name": "matrices"}),
        ("ingest", {"file": attachment}),
    ]


async def state_of(bot, guild: int, channel: int) -> str:
    """What the configuring commands can change for one server. (Ingested papers are
    shared by every server the bot is in; the member case checks them separately.)"""
    subs = await bot.storage.channel_subscriptions(guild)
    topics = await bot.storage.guild_topics(guild)
    ledger = await bot.storage.last_delivered_day(f"channel:{channel}")
    return json.dumps([repr(subs), repr(topics), repr(ledger)], default=str)


def open_to_everyone(fake) -> None:
    for registered in fake.state.commands.values():
        for command in registered:
            command["default_member_permissions"] = None


async def settle_guild(bot, guild: int) -> None:
    for _ in range(500):
        if bot.get_guild(guild) is not None:
            return
        await asyncio.sleep(0.01)


@pytest.mark.heavy
@pytest.mark.parametrize("who", ["owner", "admin", "member", "other-server admin"])
async def test_configuring_commands_permission_matrix(tmp_path, figures, who) -> None:
    async with bot_against_fake(tmp_path, extensions=ALL_COGS) as (fake, bot, ids):
        open_to_everyone(fake)
        owner = fake.add_member(ids.guild, "owner", owner=True)
        other_guild = fake.add_guild("Elsewhere")
        other_admin = fake.add_member(other_guild, "else-admin", permissions=MANAGE_GUILD)
        other_channel = fake.add_channel(other_guild, "else-papers")
        await settle_guild(bot, other_guild)
        await asyncio.sleep(0.1)
        actor, guild, channel = {
            "owner": (owner, ids.guild, ids.channel),
            "admin": (ids.admin, ids.guild, ids.channel),
            "member": (ids.user, ids.guild, ids.channel),
            "other-server admin": (other_admin, other_guild, other_channel),
        }[who]
        home_before = await state_of(bot, ids.guild, ids.channel)
        dumps_before = (await bot.storage.stats())["dumps"]
        outcomes = {}
        for name, options in commands(channel, fake.add_attachment("d.txt", DUMP)):
            reply = await fake.invoke(guild, channel, actor, name, options, timeout=20)
            await reply.wait(timeout=20)
            text = (reply.content or "") + " ".join(e.get("description", "") for e in reply.embeds)
            outcomes[name] = "refused" if REFUSED in text else "allowed"
            assert "went wrong" not in text, (name, text)
        # The other server's admin cannot name this server's channel at all.
        with pytest.raises(ValueError, match="not in this server"):
            await fake.invoke(
                other_guild, other_channel, other_admin, "digest now", {"channel": ids.channel}
            )
        figures.trials = len(outcomes)
        if who == "member":
            assert set(outcomes.values()) == {"refused"}, outcomes
            assert await state_of(bot, ids.guild, ids.channel) == home_before
            assert (await bot.storage.stats())["dumps"] == dumps_before
            figures.user_errors = 0  # refusals are the intended answer, not errors
        else:
            assert set(outcomes.values()) == {"allowed"}, outcomes
        if who == "other-server admin":
            assert await state_of(bot, ids.guild, ids.channel) == home_before  # only its own server
        assert fake.payload_problems == [] and mention_leaks(fake) == []
        figures.notes.append(f"{who}: {outcomes}")


async def test_ingest_can_be_limited_to_the_operators_server(tmp_path) -> None:
    async with bot_against_fake(tmp_path, extensions=ALL_COGS) as (fake, bot, ids):
        other_guild = fake.add_guild("Elsewhere")
        other_admin = fake.add_member(other_guild, "else-admin", permissions=MANAGE_GUILD)
        other_channel = fake.add_channel(other_guild, "else-papers")
        await settle_guild(bot, other_guild)
        object.__setattr__(bot.settings, "ingest_guild_ids", frozenset({ids.guild}))
        before = (await bot.storage.stats())["dumps"]
        reply = await fake.invoke(
            other_guild,
            other_channel,
            other_admin,
            "ingest",
            {"file": fake.add_attachment("d.txt", DUMP)},
        )
        assert reply.ephemeral and "limited /ingest" in reply.content
        assert (await bot.storage.stats())["dumps"] == before
        reply = await fake.invoke(
            ids.guild,
            ids.channel,
            ids.admin,
            "ingest",
            {"file": fake.add_attachment("d.txt", DUMP)},
        )
        assert "1 new" in reply.content
        assert (await bot.storage.stats())["dumps"] == before + 1
