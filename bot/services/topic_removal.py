"""Removing a server topic: ask first when digests or members use it, then remove it and
tell each follower once, by DM.

"Once" holds because the followers to tell are exactly the follows the removal deleted,
in the same transaction (`Storage.delete_guild_topic`): a second removal, a second
click or another process finds no topic and no followers, so nobody is told twice. A
crash part-way through the DMs leaves the rest untold rather than told again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from bot.core.models import Topic
from bot.core.render import safe_inline
from bot.core.subscriptions import ChannelSubscription
from bot.core.topic_lookup import topic_key
from bot.core.topic_removal import follower_notice, removal_question, removal_result
from bot.discord_app.replies import reply_text, send_kwargs

if TYPE_CHECKING:
    from bot.discord_app.client import PaperBot

log = logging.getLogger("paperbot.topics")

CONFIRM_TIMEOUT = 180.0  # seconds the Remove / Cancel buttons stay live
NOT_YOURS = "Only the admin who ran `/topic remove` can answer this."


@dataclass(frozen=True)
class TopicUsage:
    topic: Topic
    digests: tuple[ChannelSubscription, ...]  # this server's digests filtering on it
    followers: int

    @property
    def used(self) -> bool:
        return bool(self.digests or self.followers)


async def topic_usage(bot: PaperBot, guild_id: int, topic: Topic) -> TopicUsage:
    key = topic_key(topic)
    subs = await bot.storage.channel_subscriptions(guild_id)
    followers = await bot.storage.topic_followers(guild_id, topic.slug)
    return TopicUsage(topic, tuple(s for s in subs if key in s.topics), len(followers))


async def confirm_question(bot: PaperBot, guild_id: int, usage: TopicUsage) -> str:
    names = await bot.topic_names(guild_id)
    return removal_question(usage.topic, usage.digests, usage.followers, names)


async def remove_topic(bot: PaperBot, guild_id: int, topic: Topic, server: str) -> str | None:
    """Remove the topic, tell its followers, and say what changed; None when it was
    already gone (someone else removed it first)."""
    removal = await bot.storage.delete_guild_topic(guild_id, topic.slug)
    if removal is None:
        return None
    # Members left following nothing lose their DM job; digests keep theirs.
    await bot.schedules.rebuild()
    told, not_told = await _tell(bot, removal.followers, follower_notice(topic, server))
    names = await bot.topic_names(guild_id)
    return removal_result(topic, removal.digests, told, not_told, names)


async def _tell(bot: PaperBot, user_ids: tuple[int, ...], text: str) -> tuple[int, int]:
    told = not_told = 0
    for user_id in user_ids:
        await bot.delivery.pacer.acquire()  # shares the post rate with digests
        try:
            channel = await bot.create_dm(discord.Object(user_id))
            await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            # Not retried: a retry could not know whether this one arrived.
            log.info("could not tell user %s about a removed topic: %s", user_id, exc)
            not_told += 1
        else:
            told += 1
    return told, not_told


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
        perms = interaction.permissions
        if interaction.user.id != self.admin_id or not perms.manage_guild:
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
    async def confirm(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        if not self._answer():
            return
        name = safe_inline(self.topic.name, 100)
        await interaction.response.edit_message(**_text(f"Removing **{name}**…"), view=None)
        text = await self._remove()
        if text is None:
            text = f"**{name}** was already removed."
        await interaction.edit_original_response(**_text(text))

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        if not self._answer():
            return
        name = safe_inline(self.topic.name, 100)
        await interaction.response.edit_message(
            **_text(f"Kept **{name}**: nothing was removed."), view=None
        )

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item
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


def _text(content: str) -> dict:
    return send_kwargs({"content": content})
