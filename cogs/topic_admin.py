"""/topic add|remove: a server's own topics on top of the built-in taxonomy."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_helpers import choice, paperbot
from bot.core.ingest import tag_stored_papers
from bot.core.topics import parse_keyword_list, slugify, validate_topic
from bot.errors import UserError
from bot.replies import reply_text

MAX_GUILD_TOPICS = 25


async def _own_topics(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    topics = await paperbot(interaction).storage.guild_topics(interaction.guild_id or 0)
    needle = current.casefold()
    return [choice(t.name, t.slug) for t in topics if needle in t.name.casefold()][:25]


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class TopicAdminCog(commands.GroupCog, group_name="topic"):
    """This server's own topics."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    @app_commands.command(name="add")
    @app_commands.describe(
        name="The topic's name, e.g. Diffusion models",
        keywords='Comma-separated words or "quoted phrases"; end a word with * for a prefix',
    )
    async def add(self, interaction: discord.Interaction, name: str, keywords: str) -> None:
        """Add (or replace) a topic for this server, tagged on every paper."""
        bot = paperbot(interaction)
        guild_id = interaction.guild_id or 0
        existing = await bot.storage.guild_topics(guild_id)
        slug = slugify(name)
        if len(existing) >= MAX_GUILD_TOPICS and slug not in {t.slug for t in existing}:
            raise UserError(f"This server has {MAX_GUILD_TOPICS} topics; remove one first.")
        if any(t.slug == slug for t in bot.default_topics):
            raise UserError(f"“{name}” is a built-in topic already; pick another name.")
        try:
            words, phrases = parse_keyword_list(keywords)
            topic = validate_topic(slug, name, words, phrases, guild_id=guild_id)
        except ValueError as exc:
            raise UserError.from_value_error(exc) from None
        await interaction.response.defer(ephemeral=True, thinking=True)
        await bot.storage.upsert_guild_topic(topic)
        tagged = await tag_stored_papers(bot.storage, topic)
        await interaction.followup.send(
            f"🏷️ Topic **{topic.name}** (`{topic.slug}`) added: {tagged} papers match so far. "
            "Members can `/follow` it and digests can filter on it.",
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @app_commands.command(name="remove")
    @app_commands.describe(name="One of this server's own topics")
    @app_commands.autocomplete(name=_own_topics)
    async def remove(self, interaction: discord.Interaction, name: str) -> None:
        """Remove one of this server's topics (and its follows)."""
        bot = paperbot(interaction)
        guild_id = interaction.guild_id or 0
        topics = await bot.storage.guild_topics(guild_id)
        match = next((t for t in topics if name in (t.slug, t.name)), None)
        if match is None or not await bot.storage.delete_guild_topic(guild_id, match.slug):
            raise UserError("This server has no such topic. `/topics` lists them.")
        # Its follows went with it: members left following nothing lose their DM job.
        await bot.schedules.rebuild()
        await reply_text(interaction, f"Removed the topic **{match.name}**.")


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(TopicAdminCog(bot))
