"""Feedback where people read: a paper's 👍 / 👎 / 🔖 / More like this buttons, their
Undo, and the paper menu of a list (For you, related, saved).

Every component here is a `DynamicItem`: what it acts on (the action and the paper id,
or the state to put back) is in its custom_id, so buttons on a message posted before a
restart still work. Replies are ephemeral: feedback is private to the member.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.core.feedback import FeedbackAction, FeedbackSignal, PaperFeedback
from bot.core.limits import (
    MAX_EMBED_DESCRIPTION,
    MAX_OPTION_DESCRIPTION,
    MAX_OPTION_LABEL,
    MAX_SELECT_OPTIONS,
)
from bot.core.markdown import escape_markdown, truncate
from bot.core.models import StoredPaper
from bot.core.page_papers import MenuPaper, menu_paper
from bot.core.payloads import Embed, MessagePayload
from bot.core.render import EMBED_COLOR, no_mentions, one_line, page_url, paper_detail_payload
from bot.discord_app.replies import reply, reply_text
from bot.services.reading import Click, feedback_of
from bot.services.refusals import Refused
from bot.services.relevance.rank import short_title
from bot.services.relevance_service import Recommendation

if TYPE_CHECKING:
    from bot.discord_app.client import PaperBot

_ACTION_TEMPLATE = r"pb:pf:(?P<action>like|dislike|save|unsave|more):(?P<paper>\d+)"
_UNDO_TEMPLATE = (
    r"pb:pu:(?P<paper>\d+):(?P<signal>like|dislike|none):(?P<saved>[01]):(?P<guild>\d*)"
)
_MENU_TEMPLATE = r"pb:pm:(?P<list>[a-z]+)"
MORE = "more"
RELATED_COUNT = 5


async def refusing(interaction: discord.Interaction, work: Awaitable[None]) -> None:
    """Run a component's work; a service turning it down is told to the member only
    (a component has no command tree to catch it)."""
    try:
        await work
    except Refused as exc:
        await reply_text(interaction, str(exc), ephemeral=True)


def _bot(interaction: discord.Interaction) -> PaperBot:
    return cast("PaperBot", interaction.client)  # the client that registered the item


# --- wording ----------------------------------------------------------------------------------


def state_text(feedback: PaperFeedback | None) -> str:
    """The member's feedback on a paper, in words: "👍 liked · 🔖 saved"."""
    parts: list[str] = []
    if feedback is not None and feedback.signal is FeedbackSignal.LIKE:
        parts.append("👍 liked")
    elif feedback is not None and feedback.signal is FeedbackSignal.DISLIKE:
        parts.append("👎 less like this")
    if feedback is not None and feedback.saved:
        parts.append("🔖 saved")
    return " · ".join(parts) or "not rated"


def _title(paper: StoredPaper) -> str:
    return f"*{escape_markdown(short_title(one_line(paper.title)))}*"


_DONE = {
    FeedbackAction.LIKE: ("👍", "You like {title}: more papers like it will come your way."),
    FeedbackAction.DISLIKE: ("👎", "Fewer papers like {title} will come your way."),
    FeedbackAction.SAVE: ("🔖", "Saved {title}. `/saved` lists your saved papers."),
    FeedbackAction.UNSAVE: ("🔖", "Removed {title} from your saved papers."),
}
_ALREADY = {
    FeedbackAction.LIKE: "You already like {title}.",
    FeedbackAction.DISLIKE: "You already marked {title} as less like this.",
    FeedbackAction.SAVE: "{title} is already in your saved papers.",
    FeedbackAction.UNSAVE: "{title} is not among your saved papers.",
}


def click_text(click: Click, action: FeedbackAction) -> str:
    title = _title(click.paper)
    if not click.changed:
        text = _ALREADY[action].format(title=title)
    else:
        emoji, sentence = _DONE[action]
        text = f"{emoji} {sentence.format(title=title)}"
    return f"{text}\nNow: {state_text(click.after)}."


# --- the buttons ---------------------------------------------------------------------------


class PaperActionButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=_ACTION_TEMPLATE
):
    """👍 Like, 👎 Less like this, 🔖 Save / Unsave or More like this, for one paper."""

    def __init__(self, action: str, paper_id: int, *, active: bool = False) -> None:
        self.action, self.paper_id = action, paper_id
        labels = {
            "like": "👍 Liked" if active else "👍 Like",
            "dislike": "👎 Less like this",
            "save": "🔖 Save",
            "unsave": "🔖 Saved: unsave",
            MORE: "More like this",
        }
        style = discord.ButtonStyle.success if active else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(
                label=labels[action], style=style, custom_id=f"pb:pf:{action}:{paper_id}"
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PaperActionButton:
        return cls(match["action"], int(match["paper"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await refusing(interaction, self._act(interaction))

    async def _act(self, interaction: discord.Interaction) -> None:
        if self.action == MORE:
            await send_related(interaction, self.paper_id)
            return
        action = FeedbackAction(self.action)
        click = await _bot(interaction).services.reading.click(
            interaction.user.id, self.paper_id, action, interaction.guild_id
        )
        view = discord.ui.View(timeout=None)
        if click.changed:
            view.add_item(UndoButton(self.paper_id, click.before, interaction.guild_id))
        payload: MessagePayload = {
            "content": click_text(click, action),
            "allowed_mentions": no_mentions(),
        }
        await reply(interaction, payload, ephemeral=True, view=view if click.changed else None)


class UndoButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=_UNDO_TEMPLATE
):
    """Puts back the feedback a click replaced (carried in the custom_id)."""

    def __init__(
        self, paper_id: int, previous: PaperFeedback | None, guild_id: int | None = None
    ) -> None:
        self.paper_id = paper_id
        self.previous = previous
        signal = previous.signal if previous is not None else FeedbackSignal.NONE
        saved = "1" if previous is not None and previous.saved else "0"
        guild = previous.guild_id if previous is not None and previous.guild_id else guild_id
        custom_id = f"pb:pu:{paper_id}:{signal}:{saved}:{guild or ''}"
        super().__init__(
            discord.ui.Button(
                label="↩ Undo", style=discord.ButtonStyle.secondary, custom_id=custom_id
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> UndoButton:
        guild = int(match["guild"]) if match["guild"] else None
        previous = feedback_of(match["signal"], match["saved"] == "1", guild)
        return cls(int(match["paper"]), previous, guild)

    async def callback(self, interaction: discord.Interaction) -> None:
        await refusing(interaction, self._undo(interaction))

    async def _undo(self, interaction: discord.Interaction) -> None:
        click = await _bot(interaction).services.reading.undo(
            interaction.user.id, self.paper_id, self.previous
        )
        text = f"↩ Undone. {_title(click.paper)} is back to: {state_text(click.after)}."
        await interaction.response.edit_message(content=text, view=None)


def paper_buttons(paper_id: int, feedback: PaperFeedback | None = None) -> discord.ui.View:
    """The buttons under one paper. `feedback`: the member's, on their own (ephemeral)
    view; None on a message others see too, where nobody's state is shown."""
    signal = feedback.signal if feedback is not None else FeedbackSignal.NONE
    saved = feedback is not None and feedback.saved
    view = discord.ui.View(timeout=None)
    view.add_item(PaperActionButton("like", paper_id, active=signal is FeedbackSignal.LIKE))
    view.add_item(PaperActionButton("dislike", paper_id, active=signal is FeedbackSignal.DISLIKE))
    view.add_item(PaperActionButton("unsave" if saved else "save", paper_id, active=saved))
    view.add_item(PaperActionButton(MORE, paper_id))
    return view


async def send_paper_view(
    interaction: discord.Interaction, paper_id: int, topic_names: Mapping[str, str] | None = None
) -> None:
    """The paper's full abstract with the member's own buttons, only for them."""
    bot = _bot(interaction)
    state = await bot.services.reading.paper(interaction.user.id, paper_id)
    if topic_names is None:
        topic_names = await bot.services.topics.topic_names(interaction.guild_id)
    payload = paper_detail_payload(state.paper, topic_names)
    await reply(interaction, payload, ephemeral=True, view=paper_buttons(paper_id, state.feedback))


async def send_related(
    interaction: discord.Interaction, paper_id: int, *, ephemeral: bool = True
) -> None:
    """More like this: the most similar stored papers, with why (for the member only,
    from a button; for everyone from /related)."""
    found = await _bot(interaction).services.reading.related(paper_id, RELATED_COUNT)
    heading = f"More like {_title(found.paper)}"
    payload = picks_payload(
        "More like this", heading, found.picks, "Nothing similar is stored yet."
    )
    await reply(interaction, payload, ephemeral=ephemeral, view=paper_menu("related", found.picks))


# --- lists of papers -------------------------------------------------------------------------


def pick_line(n: int, paper: StoredPaper, why: str) -> str:
    title = escape_markdown(truncate(one_line(paper.title), 200))
    line = f"**{n}.** [{title}]({page_url(paper)})"
    return f"{line}\n{why}" if why else line


def picks_payload(
    title: str, intro: str, picks: Sequence[Recommendation], empty: str, footer: str = ""
) -> MessagePayload:
    """A list of picks, each with its why line, as one embed."""
    lines = [intro, ""]
    if not picks:
        lines.append(empty)
    for n, pick in enumerate(picks, 1):
        lines.append(pick_line(n, pick.paper, pick.why_markdown()))
    return list_payload(title, lines, footer)


def list_payload(title: str, lines: Sequence[str], footer: str = "") -> MessagePayload:
    text = "\n".join(lines)
    if len(text) > MAX_EMBED_DESCRIPTION:
        text = truncate(text, MAX_EMBED_DESCRIPTION)
    embed: Embed = {"title": title, "description": text, "color": EMBED_COLOR}
    if footer:
        embed["footer"] = {"text": footer}
    return {"content": "", "embeds": [embed], "allowed_mentions": no_mentions()}


def paper_menu(
    kind: str, picks: Sequence[Recommendation] | Sequence[StoredPaper]
) -> discord.ui.View | None:
    """A menu that opens one of the listed papers with its buttons; None for no papers."""
    papers = [menu_paper(p.paper if isinstance(p, Recommendation) else p) for p in picks]
    if not papers:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(PaperMenu(kind, papers))
    return view


DIGEST_MENU = "digest"  # the menu under a digest page (channel or DM)


class PaperMenu(
    discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]], template=_MENU_TEMPLATE
):
    """ "Open a paper…": its value is a paper id, so the menu works after a restart."""

    def __init__(self, kind: str, papers: Sequence[MenuPaper] = ()) -> None:
        options = [
            discord.SelectOption(
                label=truncate(one_line(p["title"]), MAX_OPTION_LABEL) or f"Paper #{p['id']}",
                value=str(p["id"]),
                description=truncate(one_line(p["authors"]), MAX_OPTION_DESCRIPTION) or None,
            )
            for p in papers[:MAX_SELECT_OPTIONS]
        ] or [discord.SelectOption(label="…", value="0")]
        super().__init__(
            discord.ui.Select(
                custom_id=f"pb:pm:{kind}",
                placeholder="Open a paper to rate, save or find more like it…",
                options=options,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PaperMenu:
        return cls(match["list"])

    async def callback(self, interaction: discord.Interaction) -> None:
        values = self.item.values  # the picked options (discord.py fills them in)
        if not values or not str(values[0]).isdigit():
            await reply(interaction, {"content": "Pick a paper from the list."}, ephemeral=True)
            return
        await refusing(interaction, send_paper_view(interaction, int(values[0])))


# Registered at start-up (bot/discord_app/wiring.py): old messages' components work.
PAPER_ITEMS = (PaperActionButton, UndoButton, PaperMenu)
