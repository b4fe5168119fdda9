"""The DM a member gets: the day's papers their follows picked, each with why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from bot.core.digest import pack_embeds
from bot.core.limits import EMBED_CHAR_BUDGET
from bot.core.models import StoredPaper
from bot.core.page_papers import papers_per_group, with_papers
from bot.core.payloads import MessagePayload
from bot.core.render import format_day, no_mentions, paper_embed
from bot.core.wording import plural


def member_digest_pages(
    matches: Sequence[tuple[StoredPaper, tuple[str, ...]]],
    day: dt.date,
    topic_names: Mapping[str, str] | None = None,
    per_page: int = 5,
) -> list[MessagePayload]:
    """Pages for a one-message pager; an empty list when nothing matched (no DM then)."""
    embeds = [
        paper_embed(paper, why=why, topic_names=topic_names, max_length=EMBED_CHAR_BUDGET)
        for paper, why in matches
    ]
    groups = pack_embeds(embeds, per_page, EMBED_CHAR_BUDGET)
    count = len(matches)
    header = (
        f"**Your papers — {format_day(day)}** · {plural(count, 'paper')} "
        "matching what you follow (`/following` to change)"
    )
    shown = papers_per_group([paper for paper, _ in matches], groups)
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
