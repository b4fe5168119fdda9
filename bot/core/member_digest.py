"""The DM a member gets: the day's papers their follows picked, each with why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from functools import partial

from bot.core.digest import pack_embeds
from bot.core.limits import EMBED_CHAR_BUDGET
from bot.core.models import StoredPaper
from bot.core.page_papers import papers_per_group, with_papers
from bot.core.payloads import Embed, MessagePayload
from bot.core.render import EmbedParts, embed_parts, finish_embed, format_day, no_mentions
from bot.core.wording import plural

# A ranked DM shows its best picks only: the rest scored lower than these, and laying
# out every pick of a member who follows broad words (80+ on a busy day) for each of
# thousands of members would hold up the morning's fan-out.
MAX_PICKS = 30


def finished_embed(
    paper: StoredPaper,
    why: tuple[str, ...],
    topic_names: Mapping[str, str] | None = None,
    parts: EmbedParts | None = None,
) -> Embed:
    """One paper of a member's DM: its embed with why, within a DM's share of a message
    (`parts`: its `embed_parts` with `topic_names`, when laid out already)."""
    if parts is None:
        parts = embed_parts(paper, topic_names=topic_names)
    return finish_embed(parts, why=why, max_length=EMBED_CHAR_BUDGET)


def member_digest_pages(
    matches: Sequence[tuple[StoredPaper, tuple[str, ...]]],
    day: dt.date,
    topic_names: Mapping[str, str] | None = None,
    per_page: int = 5,
    *,
    ranked: bool = False,
    finish: Callable[[StoredPaper, tuple[str, ...]], Embed] | None = None,
    picked: int | None = None,
) -> list[MessagePayload]:
    """Pages for a one-message pager; an empty list when nothing matched (no DM then).
    `ranked`: the papers are the member's picks, best first (their model chose them,
    not their follows alone), each with why; the best `MAX_PICKS` are shown.
    `finish`: each paper's embed with its why, as `finish_embed` makes it from the
    paper's `embed_parts` with `topic_names` (a fan-out passes one that lays out each
    paper of the day once, and each paper with the same why once).
    `picked`: how many papers were picked, when `matches` holds only the best of them."""
    count = len(matches) if picked is None else max(picked, len(matches))
    listed = matches[:MAX_PICKS] if ranked else matches
    if finish is None:
        finish = partial(finished_embed, topic_names=topic_names)
    embeds = [finish(paper, why) for paper, why in listed]
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
