"""The slash commands the bot registers, read from its command tree, so a test that must
cover every command (or every configuring one) cannot miss one added later.

    async with bot_with_every_extension(tmp_path) as bot:
        names = await configuring_commands(bot.tree)   # ["digest subscribe", ..., "ingest"]
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import discord
from discord import app_commands

from bot.cli.settings import Settings
from bot.discord_app.client import EXTENSIONS, PaperBot
from bot.discord_app.wiring import make_bot
from storage import open_storage


def slash_commands(tree: app_commands.CommandTree) -> list[app_commands.Command]:
    """Every runnable slash command, subcommands included (groups themselves are not
    runnable), in the order the tree holds them."""
    return [c for c in tree.walk_commands() if isinstance(c, app_commands.Command)]


def required_options(command: app_commands.Command) -> list[str]:
    return [p.name for p in command.parameters if p.required]


def hinted_manage_server(command: app_commands.Command) -> bool:
    """Whether Discord is told to show the command only to Manage Server members. Only
    top-level commands and groups carry default_permissions; a subcommand has its root's."""
    permissions = (command.root_parent or command).default_permissions
    return permissions is not None and permissions.manage_guild


async def checks_manage_server(command: app_commands.Command) -> bool:
    """Whether the command's own checks (its checks, its group's and its cog's
    interaction_check) refuse a server member without Manage Server. They are run on a
    stand-in interaction: only the member's permissions and the server matter to them."""
    stand_in = SimpleNamespace(
        guild_id=1,
        guild=None,
        permissions=discord.Permissions.none(),
        user=SimpleNamespace(id=1),  # a per-member cooldown keys on it
        created_at=discord.utils.utcnow(),  # and counts from it
        command=command,
    )
    checks = list(command.checks)
    for owner in (command.parent, command.binding):
        check = getattr(owner, "interaction_check", None)
        if check is not None:
            checks.append(check)
    for check in checks:
        try:
            await discord.utils.maybe_coroutine(check, stand_in)
        except app_commands.MissingPermissions as exc:
            if "manage_guild" in exc.missing_permissions:
                return True
        except app_commands.CheckFailure:
            continue
        except Exception as exc:
            raise AssertionError(
                f"cannot tell whether /{command.qualified_name} needs Manage Server: "
                f"its check {check!r} failed on a stand-in interaction: {exc!r}"
            ) from exc
    return False


async def configuring_commands(tree: app_commands.CommandTree) -> list[str]:
    """Qualified names ("digest subscribe") of the commands that need Manage Server,
    by their default_permissions hint or by their checks."""
    return [
        command.qualified_name
        for command in slash_commands(tree)
        if hinted_manage_server(command) or await checks_manage_server(command)
    ]


@contextlib.asynccontextmanager
async def bot_with_every_extension(tmp_path: Path) -> AsyncIterator[PaperBot]:
    """A PaperBot with every extension of bot.discord_app.client.EXTENSIONS loaded, not connected
    to any Discord: enough to read its command tree."""
    settings = Settings(token="x", db=str(tmp_path / "tree.db"))
    storage = await open_storage(settings.db)
    bot = make_bot(settings=settings, storage=storage, start_scheduler=False, sync_commands=False)
    try:
        for name in EXTENSIONS:
            await bot.load_extension(name)
        yield bot
    finally:
        await bot.close()
        await storage.close()
