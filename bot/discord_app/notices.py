"""Telling a member, once, that their DMs are closed to us: after their next command."""

from __future__ import annotations

import logging

import discord

from bot.services.delivery import DeliveryService

log = logging.getLogger("paperbot.delivery")

CLOSED_DMS_NOTICE = (
    "⚠️ I couldn't send you your papers: your DMs are closed to me. Allow direct "
    "messages from this server's members, then run `/delivery` to turn them back on."
)


async def notify_closed_dms(delivery: DeliveryService, interaction: discord.Interaction) -> None:
    """Once, after their next command: we stopped DMing them, and how to fix it."""
    if not await delivery.closed_dms_notice_due(interaction.user.id):
        return
    try:
        await interaction.followup.send(
            CLOSED_DMS_NOTICE, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )
    except discord.HTTPException:
        log.info("could not tell user %s about closed DMs", interaction.user.id)
