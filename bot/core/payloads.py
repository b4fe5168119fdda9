"""The message bodies paperbot builds, typed: the JSON Discord's REST API takes.

`bot.core.render`, `bot.core.digest` and `bot.core.member_digest` build these; the
Discord layer turns them into discord.py calls (bot/discord_app/replies.py) and the
tests and the fake Discord check them with `bot.core.limits`, which validates any JSON
(what arrives from outside is not one of these types until it passed). Only the keys
paperbot sets are declared; buttons and menus are added by the Discord layer as views.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class AllowedMentions(TypedDict):
    parse: list[str]  # always empty: a message of ours pings nobody


class EmbedFooter(TypedDict):
    text: str


class Embed(TypedDict, total=False):
    """A rich embed; a key left out is not shown (an empty one would be rejected)."""

    title: str
    description: str
    url: str
    color: int
    footer: EmbedFooter


class MenuPaper(TypedDict):
    """A paper a digest page shows, for the paper menu under it (bot/core/page_papers.py)."""

    id: int
    title: str  # one line, unescaped: a menu label is not markdown
    authors: str  # "A, B, C", may be empty


class MessagePayload(TypedDict):
    """One message: what `POST /channels/{id}/messages` (or an edit) takes. The layouts
    always set all three keys; a plain reply may give `content` alone."""

    content: str
    embeds: NotRequired[list[Embed]]
    allowed_mentions: NotRequired[AllowedMentions]
    # Never sent: the papers a digest page shows, for the Discord layer's paper menu.
    papers: NotRequired[list[MenuPaper]]
