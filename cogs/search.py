"""/search, /paper and /topics: interaction in, one core call, a payload out.

Everything that can fail on user input (no query, a bad date, an unknown topic) is
checked *before* the interaction is deferred: a public "thinking…" defer can only be
resolved publicly, and input errors must stay ephemeral.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.authors import author_key
from bot.core.limits import MAX_CHOICE_NAME, MAX_CHOICE_VALUE, MAX_CHOICES
from bot.core.markdown import truncate
from bot.core.models import PaperLookup, Topic
from bot.core.payloads import MessagePayload
from bot.core.query import parse_query
from bot.core.render import (
    code_span,
    one_line,
    paper_detail_payload,
    search_label,
    search_page_payload,
)
from bot.core.since import SinceError, SinceProblem
from bot.core.since import parse_since as read_since
from bot.core.sources import ALL_SOURCES, SourceFilter, parse_source_filter, source_choices
from bot.core.text import unquoted
from bot.core.topic_lookup import topic_key
from bot.discord_app.checks import expensive_command
from bot.discord_app.command_helpers import author_autocomplete, resolve_topic, topic_choices
from bot.discord_app.errors import UserError
from bot.discord_app.paper_actions import paper_buttons
from bot.discord_app.replies import answer_soon, reply, send_kwargs
from bot.discord_app.search_view import PER_PAGE, SearchResultsView, topics_payload
from bot.services.offload import off_loop
from bot.services.search import SearchSort

if TYPE_CHECKING:
    from bot.discord_app.client import PaperBot


FETCH_LIMIT = 50  # hits fetched once per search and paged through in memory
SORT_CHOICES = [app_commands.Choice(name=s.value, value=s.value) for s in SearchSort]
SINCE_HELP = (
    "Use a date like `2026-03-14`, a year like `2025`, or a number of days back like `7` or `30d`."
)


# --- pure helpers (tested directly) --------------------------------------------------------


def parse_since(text: str | None, today: dt.date) -> dt.date | None:
    """`since` as a date (bot.core.since); a one-line UserError when it is none."""
    try:
        return read_since(text, today)
    except SinceError as exc:
        typed = code_span(exc.text, 40)
        if exc.problem == SinceProblem.UNREADABLE:
            raise UserError(f"I can't read {typed} as a date. {SINCE_HELP}") from None
        if exc.problem == SinceProblem.NOT_A_DAY:
            raise UserError(f"{typed} is not a real date. {SINCE_HELP}") from None
        raise UserError(f"{typed} is in the future. {SINCE_HELP}") from None


def query_label(
    query: str | None,
    topic: Topic | None,
    since: dt.date | None,
    source: SourceFilter = ALL_SOURCES,
    author: str | None = None,
) -> str:
    """What the results header says was searched for (long text cut to 60 characters)."""
    return search_label(query, topic, since, source, author, max_chars=60)


def search_source(text: str | None) -> SourceFilter:
    """The `source` option as a filter; a one-line UserError when it names none."""
    try:
        return parse_source_filter(text)
    except ValueError as exc:
        raise UserError(f"{exc}.") from None


def not_found_message(found: PaperLookup, typed: str) -> str:
    """Why `/paper` (or an arXiv link in `/search`) has nothing to show."""
    if found.arxiv_id is not None:
        return (
            f"No paper with arXiv id {code_span(found.arxiv_id, 40)} is stored. Papers from "
            "text dumps carry no arXiv id: try the title instead."
        )
    return (
        f"No paper matches {code_span(typed, 80)}. Pick a title from the list as you "
        "type, or try /search."
    )


async def paper_choices(bot: PaperBot, current: str) -> list[app_commands.Choice[str]]:
    """Stored papers whose titles match what is typed (/paper, /related)."""
    found = await bot.services.search.title_choices(current[:300], MAX_CHOICES)
    return [
        app_commands.Choice(
            name=truncate(one_line(title), MAX_CHOICE_NAME) or f"Paper #{pid}",
            # `#12`, not `12`: a bare number is what someone types from a title
            # ("... for 23 African Languages").
            value=f"#{pid}",
        )
        for pid, title in found[:MAX_CHOICES]
    ]


# --- the cog ----------------------------------------------------------------------------


class SearchCog(commands.Cog):
    """Searching papers, opening one, and listing the topics."""

    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot

    @app_commands.command(name="search")
    @app_commands.describe(
        query=(
            'Words, "a phrase" or prefix* in titles and abstracts, or an arXiv id or link '
            "(optional with topic)"
        ),
        topic="Only papers in this topic (start typing to pick one)",
        since="Only papers seen on or after this day: 2026-03-14, 2025, or days back: 7 / 30d",
        source="Only papers from hf, arxiv, or arXiv categories like arxiv:cs.CV,cs.LG (all: any)",
        author="Only this author's papers (start typing to pick one; accents and initials match)",
        sort="relevance: the query's words and meaning (default); for you: what you like first",
    )
    @app_commands.autocomplete(author=author_autocomplete)
    @app_commands.choices(sort=SORT_CHOICES)
    @expensive_command()
    async def search(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, 6000] | None = None,
        topic: app_commands.Range[str, 1, 100] | None = None,
        since: app_commands.Range[str, 1, 40] | None = None,
        source: app_commands.Range[str, 1, 300] | None = None,
        author: app_commands.Range[str, 1, 100] | None = None,
        sort: app_commands.Choice[str] | None = None,
    ) -> None:
        """Search papers by keywords, topic, source and/or author."""
        query = query.strip() if query and query.strip() else None
        sources = search_source(source)
        author = unquoted(author or "") or None
        if author is not None and not author_key(author):
            raise UserError("An author's name needs letters.")
        if query is not None and parse_query(query).empty:
            raise UserError(
                f"{code_span(query, 40)} has no words to search for: use letters or digits."
            )
        if query is None and not (topic and topic.strip()) and sources.everything and not author:
            raise UserError("Give a query, a topic, a source, an author, or several of them.")
        if query is not None:
            # A pasted arXiv id or link names one paper: open it rather than search
            # for its digits (a quick indexed lookup, done before any defer so "not
            # stored" stays ephemeral).
            named = await self.bot.services.search.arxiv_paper(query)
            if named is not None:
                await self._show(interaction, named, query)
                return
        day = parse_since(since, self.bot.clock().date())
        chosen = None
        if topic and topic.strip():
            chosen = resolve_topic(
                await self.bot.services.topics.taxonomy(interaction.guild_id), topic
            )

        # Input is valid: from here on the reply is public, so defer publicly.
        await interaction.response.defer(thinking=True)
        # A few searches are worked out at a time (PaperBot.heavy_work), so the defers of
        # a burst, and digests being posted, do not wait behind all of them.
        async with self.bot.heavy_work:
            response = await self.bot.services.search.search(
                query,
                topic=topic_key(chosen) if chosen else None,
                since=day,
                limit=FETCH_LIMIT,
                # The service knows only the built-in names; a guild's own topic needs
                # its name.
                topic_label=one_line(chosen.name) if chosen else None,
                source=sources,
                author=author,
                for_user=interaction.user.id if sort and sort.value == SearchSort.FOR_YOU else None,
                # The reply shows one page: later pages are explained when paged to.
                explain_first=PER_PAGE,
            )
            names = await self.bot.services.topics.topic_names(interaction.guild_id)
            label = query_label(query, chosen, day, sources, author)
            if not response.hits:
                payload = search_page_payload(response, label, 1, PER_PAGE, names)
                kwargs = send_kwargs(payload)
            else:
                view = SearchResultsView(
                    owner_id=interaction.user.id, response=response, label=label, topic_names=names
                )
                view.origin = interaction
                # Rendering is CPU the event loop need not spend (bot/services/offload.py).
                kwargs = await off_loop(lambda: send_kwargs(view.payload(), view))
        await interaction.edit_original_response(**kwargs)

    @search.autocomplete("topic")
    async def search_topic_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return topic_choices(await self.bot.services.topics.taxonomy(interaction.guild_id), current)

    @search.autocomplete("source")
    async def search_source_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        seen = await self.bot.services.search.categories_seen()
        found = source_choices(current[:300], seen, MAX_CHOICES)
        return [
            app_commands.Choice(name=choice, value=choice)
            for choice in found
            if len(choice) <= min(MAX_CHOICE_NAME, MAX_CHOICE_VALUE)
        ]

    @app_commands.command(name="paper")
    @app_commands.describe(
        title="The paper's title or part of it (start typing to pick one), or its arXiv id or link"
    )
    async def paper(
        self, interaction: discord.Interaction, title: app_commands.Range[str, 1, 500]
    ) -> None:
        """Show one paper with its full abstract."""
        found = await answer_soon(interaction, self.bot.services.search.open_paper(title))
        await self._show(interaction, found, title)

    async def _show(self, interaction: discord.Interaction, found: PaperLookup, typed: str) -> None:
        if found.paper is None:
            raise UserError(not_found_message(found, typed))
        names = await self.bot.services.topics.topic_names(interaction.guild_id)
        # Public: the buttons show nobody's feedback; a click answers only the clicker.
        view = paper_buttons(found.paper.id)
        await reply(interaction, paper_detail_payload(found.paper, names), view=view)

    @paper.autocomplete("title")
    async def paper_title_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await paper_choices(self.bot, current)

    @app_commands.command(name="topics")
    async def topics(self, interaction: discord.Interaction) -> None:
        """List every topic with how many papers it has."""
        payload = await answer_soon(interaction, self._topics_payload(interaction), ephemeral=True)
        await reply(interaction, payload, ephemeral=True)

    async def _topics_payload(self, interaction: discord.Interaction) -> MessagePayload:
        counts = await self.bot.services.status.topic_counts(interaction.guild_id)
        keyed = [(topic_key(t), t) for t in counts.taxonomy]
        builtin = [(k, t) for k, t in keyed if t.guild_id is None]
        own = [(k, t) for k, t in keyed if t.guild_id is not None]
        return topics_payload(builtin, own, counts.newest, counts.on_newest, counts.totals)


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(SearchCog(bot))
