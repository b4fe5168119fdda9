"""A member's own reading: /foryou, /related, /saved, /forget-me. Replies about the
member are ephemeral (feedback is private); /related is about a paper, so public."""

from __future__ import annotations

import datetime as dt
import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.feedback import Mute, MuteKind
from bot.core.limits import MAX_CHOICE_VALUE, MAX_CHOICES
from bot.core.render import code_span, format_day, safe_inline
from bot.core.wording import plural
from bot.discord_app.checks import expensive_command
from bot.discord_app.command_helpers import (
    author_autocomplete,
    choice,
    paperbot,
    topic_autocomplete,
)
from bot.discord_app.errors import UserError
from bot.discord_app.paper_actions import paper_menu, picks_payload, send_related
from bot.discord_app.reading_views import forget_view, mutes_payload, send_saved
from bot.discord_app.replies import reply, reply_text
from cogs.search import not_found_message, paper_choices

FOR_YOU_LIMIT = 10
MODES = {
    "feedback": "Ranked by what you liked, disliked and saved.",
    "follows": "Ranked by what you follow; rate papers with 👍 / 👎 to sharpen it.",
    "popularity": "Most popular first: rate papers with 👍 / 👎 (or /follow) to make it yours.",
}


def day_option(text: str | None) -> dt.date | None:
    """`day` as a date (YYYY-MM-DD); None for the newest day."""
    if text is None or not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"I can't read {code_span(text, 40)} as a day. Use a date like `2026-03-14`."
        ) from None


class ReadingCog(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    saved = app_commands.Group(name="saved", description="The papers you saved with 🔖")

    @app_commands.command(name="foryou")
    @app_commands.describe(day="The day's papers to pick from (default: the newest day)")
    @expensive_command()
    async def foryou(
        self, interaction: discord.Interaction, day: app_commands.Range[str, 1, 40] | None = None
    ) -> None:
        """Your picks among a day's papers, each with why."""
        found = await paperbot(interaction).services.relevance.for_you(
            interaction.user.id, day_option(day), limit=FOR_YOU_LIMIT
        )
        if found.day is None:
            await reply_text(
                interaction,
                "No daily dump has been ingested yet: For you picks among a day's papers.",
            )
            return
        if not found.listed:
            await reply_text(
                interaction,
                f"No papers are stored for {format_day(found.day)}. Pick a day from the "
                "list as you type, or leave `day` out for the newest.",
            )
            return
        title = f"For you · {format_day(found.day)}"
        payload = picks_payload(
            title,
            MODES.get(found.mode, ""),
            found.picks,
            "Nothing for you that day: no paper scores high enough for you.",
            "Open a paper below to rate it, save it or find more like it.",
        )
        await reply(interaction, payload, ephemeral=True, view=paper_menu("foryou", found.picks))

    @foryou.autocomplete("day")
    async def foryou_day(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        days = await paperbot(interaction).services.reading.days(MAX_CHOICES)
        typed = current.strip()
        return [
            choice(format_day(d), d.isoformat())
            for d in days
            if typed in d.isoformat() or typed.casefold() in format_day(d).casefold()
        ][:MAX_CHOICES]

    @app_commands.command(name="related")
    @app_commands.describe(
        paper="The paper's title or part of it (start typing to pick one), or its arXiv id"
    )
    @expensive_command()
    async def related(
        self, interaction: discord.Interaction, paper: app_commands.Range[str, 1, 500]
    ) -> None:
        """The stored papers most like one paper, with why."""
        found = await paperbot(interaction).services.search.open_paper(paper)
        if found.paper is None:
            raise UserError(not_found_message(found, paper))
        await send_related(interaction, found.paper.id, ephemeral=False)

    @related.autocomplete("paper")
    async def related_paper(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await paper_choices(paperbot(interaction), current)

    @saved.command(name="list")
    @app_commands.describe(page="Which page (10 papers a page)")
    async def saved_list(
        self, interaction: discord.Interaction, page: app_commands.Range[int, 1, 1000] = 1
    ) -> None:
        """Your saved papers, newest first."""
        await send_saved(interaction, page)

    @saved.command(name="export")
    @expensive_command()
    async def saved_export(self, interaction: discord.Interaction) -> None:
        """Your saved papers as a BibTeX (.bib) file."""
        text, count = await paperbot(interaction).services.reading.saved_bibtex(interaction.user.id)
        if not count:
            await reply_text(interaction, "You have no saved papers to export yet.")
            return
        file = discord.File(io.BytesIO(text.encode()), filename="paperbot-saved.bib")
        await interaction.response.send_message(
            f"📚 {plural(count, 'saved paper')} as BibTeX.",
            file=file,
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @app_commands.command(name="forget-me")
    async def forget_me(self, interaction: discord.Interaction) -> None:
        """Delete everything paperbot stores about you (asks first)."""
        await interaction.response.send_message(
            "This deletes everything stored about you: follows, ratings, saved papers, "
            "mutes and your DM settings. It cannot be undone.",
            view=forget_view(interaction.user.id),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )


def mute_label(mute: Mute) -> str:
    return f"{mute.kind} “{safe_inline(mute.label or mute.value, 120)}”"


class MuteCog(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="mute")
    @app_commands.describe(
        keyword="Hide papers with this word or phrase",
        topic="Hide papers in this topic",
        author="Hide papers by this author",
    )
    @app_commands.autocomplete(topic=topic_autocomplete, author=author_autocomplete)
    async def mute(
        self,
        interaction: discord.Interaction,
        keyword: app_commands.Range[str, 1, 100] | None = None,
        topic: app_commands.Range[str, 1, 100] | None = None,
        author: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """Hide papers from your DMs and For you list."""
        given = [
            (k, v)
            for k, v in (
                (MuteKind.KEYWORD, keyword),
                (MuteKind.TOPIC, topic),
                (MuteKind.AUTHOR, author),
            )
            if v
        ]
        if len(given) != 1:
            raise UserError("Give one of `keyword`, `topic` or `author`.")
        kind, text = given[0]
        mute, new = await paperbot(interaction).services.relevance.mute(
            interaction.user.id, kind, text, interaction.guild_id
        )
        what = mute_label(mute)
        await reply_text(
            interaction,
            f"🔇 Muted {what}: those papers stay out of your DMs and /foryou."
            if new
            else f"You already muted {what}.",
        )

    @app_commands.command(name="mutes")
    async def mutes(self, interaction: discord.Interaction) -> None:
        """List what you muted (only you see it)."""
        mutes = await paperbot(interaction).services.relevance.mutes(interaction.user.id)
        payload = mutes_payload([mute_label(m) for m in mutes])
        await reply(interaction, payload, ephemeral=True)

    @app_commands.command(name="unmute")
    @app_commands.describe(mute="One of your mutes (start typing to pick it)")
    async def unmute(
        self, interaction: discord.Interaction, mute: app_commands.Range[str, 1, 200]
    ) -> None:
        """Stop hiding papers you muted."""
        relevance = paperbot(interaction).services.relevance
        mutes = await relevance.mutes(interaction.user.id)
        chosen = next((m for m in mutes if mute_choice_value(m) == mute), None)
        if chosen is None:
            typed = mute.strip().casefold()
            chosen = next(
                (m for m in mutes if typed in {m.value.casefold(), m.label.casefold()}), None
            )
        if chosen is None:
            raise UserError(
                f"You haven't muted {code_span(mute, 60)}. Pick one of your mutes from the list."
            )
        await relevance.unmute(interaction.user.id, chosen)
        await reply_text(interaction, f"🔈 Unmuted {mute_label(chosen)}.")

    @unmute.autocomplete("mute")
    async def unmute_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        mutes = await paperbot(interaction).services.relevance.mutes(interaction.user.id)
        typed = current.casefold()
        return [
            choice(f"{m.kind}: {m.label or m.value}", mute_choice_value(m))
            for m in mutes
            if typed in (m.label or m.value).casefold()
        ][:MAX_CHOICES]


def mute_choice_value(mute: Mute) -> str:
    return f"{mute.kind}:{mute.value}"[:MAX_CHOICE_VALUE]


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ReadingCog(bot))
    await bot.add_cog(MuteCog(bot))
