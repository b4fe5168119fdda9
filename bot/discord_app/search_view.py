"""Discord-side presentation for the search commands: the results pager and /topics.

The pager is an in-memory `discord.ui.View`: the hits of one search are fetched once
and kept here, so paging is a pure re-render (no second query, no stale ordering). It
lives about as long as an interaction token (15 min); after that Discord would refuse
the edit anyway, so the buttons are disabled instead of left to fail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

import discord

from bot.core.limits import MAX_EMBED_DESCRIPTION, MAX_OPTION_DESCRIPTION, MAX_OPTION_LABEL
from bot.core.markdown import truncate
from bot.core.models import SearchHit, SearchResponse, Topic
from bot.core.payloads import Embed, MessagePayload
from bot.core.render import (
    EMBED_COLOR,
    format_day,
    no_mentions,
    one_line,
    page_count,
    safe_inline,
    search_page_payload,
)
from bot.core.wording import count_text, plural
from bot.discord_app.paper_actions import refusing, send_paper_view
from bot.discord_app.replies import reply, reply_text, send_kwargs
from bot.services.offload import off_loop

PER_PAGE = 5
# Just under the 15-minute interaction-token lifetime: on timeout the buttons are
# disabled through that token, which must still be valid then.
PAGER_TIMEOUT = 14 * 60
NOT_YOURS = "Run /search yourself to page through results."
GONE = "That paper is no longer in these results; run /search again."


class SearchResultsView(discord.ui.View):
    """◀ Previous / page n/m / Next ▶ plus a menu that opens one paper's full abstract.

    Only ``owner_id`` may page (the message is public, so anyone could click); the menu
    answers ephemerally, so anyone may use it without changing what others see.
    """

    def __init__(
        self,
        *,
        owner_id: int,
        response: SearchResponse,
        label: str,
        topic_names: Mapping[str, str] | None = None,
        per_page: int = PER_PAGE,
        timeout: float | None = None,
    ) -> None:
        # None means "the module default", read now rather than at import (tests shorten it).
        super().__init__(timeout=PAGER_TIMEOUT if timeout is None else timeout)
        self.owner_id = owner_id
        # A search may have explained only its first page; each later page is explained
        # when first shown (`_turn`).
        self.response = response.explained_to(per_page)
        self.label = label
        self.topic_names = dict(topic_names or {})
        self.per_page = per_page
        self.page = 1
        self.pages = page_count(len(response.hits), per_page)
        # The interaction whose token can still edit the results message (the command,
        # then the latest page turn); used to disable everything on timeout.
        self.origin: discord.Interaction | None = None
        self._hits = {str(hit.paper.id): hit for hit in response.hits}

        # A random part keeps two searches' ids apart even before Discord assigns the
        # message id that discord.py keys in-memory views by.
        prefix = f"pb:sr:{secrets.token_hex(6)}"
        self.previous_button: discord.ui.Button[SearchResultsView] | None = None
        self.page_button: discord.ui.Button[SearchResultsView] | None = None
        self.next_button: discord.ui.Button[SearchResultsView] | None = None
        if self.pages > 1:
            secondary = discord.ButtonStyle.secondary
            self.previous_button = discord.ui.Button(
                label="◀ Previous", style=secondary, custom_id=f"{prefix}:prev", row=0
            )
            self.page_button = discord.ui.Button(
                label="Page 1/1", style=secondary, custom_id=f"{prefix}:at", row=0, disabled=True
            )
            self.next_button = discord.ui.Button(
                label="Next ▶", style=secondary, custom_id=f"{prefix}:next", row=0
            )
            on_click(self.previous_button, self._previous)
            on_click(self.next_button, self._next)
            for button in (self.previous_button, self.page_button, self.next_button):
                self.add_item(button)
        self.paper_select: discord.ui.Select[SearchResultsView] = discord.ui.Select(
            custom_id=f"{prefix}:read",
            placeholder="Read a paper's full abstract…",
            min_values=1,
            max_values=1,
            options=[discord.SelectOption(label="…", value="0")],  # replaced by _sync
            row=1,
        )
        on_click(self.paper_select, self._read)
        if response.hits:
            self.add_item(self.paper_select)
        self._sync()

    # -- rendering ---------------------------------------------------------------------
    def page_hits(self) -> list[SearchHit]:
        start = (self.page - 1) * self.per_page
        return self.response.hits[start : start + self.per_page]

    def payload(self) -> MessagePayload:
        """The message body for the current page (without components)."""
        return search_page_payload(
            self.response, self.label, self.page, self.per_page, self.topic_names
        )

    def _sync(self) -> None:
        """Point every component at the current page."""
        if self.previous_button and self.next_button and self.page_button:
            self.previous_button.disabled = self.page <= 1
            self.next_button.disabled = self.page >= self.pages
            self.page_button.label = f"Page {self.page}/{self.pages}"
        options = [select_option(hit) for hit in self.page_hits()]
        if options:
            self.paper_select.options = options

    # -- callbacks ---------------------------------------------------------------------
    async def _previous(self, interaction: discord.Interaction) -> None:
        await self._turn(interaction, -1)

    async def _next(self, interaction: discord.Interaction) -> None:
        await self._turn(interaction, +1)

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        if interaction.user.id != self.owner_id:
            await reply_text(interaction, NOT_YOURS, ephemeral=True)
            return
        self.page = min(max(self.page + step, 1), self.pages)
        await self._explain_shown()
        self._sync()
        self.origin = interaction
        # Type 7 (update message): the one results message changes in place.
        await interaction.response.edit_message(**send_kwargs(self.payload(), self))

    async def _explain_shown(self) -> None:
        """Explain the hits up to the page shown, off the event loop. Two quick clicks
        may be explaining at once: the response explaining more is kept, and the page
        shown when this one resumes is made sure of (on the loop only after such a race).
        """
        stop = self.page * self.per_page
        explained = await off_loop(lambda: self.response.explained_to(stop))
        if _explained_count(explained) > _explained_count(self.response):
            self.response = explained
        self.response = self.response.explained_to(self.page * self.per_page)

    async def _read(self, interaction: discord.Interaction) -> None:
        values = self.paper_select.values
        hit = self._hits.get(values[0]) if values else None
        if hit is None:
            await reply(interaction, {"content": GONE}, ephemeral=True)
            return
        # The member's own view of the paper: 👍 / 👎 / 🔖 / More like this.
        await refusing(interaction, send_paper_view(interaction, hit.paper.id, self.topic_names))

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button | discord.ui.Select):
                item.disabled = True
        if self.origin is None:
            return
        # The message may be gone or the token expired: then the dead buttons stay.
        with contextlib.suppress(discord.HTTPException):
            await self.origin.edit_original_response(view=self)


def on_click(
    item: discord.ui.Item[Any],
    callback: Callable[[discord.Interaction], Coroutine[Any, Any, None]],
) -> None:
    """Give a button or menu built at run time its callback: discord.py calls
    `item.callback(interaction)`, a method (generic in the client) that a subclass would
    define; an instance attribute replaces it the same way."""
    item.callback = callback  # type: ignore[method-assign, assignment]


def _explained_count(response: SearchResponse) -> int:
    return len(response.hits) if response.explained is None else response.explained


def select_option(hit: SearchHit) -> discord.SelectOption:
    """One menu entry: the title as label, the paper id as value, why it matched below."""
    title = truncate(one_line(hit.paper.title), MAX_OPTION_LABEL) or f"Paper #{hit.paper.id}"
    why = truncate(one_line(" · ".join(hit.why)), MAX_OPTION_DESCRIPTION)
    return discord.SelectOption(label=title, value=str(hit.paper.id), description=why or None)


# --- /topics ------------------------------------------------------------------------------


def topics_payload(
    builtin: Sequence[tuple[str, Topic]],
    own: Sequence[tuple[str, Topic]],
    day: dt.date | None,
    day_counts: Mapping[str, int],
    totals: Mapping[str, int],
) -> MessagePayload:
    """Every topic with its paper count on the newest day and in total, as one embed.

    ``builtin`` and ``own`` are (storage key, topic) pairs. The description is a table
    of one line per topic; if a guild has so many topics that it would pass Discord's
    4096-char description limit, the tail is replaced by "…and N more topics".
    """
    if day is None:
        # Papers may be stored all the same (a snapshot import lists none on a day).
        intro = "No daily dump has been ingested yet: totals of the stored papers only."
    else:
        intro = f"Papers on the newest day ({format_day(day)}) and in total."

    def line(key: str, topic: Topic) -> str:
        # Guild topic names are user text: escape them. The slug is what /follow and
        # friends take, so it is shown too.
        name = safe_inline(topic.name, 100) or topic.slug
        counts = f"{count_text(totals.get(key, 0))} total"
        if day is not None:
            counts = f"{count_text(day_counts.get(key, 0))} that day · " + counts
        return f"**{name}** `{topic.slug}` — {counts}"

    sections = [("**Built-in topics**", [line(k, t) for k, t in builtin])]
    if own:
        sections.append(("**This server's topics**", [line(k, t) for k, t in own]))
    embed: Embed = {
        "title": "Topics",
        "description": _fit_sections(intro, sections, MAX_EMBED_DESCRIPTION),
        "color": EMBED_COLOR,
        "footer": {"text": "Search one with /search topic:<name>"},
    }
    return {"content": "", "embeds": [embed], "allowed_mentions": no_mentions()}


def _fit_sections(intro: str, sections: list[tuple[str, list[str]]], limit: int) -> str:
    lines, is_topic = [intro], [False]
    for heading, body in sections:
        lines += ["", heading, *body]
        is_topic += [False, False] + [True] * len(body)
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    # Too many (long) guild topics: keep whole lines and say how many were left out.
    total = sum(is_topic)
    while len(lines) > 1:
        lines.pop()
        tail = f"\n…and {plural(total - sum(is_topic[: len(lines)]), 'more topic')}"
        if len("\n".join(lines)) + len(tail) <= limit:
            return "\n".join(lines) + tail
    return truncate(text, limit)
