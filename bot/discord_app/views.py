"""The digest pager: Previous/Next buttons that edit one message in place.

The buttons are DynamicItems: everything needed to redraw a page (who it is for, the
day, the page) is in the custom_id, and the rest comes from the database, so a digest
posted last week still pages after any number of restarts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.core.page_papers import MenuPaper, page_papers
from bot.core.payloads import MessagePayload
from bot.core.ports import PagerScope
from bot.discord_app.paper_actions import DIGEST_MENU, PaperMenu, paper_buttons
from bot.discord_app.replies import send_kwargs

if TYPE_CHECKING:
    from bot.discord_app.client import PaperBot

# The channel part is optional: a preview names the channel it previews (it may be shown
# in another channel); posted digests and older buttons page the channel they are in.
_TEMPLATE = (
    r"pb:dg:(?P<scope>[cu]):(?:(?P<channel>\d+):)?"
    r"(?P<day>\d{4}-\d{2}-\d{2}):(?P<dir>[pn]):(?P<page>\d+)"
)


def pager_view(
    scope: PagerScope,
    day: dt.date,
    page: int,
    pages: int,
    channel_id: int | None = None,
    papers: Sequence[MenuPaper] = (),
) -> discord.ui.View | None:
    """Buttons for page `page` of `pages` (none when everything fits on one page), and
    under them the menu of the page's `papers`, each opening the member's own view of it
    with the feedback buttons; None when there is neither. `channel_id`: whose channel
    digest to page (default: the channel clicked in)."""
    if pages <= 1:
        if not papers:
            return None
        view = discord.ui.View(timeout=None)
        view.add_item(PaperMenu(DIGEST_MENU, papers))
        return view
    view = discord.ui.View(timeout=None)
    back, ahead = max(1, page - 1), min(pages, page + 1)
    view.add_item(DigestPageButton(scope, day, "p", back, page <= 1, channel_id))
    view.add_item(
        discord.ui.Button(
            label=f"{page}/{pages}",
            disabled=True,
            custom_id=f"{_prefix(scope, channel_id)}{day}:at:{page}",
        )
    )
    view.add_item(DigestPageButton(scope, day, "n", ahead, page >= pages, channel_id))
    if papers:  # a row of its own below the buttons: two of Discord's five rows in all
        view.add_item(PaperMenu(DIGEST_MENU, papers))
    return view


def papers_view(papers: Sequence[MenuPaper]) -> discord.ui.View | None:
    """Under a message without a pager: one paper's feedback buttons (a `thread: paper`
    digest's message), or the menu of several; None for no papers."""
    if len(papers) == 1:
        return paper_buttons(papers[0]["id"])
    if not papers:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(PaperMenu(DIGEST_MENU, papers))
    return view


def _prefix(scope: PagerScope, channel_id: int | None) -> str:
    return f"pb:dg:{scope}:{channel_id}:" if channel_id else f"pb:dg:{scope}:"


class DigestPageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=_TEMPLATE
):
    def __init__(
        self,
        scope: PagerScope,
        day: dt.date,
        direction: str,
        page: int,
        disabled: bool = False,
        channel_id: int | None = None,
    ) -> None:
        self.scope, self.day, self.direction, self.page = scope, day, direction, page
        self.channel_id = channel_id
        super().__init__(
            discord.ui.Button(
                label="◀ Previous" if direction == "p" else "Next ▶",
                style=discord.ButtonStyle.secondary,
                disabled=disabled,
                custom_id=f"{_prefix(scope, channel_id)}{day.isoformat()}:{direction}:{page}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> DigestPageButton:
        channel = int(match["channel"]) if match["channel"] else None
        day = dt.date.fromisoformat(match["day"])
        scope = PagerScope(match["scope"])
        return cls(scope, day, match["dir"], int(match["page"]), channel_id=channel)

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = cast("PaperBot", interaction.client)  # the client that registered this item
        pages = await self._pages(bot, interaction)
        if not pages:
            await interaction.response.send_message(
                "That digest is no longer available.", ephemeral=True
            )
            return
        page = min(max(self.page, 1), len(pages))
        shown = pages[page - 1]
        view = pager_view(
            self.scope, self.day, page, len(pages), self.channel_id, page_papers(shown)
        )
        await interaction.response.edit_message(**send_kwargs(shown, view))

    async def _pages(self, bot: PaperBot, interaction: discord.Interaction) -> list[MessagePayload]:
        if self.scope == PagerScope.MEMBER:
            return await bot.services.follows.dm_pages(interaction.user.id, self.day)
        # Never another server's settings: the service looks only in this server.
        channel_id = self.channel_id or interaction.channel_id or 0
        return await bot.services.subscriptions.pages(interaction.guild_id, channel_id, self.day)
