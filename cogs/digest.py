"""/digest: channel digests (Manage Server). A guild only ever sees its own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.digest_order import DigestOrder
from bot.core.outcomes import OutcomeStatus
from bot.core.page_papers import page_papers
from bot.core.ports import PagerScope
from bot.core.render import safe_inline, topic_display_names
from bot.core.sources import parse_source_filter
from bot.core.subscriptions import MAX_DIGEST_ITEMS, ChannelSubscription
from bot.core.threads import ThreadMode, thread_mode
from bot.core.topic_lookup import REMOVED_TOPIC
from bot.core.wording import plural
from bot.discord_app.checks import manage_guild_only
from bot.discord_app.command_helpers import (
    digest_state,
    discord_time,
    paperbot,
    post_time_option,
    timezone_autocomplete,
    timezone_option,
    topic_list_autocomplete,
    zone_shown,
)
from bot.discord_app.errors import UserError
from bot.discord_app.replies import reply, reply_text
from bot.discord_app.views import pager_view

OUTCOME_TEXT = {
    OutcomeStatus.SENT: "Posted the digest for {day} in {channel}.",
    OutcomeStatus.RECONCILED: "The digest for {day} was already in {channel}.",
    OutcomeStatus.ALREADY: "{channel} already got the digest for {day}; it posts once per day.",
    OutcomeStatus.NOTHING_NEW: "Nothing new to post in {channel}: it has every day's digest "
    "already.",
    OutcomeStatus.NO_PAPERS: "There are no papers yet, so there is no digest to post: ingest "
    "a dump first (`/ingest`).",
    OutcomeStatus.BUSY: "A digest for {channel} is being posted right now.",
    OutcomeStatus.HELD: "Another paperbot process is posting the digest for {day} in "
    "{channel} right now; it goes out once.",
    OutcomeStatus.FAILED: "Couldn't post in {channel}: {detail}",
    OutcomeStatus.RETRY: "Discord had trouble posting in {channel} ({detail}); I'll try again "
    "shortly.",
}
# Every order a digest can take, from the enum: a new order is offered as it is added.
ORDER_CHOICES = [
    app_commands.Choice(name=f"{o.value}: {o.label}", value=o.value) for o in DigestOrder
]
CANT_POST = (
    "I can't post in {channel}: give me View Channel, Send Messages and Embed Links there, "
    "then try again."
)
CANT_THREAD = (
    "I can't start threads in {channel}: give me Create Public Threads and Send Messages "
    "in Threads there, or subscribe with `thread: none`."
)


def paused_text(sub: ChannelSubscription, channel: str) -> str:
    """Why a channel's digest is not posting, and how to restart it."""
    if sub.paused_by_failures:
        error = f" ({sub.last_error})" if sub.last_error else ""
        return (
            f"The digest for {channel} is paused after {plural(sub.failures, 'failed post')}"
            f"{error}. Fix my permissions there, then run `/digest resume`."
        )
    return f"The digest for {channel} is paused. Run `/digest resume` to post it again."


def order_text(sub: ChannelSubscription) -> str:
    """` · in the dump's order` for a digest not in the default order; else ""."""
    return "" if sub.order is DigestOrder.POPULAR else f" · {sub.order.label}"


def filter_text(keys: Sequence[str], names: Mapping[str, str]) -> str:
    """A digest's topic filter as its readers know it: names, never stored keys."""
    shown = topic_display_names(keys, names, REMOVED_TOPIC)
    return ", ".join(safe_inline(name, 100) for name in shown) or "all topics"


def _can_post(channel: discord.abc.GuildChannel, me: discord.Member | None) -> bool:
    if me is None:
        return True  # unknown: the first send will tell, and failures pause the digest
    perms = channel.permissions_for(me)
    return perms.view_channel and perms.send_messages and perms.embed_links


def _can_thread(channel: discord.abc.GuildChannel, me: discord.Member | None) -> bool:
    if me is None:
        return True  # unknown: a refused thread is told in the channel, the post stays
    perms = channel.permissions_for(me)
    return perms.create_public_threads and perms.send_messages_in_threads


def thread_text(sub: ChannelSubscription) -> str:
    """`/digest list`'s word for a digest's threads (nothing when it starts none)."""
    mode = thread_mode(sub.thread)
    return "" if mode is ThreadMode.NONE else f" · {mode.label}"


@manage_guild_only()
class DigestCog(commands.GroupCog, group_name="digest"):
    """Daily digests posted to this server's channels."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="subscribe")
    @app_commands.describe(
        channel="Where to post",
        time="Local time of day, e.g. 08:30",
        timezone="A city, country or zone, e.g. Berlin, India, PST or Europe/Berlin",
        topics="Only these topics (comma-separated); all papers when empty",
        max="Most papers per digest (default 10)",
        source="hf, arxiv, arxiv:cs.CL,cs.LG (arXiv categories) or all (default)",
        thread="Discussion threads: none (default), one per digest post, or one per paper",
        order="popular: most HF upvotes first (default); dump: the dump's own order; "
        "relevance: most 👍 from this server's members, then HF upvotes",
    )
    @app_commands.choices(order=ORDER_CHOICES)
    @app_commands.autocomplete(timezone=timezone_autocomplete, topics=topic_list_autocomplete)
    async def subscribe(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        time: str,
        timezone: str,
        topics: str | None = None,
        max: app_commands.Range[int, 1, MAX_DIGEST_ITEMS] = 10,
        source: str | None = None,
        thread: Literal["none", "digest", "paper"] = "none",
        order: app_commands.Choice[str] | None = None,
    ) -> None:
        """Post a daily digest to a channel at a local time."""
        paper_order = DigestOrder(order.value) if order else DigestOrder.POPULAR
        bot = paperbot(interaction)
        digests = bot.services.subscriptions
        post_time = post_time_option(time)
        where = await timezone_option(interaction, timezone)
        keys = await digests.topic_filter(interaction.guild_id, topics)
        sources = digests.source_filter(source)
        guild = interaction.guild
        if not _can_post(channel, guild.me if guild else None):
            raise UserError(CANT_POST.format(channel=channel.mention))
        mode = thread_mode(thread)
        if mode is not ThreadMode.NONE and not _can_thread(channel, guild.me if guild else None):
            raise UserError(CANT_THREAD.format(channel=channel.mention))
        sub = ChannelSubscription(
            channel.id,
            interaction.guild_id or 0,
            post_time,
            where.zone,
            keys,
            max,
            created_by=interaction.user.id,
            source=sources.stored(),
            thread=mode.value,
            order=paper_order,
        )
        state = await digests.subscribe(sub)
        topic_text = filter_text(keys, await bot.services.topics.topic_names(interaction.guild_id))
        if not sources.everything:
            topic_text += f" from {sources.label()}"
        await reply_text(
            interaction,
            f"📬 {channel.mention} gets up to {plural(max, 'paper')} ({topic_text}), "
            f"{paper_order.label}, every day at {post_time} {where.label}{thread_text(sub)}. "
            "Next: "
            f"{discord_time(state.next_run)}.{where.aside}\n"
            "Try `/digest preview` to see it, or `/digest now` to post the newest one now.",
        )

    @app_commands.command(name="unsubscribe")
    @app_commands.describe(channel="The channel to stop posting to")
    async def unsubscribe(
        self, interaction: discord.Interaction, channel: discord.TextChannel
    ) -> None:
        """Stop a channel's daily digest."""
        digests = paperbot(interaction).services.subscriptions
        await digests.unsubscribe(interaction.guild_id or 0, channel.id)
        await reply_text(interaction, f"🛑 {channel.mention} will get no more digests.")

    @app_commands.command(name="list")
    async def list_(self, interaction: discord.Interaction) -> None:
        """This server's channel digests and when each posts next."""
        bot = paperbot(interaction)
        states = await bot.services.subscriptions.listing(interaction.guild_id)
        if not states:
            await reply_text(interaction, "No digests yet. Add one with `/digest subscribe`.")
            return
        names = await bot.services.topics.topic_names(interaction.guild_id)
        lines = []
        for sub, next_run in ((s.sub, s.next_run) for s in states):
            topics = filter_text(sub.topics, names)
            if sub.source != "all":
                topics += f" from {parse_source_filter(sub.source).label()}"
            zone = await zone_shown(interaction, sub.timezone)
            lines.append(
                f"<#{sub.channel_id}> · {sub.post_time} {zone} · "
                f"max {sub.max_items} · "
                f"{topics}{order_text(sub)}{thread_text(sub)} · {digest_state(sub, next_run)}"
            )
        await reply_text(interaction, "\n".join(lines)[:2000])

    @app_commands.command(name="preview")
    @app_commands.describe(channel="Preview this channel's digest (default: this channel)")
    async def preview(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        """Show, only to you, exactly what the next digest would post."""
        channel_id = channel.id if channel else interaction.channel_id or 0
        digests = paperbot(interaction).services.subscriptions
        preview = await digests.preview(interaction.guild_id, channel_id)
        if preview is None:
            raise UserError(OUTCOME_TEXT[OutcomeStatus.NO_PAPERS])
        # Its buttons page the previewed channel's digest, wherever the preview is shown.
        first = preview.pages[0]
        view = pager_view(
            PagerScope.CHANNEL, preview.day, 1, len(preview.pages), channel_id, page_papers(first)
        )
        await reply(interaction, first, ephemeral=True, view=view)

    @app_commands.command(name="now")
    @app_commands.describe(channel="The subscribed channel to post to now")
    async def now(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        """Post the newest digest now (each day's digest posts once)."""
        digests = paperbot(interaction).services.subscriptions
        sub = await digests.own(interaction.guild_id, channel.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await digests.post_now(sub)
        if outcome.status == OutcomeStatus.PAUSED:
            text = paused_text(sub, channel.mention)
        else:
            text = OUTCOME_TEXT.get(outcome.status, "{channel}: {detail}").format(
                day=outcome.day,
                channel=channel.mention,
                detail=outcome.detail or outcome.status,
            )
        await interaction.followup.send(
            text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    @app_commands.command(name="pause")
    @app_commands.describe(channel="The channel whose digest to pause")
    async def pause(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        """Stop a channel's digest, keeping its settings, until /digest resume."""
        digests = paperbot(interaction).services.subscriptions
        sub = await digests.own(interaction.guild_id, channel.id)
        if sub.paused:
            await reply_text(interaction, paused_text(sub, channel.mention))
            return
        await digests.pause(sub)
        await reply_text(
            interaction,
            f"⏸️ Paused the digest for {channel.mention}; its settings are kept. "
            "`/digest resume` restarts it.",
        )

    @app_commands.command(name="resume")
    @app_commands.describe(channel="The channel whose paused digest to restart")
    async def resume(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        """Restart a paused digest (paused by /digest pause or after failed posts)."""
        digests = paperbot(interaction).services.subscriptions
        sub = await digests.own(interaction.guild_id, channel.id)
        if not sub.paused:
            raise UserError(
                f"The digest for {channel.mention} isn't paused: it posts next "
                f"{discord_time(digests.state(sub).next_run)}."
            )
        guild = interaction.guild
        if not _can_post(channel, guild.me if guild else None):
            raise UserError(CANT_POST.format(channel=channel.mention))
        state = await digests.resume(sub)
        await reply_text(
            interaction,
            f"▶️ The digest for {channel.mention} is back on. Next: "
            f"{discord_time(state.next_run)}. `/digest now` posts the "
            "newest one now.",
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(DigestCog(bot))
