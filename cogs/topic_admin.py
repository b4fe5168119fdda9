"""/topic add|remove: a server's own topics on top of the built-in taxonomy."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.render import safe_inline
from bot.core.wording import plural
from bot.discord_app.checks import manage_guild_only
from bot.discord_app.command_helpers import paperbot, topic_choices
from bot.discord_app.errors import UserError
from bot.discord_app.replies import reply, reply_text
from bot.discord_app.topic_removal_view import ConfirmRemoval


async def _own_topics(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    topics = await paperbot(interaction).services.topics.own(interaction.guild_id)
    return topic_choices(topics, current, value=lambda t: t.slug, mark_own=False)


@manage_guild_only()
class TopicAdminCog(commands.GroupCog, group_name="topic"):
    """This server's own topics."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="add")
    @app_commands.describe(
        name="The topic's name, e.g. Diffusion models",
        keywords='Comma-separated words or "quoted phrases"; end a word with * for a prefix',
    )
    async def add(self, interaction: discord.Interaction, name: str, keywords: str) -> None:
        """Add (or replace) a topic for this server, tagged on every paper."""
        server_topics = paperbot(interaction).services.server_topics
        topic = await server_topics.new_topic(interaction.guild_id or 0, name, keywords)
        await interaction.response.defer(ephemeral=True, thinking=True)
        tagged = await server_topics.add(topic)
        await interaction.followup.send(
            f"🏷️ Topic **{safe_inline(topic.name, 100)}** (`{topic.slug}`) added: "
            f"{plural(tagged, 'paper matches', 'papers match')} so far. "
            "Members can `/follow` it and digests can filter on it.",
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @app_commands.command(name="remove")
    @app_commands.describe(name="One of this server's own topics")
    @app_commands.autocomplete(name=_own_topics)
    async def remove(self, interaction: discord.Interaction, name: str) -> None:
        """Remove one of this server's topics (asks first when digests or members use it)."""
        bot = paperbot(interaction)
        guild_id = interaction.guild_id or 0
        topic = await bot.services.server_topics.own_topic(guild_id, name)
        server = interaction.guild.name if interaction.guild else "this server"
        removal = bot.services.topic_removal
        usage = await removal.usage(guild_id, topic)
        if not usage.used:
            text = await removal.remove(guild_id, topic, server)
            if text is None:
                raise UserError("That topic was removed a moment ago.")
            await reply_text(interaction, text)
            return
        view = ConfirmRemoval(
            interaction.user.id, topic, lambda: removal.remove(guild_id, topic, server)
        )
        question = await removal.question(guild_id, usage)
        await reply(interaction, {"content": question}, ephemeral=True, view=view)
        view.origin = interaction


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(TopicAdminCog(bot))
