"""The DM a member gets: the day's papers their follows picked, each with why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from bot.core.digest import pack_embeds
from bot.core.limits import EMBED_CHAR_BUDGET
from bot.core.models import StoredPaper
from bot.core.page_papers import papers_per_group, with_papers
from bot.core.payloads import MessagePayload
from bot.core.render import EmbedParts, embed_parts, finish_embed, format_day, no_mentions
from bot.core.wording import plural

# A ranked DM shows its best picks only: the rest scored lower than these, and laying
# out every pick of a member who follows broad words (80+ on a busy day) for each of
# thousands of members would hold up the morning's fan-out.
MAX_PICKS = 30


def member_digest_pages(
    matches: Sequence[tuple[StoredPaper, tuple[str, ...]]],
    day: dt.date,
    topic_names: Mapping[str, str] | None = None,
    per_page: int = 5,
    *,
    ranked: bool = False,
    layout: Callable[[StoredPaper], EmbedParts] | None = None,
    picked: int | None = None,
) -> list[MessagePayload]:
    """Pages for a one-message pager; an empty list when nothing matched (no DM then).
    `ranked`: the papers are the member's picks, best first (their model chose them,
    not their follows alone), each with why; the best `MAX_PICKS` are shown.
    `layout`: each paper's embed but for the why, as `embed_parts` lays it out with
    `topic_names` (a fan-out passes one that lays out each paper of the day once).
    `picked`: how many papers were picked, when `matches` holds only the best of them."""
    count = len(matches) if picked is None else max(picked, len(matches))
    listed = matches[:MAX_PICKS] if ranked else matches
    if layout is None:
        layout = lambda paper: embed_parts(paper, topic_names=topic_names)  # noqa: E731
    embeds = [
        finish_embed(layout(paper), why=why, max_length=EMBED_CHAR_BUDGET) for paper, why in listed
    ]
    groups = pack_embeds(embeds, per_page, EMBED_CHAR_BUDGET)
    if not ranked:
        chosen = f"{plural(count, 'paper')} matching what you follow (`/following` to change)"
    elif len(listed) < count:
        chosen = f"the best {len(listed)} of {plural(count, 'paper')} picked for you"
    else:
        chosen = f"{plural(count, 'paper')} picked for you from what you rate and follow"
    header = f"**Your papers — {format_day(day)}** · {chosen}"
    shown = papers_per_group([paper for paper, _ in listed], groups)
    return [
        with_papers(
            {
                "content": f"{header} · page {number}/{len(groups)}",
                "embeds": group,
                "allowed_mentions": no_mentions(),
            },
            on_page,
        )
        for number, (group, on_page) in enumerate(zip(groups, shown, strict=True), start=1)
    ]
