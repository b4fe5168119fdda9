"""/discuss: a paper's discussion thread in this channel, opened or found again."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.limits import MAX_CHOICE_NAME, MAX_CHOICES
from bot.core.markdown import truncate
from bot.core.render import one_line, safe_inline
from bot.discord_app.errors import UserError
from bot.services.discussions import Discussion, DiscussionStatus

if TYPE_CHECKING:
    from bot.discord_app.client import PaperBot

NOT_IN_THREAD = "Run `/discuss` in a text channel: a thread can't hold threads of its own."
NOT_FOUND = "No paper matches that. Pick a title from the list as you type, or try /search."

STATUS_TEXT = {
    DiscussionStatus.OPENED: "💬 Started the discussion of **{title}**: {thread}",
    DiscussionStatus.FOUND: "💬 **{title}** is discussed in {thread}",
    DiscussionStatus.REOPENED: "💬 Reopened the discussion of **{title}**: {thread}",
    DiscussionStatus.ARCHIVED: (
        "💬 **{title}** was discussed in {thread} (archived: write in it to reopen it)"
    ),
}


def discussion_text(found: Discussion) -> str:
    title = safe_inline(found.paper.title, 200)
    return STATUS_TEXT[found.status].format(title=title, thread=f"<#{found.thread_id}>")


class DiscussCog(commands.Cog):
    """Discussion threads for papers."""

    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot

    @app_commands.command(name="discuss")
    @app_commands.guild_only()
    @app_commands.describe(
        paper="The paper's title or part of it (start typing to pick one), or its arXiv id"
    )
    async def discuss(
        self, interaction: discord.Interaction, paper: app_commands.Range[str, 1, 500]
    ) -> None:
        """Open the paper's discussion thread in this channel, or find the one there is."""
        if isinstance(interaction.channel, discord.Thread):
            raise UserError(NOT_IN_THREAD)
        found = await self.bot.services.search.find_paper(paper)
        if found is None:
            raise UserError(NOT_FOUND)
        await interaction.response.defer(ephemeral=True, thinking=True)
        discussion = await self.bot.services.discussions.discuss(
            interaction.guild_id or 0, interaction.channel_id or 0, found
        )
        await interaction.followup.send(
            discussion_text(discussion),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @discuss.autocomplete("paper")
    async def paper_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        found = await self.bot.services.search.title_choices(current[:300], MAX_CHOICES)
        return [
            app_commands.Choice(
                name=truncate(one_line(title), MAX_CHOICE_NAME) or f"Paper #{pid}",
                value=f"#{pid}",  # as /paper: `#12` is an id, a bare number part of a title
            )
            for pid, title in found[:MAX_CHOICES]
        ]


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(DiscussCog(bot))
