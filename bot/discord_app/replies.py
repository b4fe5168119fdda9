"""Turning the core's payload dicts into discord.py calls, in one place."""

from __future__ import annotations

from typing import TypedDict

import discord
from discord.utils import MISSING

from bot.core.payloads import MessagePayload


class MessageBody(TypedDict):
    """A message's embeds and mention rule, as discord.py's keyword arguments."""

    embeds: list[discord.Embed]
    allowed_mentions: discord.AllowedMentions


class TextKwargs(MessageBody):
    """Keyword arguments for `send` and the edits (where `content=None` clears the text)."""

    content: str | None


class SendKwargs(TextKwargs, total=False):
    view: discord.ui.View


def embeds_of(payload: MessagePayload) -> list[discord.Embed]:
    return [discord.Embed.from_dict(e) for e in payload.get("embeds", [])]


def message_body(payload: MessagePayload) -> MessageBody:
    # Dump text never pings anyone.
    return {"embeds": embeds_of(payload), "allowed_mentions": discord.AllowedMentions.none()}


def text_kwargs(payload: MessagePayload) -> TextKwargs:
    return {"content": payload.get("content") or None, **message_body(payload)}


def send_kwargs(payload: MessagePayload, view: discord.ui.View | None = None) -> SendKwargs:
    """Keyword arguments for `send`/`edit`: dump text never pings anyone."""
    kwargs: SendKwargs = {**text_kwargs(payload)}
    if view is not None:
        kwargs["view"] = view
    return kwargs


async def reply(
    interaction: discord.Interaction,
    payload: MessagePayload,
    *,
    ephemeral: bool = False,
    view: discord.ui.View | None = None,
) -> None:
    """Respond, or follow up when the interaction was already answered or deferred."""
    if not interaction.response.is_done():
        await interaction.response.send_message(ephemeral=ephemeral, **send_kwargs(payload, view))
        return
    # A follow-up takes no `None`: MISSING is discord.py's "not given" (no text, no view).
    await interaction.followup.send(
        payload.get("content") or MISSING,
        ephemeral=ephemeral,
        view=MISSING if view is None else view,
        **message_body(payload),
    )


async def reply_text(
    interaction: discord.Interaction, text: str, *, ephemeral: bool = True
) -> None:
    await reply(interaction, {"content": text[:2000]}, ephemeral=ephemeral)
