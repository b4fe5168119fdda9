"""Turning the core's payload dicts into discord.py calls, in one place."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypedDict, TypeVar

import discord
from discord.utils import MISSING

from bot.core.payloads import MessagePayload

T = TypeVar("T")
# Interactions must be answered within 3 s; work still running after this long is
# deferred so the token does not lapse.
DEFER_AFTER = 2.0


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


async def answer_soon(
    interaction: discord.Interaction, work: Awaitable[T], *, ephemeral: bool = False
) -> T:
    """Await ``work``, deferring the interaction first if it is not done within
    `DEFER_AFTER` seconds. Fast lookups then still get an immediate (possibly
    ephemeral) reply; a slow one shows "thinking…" instead of timing out."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER)
    if not done and not interaction.response.is_done():
        await interaction.response.defer(thinking=True, ephemeral=ephemeral)
    return await task
