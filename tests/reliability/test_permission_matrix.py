"""Scenario 6: every configuring command × (owner, admin, member without Manage Server,
a member from another server). Discord's default_permissions hint is cleared first, as a
server admin can do, so the bot's own check is what is being tested.

The configuring commands are read from the bot's registered command tree (every one
that needs Manage Server, by its hint or by its checks) with every extension of
bot.discord_app.client.EXTENSIONS loaded, so a new one cannot escape the matrix: without inputs in
COMMAND_INPUTS it fails the matrix by name."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bot.discord_app.client import EXTENSIONS
from bot.fakediscord import MANAGE_GUILD
from tests.command_tree import (
    bot_with_every_extension,
    checks_manage_server,
    configuring_commands,
    hinted_manage_server,
    slash_commands,
)
from tests.discord_harness import bot_against_fake, bot_knows_channels, mention_leaks

DUMP = (
    b"new\n\nMar 22\n\nA Tiny Paper On Matrices\n\n"
    b"We study matrices. They are useful. Results are good.\n"
)
REFUSED = "Manage Server"

Inputs = Callable[[int, dict], dict[str, Any]]
# The options each configuring command runs with, given the channel and an uploaded
# dump, in an order where each one has something to act on (subscribe before now,
# add before remove). A new configuring command must be added here, consciously.
COMMAND_INPUTS: dict[str, Inputs] = {
    "digest subscribe": lambda channel, _: {"channel": channel, "time": "08:00", "timezone": "UTC"},
    "digest list": lambda channel, _: {},
    "digest preview": lambda channel, _: {"channel": channel},
    "digest now": lambda channel, _: {"channel": channel},
    "digest pause": lambda channel, _: {"channel": channel},
    "digest resume": lambda channel, _: {"channel": channel},
    "digest unsubscribe": lambda channel, _: {"channel": channel},
    "topic add": lambda channel, _: {"name": "Matrices", "keywords": "matrix, matrices"},
    "topic remove": lambda channel, _: {"name": "matrices"},
    "ingest": lambda channel, upload: {"file": upload},
}


# Commands about a member's own reading (feedback, saves, mutes, follows of authors):
# every member runs them, so none may need Manage Server.
MEMBER_READING = (
    "foryou",
    "related",
    "saved list",
    "saved export",
    "forget-me",
    "mute",
    "mutes",
    "unmute",
    "follow",
)


def matrix_gaps(registered: list[str]) -> list[str]:
    """What keeps the table and the registered configuring commands apart, one line each."""
    where = "COMMAND_INPUTS in tests/reliability/test_permission_matrix.py"
    return [
        f"/{name} needs Manage Server but has no inputs in {where}"
        for name in registered
        if name not in COMMAND_INPUTS
    ] + [
        f"/{name} has inputs in {where} but is not a registered configuring command"
        for name in COMMAND_INPUTS
        if name not in registered
    ]


async def commands(bot, channel: int, attachment: dict) -> list[tuple[str, dict[str, Any]]]:
    """Every configuring command the bot registered, with its inputs."""
    registered = await configuring_commands(bot.tree)
    gaps = matrix_gaps(registered)
    if gaps:
        pytest.fail("\n".join(gaps))
    return [(name, inputs(channel, attachment)) for name, inputs in COMMAND_INPUTS.items()]


async def test_every_configuring_command_is_in_the_matrix(tmp_path) -> None:
    """Quick, without Discord: the table covers exactly the registered configuring
    commands, and each command hinted Manage Server enforces it with a check (the hint
    alone is not enforced: a server admin can override it)."""
    async with bot_with_every_extension(tmp_path) as bot:
        registered = await configuring_commands(bot.tree)
        assert matrix_gaps(registered) == []
        unchecked = [
            command.qualified_name
            for command in slash_commands(bot.tree)
            if hinted_manage_server(command) and not await checks_manage_server(command)
        ]
        assert unchecked == [], f"hinted Manage Server but not checked: {unchecked}"
        assert set(bot.extensions) == set(EXTENSIONS)
        # A member's own reading is theirs to run: in the tree, and never configuring.
        every = {command.qualified_name for command in slash_commands(bot.tree)}
        personal = set(MEMBER_READING) - set(registered)
        assert personal == set(MEMBER_READING) and personal <= every, every


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


async def knows_guild(bot, guild: int, timeout: float = 10.0) -> None:
    """Wait until the bot has seen the (new) server's GUILD_CREATE."""
    if bot.get_guild(guild) is None:
        # Listening starts before the loop runs again: the event cannot slip past.
        await bot.wait_for("guild_join", check=lambda g: g.id == guild, timeout=timeout)


@pytest.mark.heavy
@pytest.mark.parametrize("who", ["owner", "admin", "member", "other-server admin"])
async def test_configuring_commands_permission_matrix(tmp_path, figures, who) -> None:
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS) as (fake, bot, ids):
        open_to_everyone(fake)
        owner = fake.add_member(ids.guild, "owner", owner=True)
        other_guild = fake.add_guild("Elsewhere")
        other_admin = fake.add_member(other_guild, "else-admin", permissions=MANAGE_GUILD)
        other_channel = fake.add_channel(other_guild, "else-papers")
        await knows_guild(bot, other_guild)
        await bot_knows_channels(bot, [other_channel])
        actor, guild, channel = {
            "owner": (owner, ids.guild, ids.channel),
            "admin": (ids.admin, ids.guild, ids.channel),
            "member": (ids.user, ids.guild, ids.channel),
            "other-server admin": (other_admin, other_guild, other_channel),
        }[who]
        home_before = await state_of(bot, ids.guild, ids.channel)
        dumps_before = (await bot.storage.stats())["dumps"]
        expected = "refused" if who == "member" else "allowed"
        outcomes, failures = {}, {}
        for name, options in await commands(bot, channel, fake.add_attachment("d.txt", DUMP)):
            reply = await fake.invoke(guild, channel, actor, name, options, timeout=20)
            await reply.wait(timeout=20)
            text = (reply.content or "") + " ".join(e.get("description", "") for e in reply.embeds)
            outcomes[name] = "refused" if REFUSED in text else "allowed"
            if "went wrong" in text:
                failures[name] = text
        figures.trials = len(outcomes)
        # Refusals are the intended answer for a member, not errors: an error is an
        # answer other than the intended one, or the bot failing.
        wrong = {name for name, outcome in outcomes.items() if outcome != expected}
        figures.user_errors = len(wrong | failures.keys())
        assert failures == {}, failures
        # The other server's admin cannot name this server's channel at all.
        with pytest.raises(ValueError, match="not in this server"):
            await fake.invoke(
                other_guild, other_channel, other_admin, "digest now", {"channel": ids.channel}
            )
        if who == "member":
            assert set(outcomes.values()) == {"refused"}, outcomes
            assert await state_of(bot, ids.guild, ids.channel) == home_before
            assert (await bot.storage.stats())["dumps"] == dumps_before
        else:
            assert set(outcomes.values()) == {"allowed"}, outcomes
        if who == "other-server admin":
            assert await state_of(bot, ids.guild, ids.channel) == home_before  # only its own server
        assert fake.payload_problems == [] and mention_leaks(fake) == []
        figures.notes.append(f"{who}: {outcomes}")


async def test_ingest_can_be_limited_to_the_operators_server(tmp_path) -> None:
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS) as (fake, bot, ids):
        other_guild = fake.add_guild("Elsewhere")
        other_admin = fake.add_member(other_guild, "else-admin", permissions=MANAGE_GUILD)
        other_channel = fake.add_channel(other_guild, "else-papers")
        await knows_guild(bot, other_guild)
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
