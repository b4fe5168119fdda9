"""The question `/topic remove` asks before a used topic goes: Remove / Cancel buttons
under an ephemeral message, answered once, by the admin who asked
(bot/services/topic_removal.py removes the topic and tells its followers)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.core.models import Topic
from bot.core.render import safe_inline
from bot.discord_app.checks import has_manage_guild
from bot.discord_app.replies import TextKwargs, reply_text, text_kwargs

log = logging.getLogger("paperbot.topics")

CONFIRM_TIMEOUT = 180.0  # seconds the Remove / Cancel buttons stay live
NOT_YOURS = "Only the admin who ran `/topic remove` can answer this."


class ConfirmRemoval(discord.ui.View):
    """Remove / Cancel under the ephemeral question; only the asking admin may answer."""

    def __init__(
        self, admin_id: int, topic: Topic, remove: Callable[[], Awaitable[str | None]]
    ) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT)
        self.admin_id = admin_id
        self.topic = topic
        self._remove = remove
        self.origin: discord.Interaction | None = None  # edits the question on timeout
        self._answered = False

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.admin_id or not has_manage_guild(interaction):
            await reply_text(interaction, NOT_YOURS)
            return False
        return True

    def _answer(self) -> bool:
        """True for the first answer only: a double click removes nothing twice."""
        if self._answered:
            return False
        self._answered = True
        self.stop()
        return True

    @discord.ui.button(label="Remove", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction, _: discord.ui.Button[ConfirmRemoval]
    ) -> None:
        if not self._answer():
            return
        name = safe_inline(self.topic.name, 100)
        await interaction.response.edit_message(**_text(f"Removing **{name}**…"), view=None)
        text = await self._remove()
        if text is None:
            text = f"**{name}** was already removed."
        await interaction.edit_original_response(**_text(text))

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction, _: discord.ui.Button[ConfirmRemoval]
    ) -> None:
        if not self._answer():
            return
        name = safe_inline(self.topic.name, 100)
        await interaction.response.edit_message(
            **_text(f"Kept **{name}**: nothing was removed."), view=None
        )

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        log.error("removing topic %s failed", self.topic.slug, exc_info=error)
        with contextlib.suppress(discord.HTTPException):
            await interaction.edit_original_response(
                **_text("Something went wrong on my side; it has been logged. Please try again.")
            )

    async def on_timeout(self) -> None:
        if self._answered or self.origin is None:
            return
        self._answered = True
        # The token may have expired or the message been dismissed: nothing to fix then.
        with contextlib.suppress(discord.HTTPException):
            await self.origin.edit_original_response(
                **_text("Nothing was removed: the question expired. Run `/topic remove` again."),
                view=None,
            )


def _text(content: str) -> TextKwargs:
    return text_kwargs({"content": content})
