"""/digest: channel digests (Manage Server). A guild only ever sees its own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.delivery_plan import choose_digest_day, last_fire_time, local_today
from bot.core.render import safe_inline, topic_display_names
from bot.core.subscriptions import MAX_DIGEST_ITEMS, ChannelSubscription
from bot.core.topic_lookup import REMOVED_TOPIC
from bot.core.wording import plural
from bot.discord_app.checks import manage_guild_only
from bot.discord_app.command_helpers import (
    digest_state,
    discord_time,
    paperbot,
    post_time_option,
    resolve_topics,
    timezone_autocomplete,
    timezone_option,
    topic_autocomplete,
    zone_shown,
)
from bot.discord_app.errors import UserError
from bot.discord_app.replies import reply, reply_text
from bot.discord_app.views import pager_view

OUTCOME_TEXT = {
    "sent": "Posted the digest for {day} in {channel}.",
    "reconciled": "The digest for {day} was already in {channel}.",
    "already": "{channel} already got the digest for {day}; it posts once per day.",
    "nothing-new": "Nothing new to post in {channel}: it has every day's digest already.",
    "no-papers": "There are no papers yet, so there is no digest to post: ingest a dump "
    "first (`/ingest`).",
    "busy": "A digest for {channel} is being posted right now.",
    "held": "Another paperbot process is posting the digest for {day} in {channel} right "
    "now; it goes out once.",
    "failed": "Couldn't post in {channel}: {detail}",
    "retry": "Discord had trouble posting in {channel} ({detail}); I'll try again shortly.",
}
CANT_POST = (
    "I can't post in {channel}: give me View Channel, Send Messages and Embed Links there, "
    "then try again."
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


def filter_text(keys: Sequence[str], names: Mapping[str, str]) -> str:
    """A digest's topic filter as its readers know it: names, never stored keys."""
    shown = topic_display_names(keys, names, REMOVED_TOPIC)
    return ", ".join(safe_inline(name, 100) for name in shown) or "all topics"


def _can_post(channel: discord.abc.GuildChannel, me: discord.Member | None) -> bool:
    if me is None:
        return True  # unknown: the first send will tell, and failures pause the digest
    perms = channel.permissions_for(me)
    return perms.view_channel and perms.send_messages and perms.embed_links


@manage_guild_only()
class DigestCog(commands.GroupCog, group_name="digest"):
    """Daily digests posted to this server's channels."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        super().__init__()

    async def _own_sub(
        self, interaction: discord.Interaction, channel_id: int
    ) -> ChannelSubscription:
        sub = await paperbot(interaction).storage.channel_subscription(channel_id)
        if sub is None or sub.guild_id != interaction.guild_id:
            raise UserError(f"<#{channel_id}> has no digest. Add one with `/digest subscribe`.")
        return sub

    @app_commands.command(name="subscribe")
    @app_commands.describe(
        channel="Where to post",
        time="Local time of day, e.g. 08:30",
        timezone="A city, country or zone, e.g. Berlin, India, PST or Europe/Berlin",
        topics="Only these topics (comma-separated); all papers when empty",
        max="Most papers per digest (default 10)",
    )
    @app_commands.autocomplete(timezone=timezone_autocomplete, topics=topic_autocomplete)
    async def subscribe(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        time: str,
        timezone: str,
        topics: str | None = None,
        max: app_commands.Range[int, 1, MAX_DIGEST_ITEMS] = 10,
    ) -> None:
        """Post a daily digest to a channel at a local time."""
        bot = paperbot(interaction)
        post_time, where = post_time_option(time), await timezone_option(timezone)
        zone = where.zone
        keys = resolve_topics(await bot.services.topics.taxonomy(interaction.guild_id), topics)
        guild = interaction.guild
        if not _can_post(channel, guild.me if guild else None):
            raise UserError(CANT_POST.format(channel=channel.mention))
        sub = ChannelSubscription(
            channel.id,
            interaction.guild_id or 0,
            post_time,
            zone,
            keys,
            max,
            created_by=interaction.user.id,
        )
        await bot.storage.upsert_channel_subscription(sub)
        # A time already passed today starts tomorrow, rather than posting this minute.
        now = bot.clock()
        fired = last_fire_time(now, post_time, zone)
        await bot.storage.set_last_run(sub.target, local_today(fired, zone))
        await bot.services.schedules.rebuild()
        topic_text = filter_text(keys, await bot.services.topics.topic_names(interaction.guild_id))
        await reply_text(
            interaction,
            f"📬 {channel.mention} gets up to {plural(max, 'paper')} ({topic_text}) every day "
            f"at {post_time} {where.label}. Next: "
            f"{discord_time(bot.services.schedules.next_run(sub.target))}.{where.aside}\n"
            "Try `/digest preview` to see it, or `/digest now` to post the newest one now.",
        )

    @app_commands.command(name="unsubscribe")
    @app_commands.describe(channel="The channel to stop posting to")
    async def unsubscribe(
        self, interaction: discord.Interaction, channel: discord.TextChannel
    ) -> None:
        """Stop a channel's daily digest."""
        bot = paperbot(interaction)
        if not await bot.storage.delete_channel_subscription(interaction.guild_id or 0, channel.id):
            raise UserError(f"{channel.mention} has no digest here.")
        await bot.services.schedules.rebuild()
        await reply_text(interaction, f"🛑 {channel.mention} will get no more digests.")

    @app_commands.command(name="list")
    async def list_(self, interaction: discord.Interaction) -> None:
        """This server's channel digests and when each posts next."""
        bot = paperbot(interaction)
        subs = await bot.storage.channel_subscriptions(interaction.guild_id)
        if not subs:
            await reply_text(interaction, "No digests yet. Add one with `/digest subscribe`.")
            return
        names = await bot.services.topics.topic_names(interaction.guild_id)
        lines = []
        for sub in subs:
            topics = filter_text(sub.topics, names)
            state = digest_state(sub, bot.services.schedules.next_run(sub.target))
            lines.append(
                f"<#{sub.channel_id}> · {sub.post_time} {await zone_shown(sub.timezone)} · "
                f"max {sub.max_items} · "
                f"{topics} · {state}"
            )
        await reply_text(interaction, "\n".join(lines)[:2000])

    @app_commands.command(name="preview")
    @app_commands.describe(channel="Preview this channel's digest (default: this channel)")
    async def preview(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        """Show, only to you, exactly what the next digest would post."""
        bot = paperbot(interaction)
        channel_id = channel.id if channel else interaction.channel_id or 0
        sub = await bot.storage.channel_subscription(channel_id)
        if sub is not None and sub.guild_id != interaction.guild_id:
            sub = None
        topics, max_items = (sub.topics, sub.max_items) if sub else ((), 10)
        zone = sub.timezone if sub else "UTC"
        days = await bot.storage.days(limit=60)
        last = await bot.storage.last_delivered_day(sub.target) if sub else None
        day = choose_digest_day(days, last, local_today(bot.clock(), zone)) or (
            days[0] if days else None
        )
        if day is None:
            raise UserError(OUTCOME_TEXT["no-papers"])
        pages = await bot.services.delivery.channel_pages(
            topics, max_items, interaction.guild_id, day
        )
        # Its buttons page the previewed channel's digest, wherever the preview is shown.
        view = pager_view("c", day, 1, len(pages), channel_id)
        await reply(interaction, pages[0], ephemeral=True, view=view)

    @app_commands.command(name="now")
    @app_commands.describe(channel="The subscribed channel to post to now")
    async def now(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        """Post the newest digest now (each day's digest posts once)."""
        bot = paperbot(interaction)
        sub = await self._own_sub(interaction, channel.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await bot.services.delivery.deliver_channel(sub, bot.clock())
        if outcome.status == "paused":
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
        bot = paperbot(interaction)
        sub = await self._own_sub(interaction, channel.id)
        if sub.paused:
            await reply_text(interaction, paused_text(sub, channel.mention))
            return
        await bot.storage.set_channel_paused(channel.id, True)
        await bot.services.schedules.rebuild()
        await reply_text(
            interaction,
            f"⏸️ Paused the digest for {channel.mention}; its settings are kept. "
            "`/digest resume` restarts it.",
        )

    @app_commands.command(name="resume")
    @app_commands.describe(channel="The channel whose paused digest to restart")
    async def resume(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        """Restart a paused digest (paused by /digest pause or after failed posts)."""
        bot = paperbot(interaction)
        sub = await self._own_sub(interaction, channel.id)
        if not sub.paused:
            raise UserError(
                f"The digest for {channel.mention} isn't paused: it posts next "
                f"{discord_time(bot.services.schedules.next_run(sub.target))}."
            )
        guild = interaction.guild
        if not _can_post(channel, guild.me if guild else None):
            raise UserError(CANT_POST.format(channel=channel.mention))
        await bot.storage.set_channel_paused(channel.id, False)
        # Like a new subscription: a post time already passed today waits for tomorrow
        # rather than posting this minute (`/digest now` posts at once).
        fired = last_fire_time(bot.clock(), sub.post_time, sub.timezone)
        await bot.storage.set_last_run(sub.target, local_today(fired, sub.timezone))
        await bot.services.schedules.rebuild()
        await reply_text(
            interaction,
            f"▶️ The digest for {channel.mention} is back on. Next: "
            f"{discord_time(bot.services.schedules.next_run(sub.target))}. `/digest now` posts the "
            "newest one now.",
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(DigestCog(bot))
