"""/topic add|remove: a server's own topics on top of the built-in taxonomy."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.ingest import tag_stored_papers
from bot.core.models import Topic
from bot.core.render import code_span, safe_inline
from bot.core.topic_lookup import UnknownTopic, find_exact, resolve_topic
from bot.core.topics import parse_keyword_list, slugify, validate_topic
from bot.core.wording import plural
from bot.discord_app.checks import manage_guild_only
from bot.discord_app.command_helpers import choice, paperbot, topic_not_found
from bot.discord_app.errors import UserError
from bot.discord_app.replies import reply, reply_text
from bot.discord_app.topic_removal_view import ConfirmRemoval

if TYPE_CHECKING:
    from bot.discord_app.client import PaperBot

MAX_GUILD_TOPICS = 25


async def _own_topics(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    topics = await paperbot(interaction).storage.guild_topics(interaction.guild_id or 0)
    needle = current.casefold()
    return [choice(t.name, t.slug) for t in topics if needle in t.name.casefold()][:25]


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
        bot = paperbot(interaction)
        guild_id = interaction.guild_id or 0
        existing = await bot.storage.guild_topics(guild_id)
        slug = slugify(name)
        if len(existing) >= MAX_GUILD_TOPICS and slug not in {t.slug for t in existing}:
            raise UserError(f"This server has {MAX_GUILD_TOPICS} topics; remove one first.")
        if any(t.slug == slug for t in bot.services.topics.defaults):
            raise UserError(
                f"{code_span(name, 100)} is a built-in topic already; pick another name."
            )
        try:
            words, phrases = parse_keyword_list(keywords)
            topic = validate_topic(slug, name, words, phrases, guild_id=guild_id)
        except ValueError as exc:
            raise UserError.from_value_error(exc) from None
        await interaction.response.defer(ephemeral=True, thinking=True)
        await bot.storage.upsert_guild_topic(topic)
        tagged = await tag_stored_papers(bot.storage, topic)
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
        topic = _own_topic(bot, await bot.storage.guild_topics(guild_id), name)
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


def _own_topic(bot: PaperBot, own: list[Topic], name: str) -> Topic:
    """This server's topic `name` names exactly, or a UserError saying what it is."""
    try:
        return resolve_topic(own, name)
    except UnknownTopic as exc:
        builtin = find_exact(bot.services.topics.defaults, name)
        if builtin is not None:
            raise UserError(
                f"**{safe_inline(builtin.name, 100)}** is a built-in topic; only this "
                "server's own topics can be removed."
            ) from None
        raise topic_not_found(exc, "This server has no topic called") from None


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(TopicAdminCog(bot))
