"""Turning the core's payload dicts into discord.py calls, in one place."""

from __future__ import annotations

import discord


def embeds_of(payload: dict) -> list[discord.Embed]:
    return [discord.Embed.from_dict(e) for e in payload.get("embeds", [])]


def send_kwargs(payload: dict, view: discord.ui.View | None = None) -> dict:
    """Keyword arguments for `send`/`edit`: dump text never pings anyone."""
    kwargs: dict = {
        "content": payload.get("content") or None,
        "embeds": embeds_of(payload),
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    if view is not None:
        kwargs["view"] = view
    return kwargs


async def reply(
    interaction: discord.Interaction,
    payload: dict,
    *,
    ephemeral: bool = False,
    view: discord.ui.View | None = None,
) -> None:
    """Respond, or follow up when the interaction was already answered or deferred."""
    kwargs = send_kwargs(payload, view)
    if not interaction.response.is_done():
        await interaction.response.send_message(ephemeral=ephemeral, **kwargs)
    else:
        if kwargs["content"] is None:
            kwargs.pop("content")
        await interaction.followup.send(ephemeral=ephemeral, **kwargs)


async def reply_text(
    interaction: discord.Interaction, text: str, *, ephemeral: bool = True
) -> None:
    await reply(interaction, {"content": text[:2000]}, ephemeral=ephemeral)
