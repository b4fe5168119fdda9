"""Who may configure paperbot in a server: members with Manage Server. Written once.

Discord's `default_permissions` only hides a command from members without the
permission, and a server admin can override it in the server's settings; the check is
what enforces the rule. `manage_guild_only` sets both, so no command can carry the
hint without the check (nor the check without the hint).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

T = TypeVar("T")

# The commands that cost real work per call (/search, /related, /foryou, /saved export)
# allow each member this many calls per window, so one member cannot starve a server.
EXPENSIVE_CALLS = 5
EXPENSIVE_WINDOW_SECONDS = 10.0


def has_manage_guild(interaction: discord.Interaction) -> bool:
    """Whether the member acts in a server and holds Manage Server there."""
    return interaction.guild_id is not None and interaction.permissions.manage_guild


def require_manage_guild(interaction: discord.Interaction) -> bool:
    """The check: outside a server NoPrivateMessage, without Manage Server
    MissingPermissions (bot/discord_app/errors.py turns each into its one line)."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    if not has_manage_guild(interaction):
        raise app_commands.MissingPermissions(["manage_guild"])
    return True


def manage_guild_only() -> Callable[[T], T]:
    """Server-only, hinted Manage Server and checked: for one command, or for a
    `GroupCog` class (then the check goes on every command defined in it)."""

    def decorator(target: T) -> T:
        app_commands.guild_only()(target)
        app_commands.default_permissions(manage_guild=True)(target)
        if isinstance(target, type):
            for command in _commands_of(target):
                app_commands.check(require_manage_guild)(command)
        else:
            app_commands.check(require_manage_guild)(target)
        return target

    return decorator


def _commands_of(cog_class: type) -> list[app_commands.Command[Any, ..., Any]]:
    if not getattr(cog_class, "__cog_is_app_commands_group__", False):
        # A plain Cog is no group: Discord would ignore the class's hint.
        raise TypeError(f"{cog_class.__name__}: put manage_guild_only on each command")
    found: list[app_commands.Command[Any, ..., Any]] = []
    pending = list(getattr(cog_class, "__cog_app_commands__", ()))
    while pending:
        item = pending.pop(0)
        if isinstance(item, app_commands.Group):
            pending.extend(item.commands)
        else:
            found.append(item)
    return found


class MemberCooldowns:
    """A cooldown per member: `rate` calls per `per` seconds, over it CommandOnCooldown,
    as discord.py's `app_commands.checks.cooldown` keyed on the member. discord.py looks
    through every member's bucket for unused ones on each call, so a burst of n members
    cost n²/2 checks on the event loop; here unused buckets are dropped at most once per
    window. A bucket unused for a window refills before its next use either way, so
    keeping it a little longer answers exactly as a new one would."""

    def __init__(self, rate: int, per: float) -> None:
        self.rate = rate
        self.per = per
        self._buckets: dict[int, app_commands.Cooldown] = {}
        self._swept = 0.0

    def check(self, interaction: discord.Interaction) -> bool:
        current = interaction.created_at.timestamp()
        if current - self._swept > self.per:
            self._swept = current
            self._buckets = {k: b for k, b in self._buckets.items() if current <= b._last + b.per}
        bucket = self._buckets.get(interaction.user.id)
        if bucket is None:
            bucket = self._buckets[interaction.user.id] = app_commands.Cooldown(self.rate, self.per)
        retry_after = bucket.update_rate_limit(current)
        if retry_after is None:
            return True
        raise app_commands.CommandOnCooldown(bucket, retry_after)


def expensive_command() -> Callable[[T], T]:
    """A per-member cooldown (`EXPENSIVE_CALLS` per `EXPENSIVE_WINDOW_SECONDS`) for one
    costly command; over it, CommandOnCooldown (bot/discord_app/errors.py words it).
    Autocomplete runs no checks, so typing is never limited."""
    limit: Callable[[T], T] = app_commands.check(
        MemberCooldowns(EXPENSIVE_CALLS, EXPENSIVE_WINDOW_SECONDS).check
    )
    return limit
