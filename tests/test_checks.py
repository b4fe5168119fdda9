"""The Manage Server rule: one decorator sets Discord's hint and the bot's own check,
and nothing else in the Discord layer tests the permission itself."""

from __future__ import annotations

import ast
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.discord_app.checks import (
    EXPENSIVE_CALLS,
    MemberCooldowns,
    manage_guild_only,
)
from bot.discord_app.checks import (
    EXPENSIVE_WINDOW_SECONDS as WINDOW,
)
from bot.discord_app.errors import message_for
from tests.command_tree import checks_manage_server, hinted_manage_server

ROOT = Path(__file__).resolve().parent.parent
# What only bot/discord_app/checks.py may spell: the permission, its hint, its errors.
PERMISSION_WORDS = {"manage_guild", "default_permissions", "MissingPermissions"}


def permission_spellings(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        name = None
        if isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.keyword):
            name = node.arg
        if name in PERMISSION_WORDS:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    return found


def test_the_manage_server_rule_is_written_once() -> None:
    folders = [ROOT / "cogs", ROOT / "bot" / "discord_app"]
    checks = ROOT / "bot" / "discord_app" / "checks.py"
    errors = ROOT / "bot" / "discord_app" / "errors.py"  # words the refusal, once
    found = [
        line
        for folder in folders
        for path in sorted(folder.rglob("*.py"))
        if path not in (checks, errors)
        for line in permission_spellings(path)
    ]
    assert found == []
    assert permission_spellings(checks)  # the scan does see the words where they are


async def test_one_decorator_hints_and_checks_a_command_and_a_group_cog() -> None:
    @app_commands.command(name="solo")
    @manage_guild_only()
    async def solo(interaction: discord.Interaction) -> None: ...

    @manage_guild_only()
    class Grouped(commands.GroupCog, group_name="grouped"):
        @app_commands.command(name="one")
        async def one(self, interaction: discord.Interaction) -> None: ...

        @app_commands.command(name="two")
        async def two(self, interaction: discord.Interaction) -> None: ...

    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    tree.add_command(solo)
    tree.add_command(Grouped().app_command)
    runnable = [c for c in tree.walk_commands() if isinstance(c, app_commands.Command)]
    assert sorted(c.qualified_name for c in runnable) == ["grouped one", "grouped two", "solo"]
    for command in runnable:
        assert hinted_manage_server(command), command.qualified_name
        assert await checks_manage_server(command), command.qualified_name
        assert (command.root_parent or command).allowed_contexts.guild
        assert not (command.root_parent or command).allowed_contexts.private_channel


def test_a_plain_cog_is_refused_rather_than_left_unhinted() -> None:
    with pytest.raises(TypeError, match="on each command"):

        @manage_guild_only()
        class Plain(commands.Cog):
            @app_commands.command(name="x")
            async def x(self, interaction: discord.Interaction) -> None: ...


def test_the_refusal_names_the_permission() -> None:
    refusal = message_for(app_commands.MissingPermissions(["manage_guild"]))
    assert refusal == "You need the **Manage Server** permission to do that."


@dataclass
class Call:
    """What a cooldown reads of an interaction."""

    user: SimpleNamespace
    created_at: dt.datetime


async def cooldown_answer(check: Any, call: Call) -> float | None:
    """None when the call passes, else its retry-after in seconds."""
    try:
        await discord.utils.maybe_coroutine(check, call)
    except app_commands.CommandOnCooldown as limited:
        assert (limited.cooldown.rate, limited.cooldown.per) == (EXPENSIVE_CALLS, WINDOW)
        return limited.retry_after
    return None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2),
            # Bursts (no gap) and gaps around the window, where buckets refill or go.
            st.one_of(st.just(0.0), st.sampled_from([4.9, 5.1, 9.9, 10.1]), st.floats(0, 25)),
        ),
        min_size=1,
        max_size=80,
    )
)
# A member over the limit, and the next sweep of unused buckets while their window runs.
@example([(0, 0.0), (1, 5.1), *[(1, 0.0)] * EXPENSIVE_CALLS, (1, 5.1)])
async def test_member_cooldowns_answer_as_discord_pys_cooldown(steps) -> None:
    """Whatever the members and gaps between calls (buckets dropped at other times),
    every call passes or is refused with the retry-after discord.py's would give."""

    async def command(interaction: discord.Interaction) -> None: ...

    reference = app_commands.checks.cooldown(EXPENSIVE_CALLS, WINDOW, key=lambda i: i.user.id)(
        command
    ).__discord_app_commands_checks__[0]
    ours = MemberCooldowns(EXPENSIVE_CALLS, WINDOW).check
    at = dt.datetime(2026, 3, 14, tzinfo=dt.UTC)
    for member, gap in steps:
        at += dt.timedelta(seconds=gap)
        call = Call(SimpleNamespace(id=member), at)
        assert await cooldown_answer(ours, call) == await cooldown_answer(reference, call)
