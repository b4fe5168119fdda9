"""The member's saved papers (`/saved list` pages) and the `/forget-me` confirmation:
persistent buttons whose custom_id carries the page, or the member they are for."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.core.feedback import ForgetCounts
from bot.core.limits import MAX_EMBED_DESCRIPTION
from bot.core.payloads import MessagePayload
from bot.core.render import page_count
from bot.core.wording import plural
from bot.discord_app.paper_actions import list_payload, paper_menu, pick_line, refusing
from bot.discord_app.replies import reply_text, send_kwargs
from bot.services.reading import SavedList

if TYPE_CHECKING:
    from bot.discord_app.client import PaperBot

SAVED_PER_PAGE = 10
NOTHING_SAVED = "You have no saved papers yet. Press 🔖 Save under any paper to keep it here."
NOT_YOURS = "Only the member who ran /forget-me can confirm it."


def _bot(interaction: discord.Interaction) -> PaperBot:
    return cast("PaperBot", interaction.client)  # the client that registered the item


def saved_payload(saved: SavedList) -> MessagePayload:
    pages = page_count(saved.total, saved.per_page)
    first = (saved.page - 1) * saved.per_page + 1
    lines = [
        f"{plural(saved.total, 'saved paper')}, newest first. `/saved export` sends them "
        "as a BibTeX file.",
        "",
    ]
    lines += [pick_line(first + n, paper, "") for n, paper in enumerate(saved.papers)]
    footer = f"Page {saved.page}/{pages}" if pages > 1 else ""
    return list_payload("Your saved papers", lines, footer)


NO_MUTES = "You haven't muted anything. `/mute` hides a keyword, topic or author."


def mutes_payload(labels: Sequence[str]) -> MessagePayload:
    """The member's mutes (each said by its label), one a line, as many as fit one
    embed; the rest are counted."""
    if not labels:
        return {"content": NO_MUTES}
    intro = (
        f"{plural(len(labels), 'mute')}: these papers stay out of your DMs and /foryou. "
        "`/unmute` removes one."
    )
    lines = [intro, ""]
    used = len(intro) + 2
    room = MAX_EMBED_DESCRIPTION - 40  # kept for the "…and N more" line
    for shown, label in enumerate(labels):
        line = f"🔇 {label}"
        if used + len(line) + 1 > room:
            lines.append(f"…and {len(labels) - shown} more")
            break
        lines.append(line)
        used += len(line) + 1
    return list_payload("Your mutes", lines)


def saved_view(saved: SavedList) -> discord.ui.View | None:
    view = paper_menu("saved", saved.papers)
    pages = page_count(saved.total, saved.per_page)
    if pages <= 1:
        return view
    view = view or discord.ui.View(timeout=None)
    view.add_item(SavedPageButton(max(1, saved.page - 1), "p", saved.page <= 1))
    view.add_item(SavedPageButton(min(pages, saved.page + 1), "n", saved.page >= pages))
    return view


async def send_saved(interaction: discord.Interaction, page: int, *, edit: bool = False) -> None:
    saved = await _bot(interaction).services.reading.saved(
        interaction.user.id, page, SAVED_PER_PAGE
    )
    if not saved.total:
        await reply_text(interaction, NOTHING_SAVED, ephemeral=True)
        return
    kwargs = send_kwargs(saved_payload(saved), saved_view(saved) or discord.ui.View())
    if edit:
        await interaction.response.edit_message(**kwargs)
    else:
        await interaction.response.send_message(ephemeral=True, **kwargs)


class SavedPageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"pb:sv:(?P<dir>[pn]):(?P<page>\d+)",
):
    """◀ / ▶ through the clicking member's own saved papers (the list is ephemeral)."""

    def __init__(self, page: int, direction: str, disabled: bool = False) -> None:
        self.page = page
        super().__init__(
            discord.ui.Button(
                label="◀ Previous" if direction == "p" else "Next ▶",
                style=discord.ButtonStyle.secondary,
                disabled=disabled,
                custom_id=f"pb:sv:{direction}:{page}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SavedPageButton:
        return cls(int(match["page"]), match["dir"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await refusing(interaction, send_saved(interaction, self.page, edit=True))


# --- /forget-me ------------------------------------------------------------------------------


def forget_text(counts: ForgetCounts) -> str:
    if not counts.total:
        return "🧹 Done. Nothing was stored about you, so nothing was deleted."
    kinds = {
        "follows": ("follow", None),
        "ratings": ("rating", None),
        "saves": ("saved paper", None),
        "mutes": ("mute", None),
        "delivery settings": ("delivery setting", None),
        "delivery records": ("record of a DM sent", "records of DMs sent"),
    }
    deleted = [plural(n, *kinds[kind]) for kind, n in counts.items() if n]
    return "🧹 Deleted everything stored about you: " + ", ".join(deleted) + "."


def forget_view(user_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ForgetButton(user_id, True))
    view.add_item(ForgetButton(user_id, False))
    return view


class ForgetButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"pb:fm:(?P<user>\d+):(?P<go>[yn])",
):
    """Confirm or cancel /forget-me; only the member it is for may press it."""

    def __init__(self, user_id: int, go: bool) -> None:
        self.user_id, self.go = user_id, go
        super().__init__(
            discord.ui.Button(
                label="Delete everything about me" if go else "Cancel",
                style=discord.ButtonStyle.danger if go else discord.ButtonStyle.secondary,
                custom_id=f"pb:fm:{user_id}:{'y' if go else 'n'}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ForgetButton:
        return cls(int(match["user"]), match["go"] == "y")

    async def callback(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.user_id:
            await reply_text(interaction, NOT_YOURS, ephemeral=True)
            return
        if not self.go:
            await interaction.response.edit_message(content="Nothing was deleted.", view=None)
            return
        counts = await _bot(interaction).services.reading.forget(self.user_id)
        await interaction.response.edit_message(content=forget_text(counts), view=None)


READING_ITEMS = (SavedPageButton, ForgetButton)
