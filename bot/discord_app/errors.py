"""Errors users see: one short ephemeral line that says what to do."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.core.render import code_span
from bot.core.wording import cooldown_text
from bot.discord_app.replies import reply_text
from bot.services.refusals import Refused, value_error_text

log = logging.getLogger("paperbot.errors")
UNKNOWN_INTERACTION = 10062  # Discord's error code for an expired or unknown interaction


class UserError(app_commands.AppCommandError):
    """Bad input or a refused action; the message is shown to the user as is."""

    @classmethod
    def from_value_error(cls, exc: ValueError) -> UserError:
        """A core validation message as a user-facing sentence, markdown-escaped."""
        return cls(value_error_text(exc))


def message_for(error: app_commands.AppCommandError) -> str | None:
    """The user-facing line for errors we expect; None for bugs."""
    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, app_commands.CommandInvokeError) and isinstance(error.original, Refused):
        return str(error.original)  # a service turning the request down: its line, as is
    if isinstance(error, app_commands.MissingPermissions):
        return "You need the **Manage Server** permission to do that."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command only works in a server channel."
    if isinstance(error, app_commands.CommandOnCooldown):
        return cooldown_text(error.retry_after)
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that command here."
    if isinstance(error, app_commands.TransformerError):
        return (
            f"I couldn't understand {code_span(str(error.value))}; check the option and try again."
        )
    return None


async def on_tree_error(
    interaction: discord.Interaction, error: app_commands.AppCommandError
) -> None:
    """The catch-all: expected errors as their line, bugs logged with a generic reply."""
    if _expired(error):
        # Nothing reaches the member any more (the token is gone): one line, no reply.
        log.warning("an interaction expired before it was answered (/%s)", _name(interaction))
        return
    text = message_for(error)
    if text is None:
        log.error("command /%s failed", _name(interaction), exc_info=error)
        text = "Something went wrong on my side; it has been logged. Please try again."
    try:
        await reply_text(interaction, text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not send the error message for an interaction")


def _expired(error: app_commands.AppCommandError) -> bool:
    """Discord answered 10062 Unknown interaction: the 3 s to acknowledge had passed."""
    original = getattr(error, "original", None)
    return isinstance(original, discord.NotFound) and original.code == UNKNOWN_INTERACTION


def _name(interaction: discord.Interaction) -> str:
    return interaction.command.qualified_name if interaction.command else "?"
