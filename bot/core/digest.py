"""The daily digest: which papers, in what order, laid out as Discord message bodies.

Pure functions only. The scheduler/cog fetches the day's papers from storage, calls
:func:`layout_digest` (a burst of messages) or :func:`digest_pages` (one message
paged with buttons) and sends the dicts as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.core.digest_order import DigestOrder, order_key
from bot.core.limits import EMBED_CHAR_BUDGET, MAX_EMBEDS, embed_length
from bot.core.markdown import escape_markdown, truncate
from bot.core.models import StoredPaper
from bot.core.page_papers import papers_per_group, with_papers
from bot.core.payloads import Embed, MessagePayload
from bot.core.render import (
    format_day,
    no_mentions,
    paper_embed,
    safe_inline,
    topic_display_names,
)
from bot.core.sources import ALL_SOURCES, HF, SourceFilter
from bot.core.topic_lookup import REMOVED_TOPIC
from bot.core.wording import count_text, plural

_TITLE_CHARS = 200
_TOPICS_CHARS = 1000
# Headers stay well under the 2000-char content limit so callers can append a
# " · page 12/34" suffix and a marker line (delivery adds "-# paperbot digest …").
_HEADER_CHARS = 1500


@dataclass
class DigestSettings:
    """A guild's (or member's) digest preferences.

    ``topics`` are topic slugs; empty means every paper. ``max_items`` caps how many
    papers are shown (the header then says "top 10 of 37 papers").
    """

    topics: tuple[str, ...] = ()
    max_items: int = 10
    title: str = "paperbot daily digest"
    # Only papers a source listed that day (and, for arXiv, in these categories).
    source: SourceFilter = ALL_SOURCES
    order: DigestOrder = DigestOrder.POPULAR
    # The server's members' 👍 per paper id, for the relevance order (empty otherwise).
    likes: Mapping[int, int] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.max_items < 1:
            raise ValueError(f"max_items must be at least 1, got {self.max_items}")


def select_digest_papers(
    papers: Sequence[StoredPaper], settings: DigestSettings
) -> list[StoredPaper]:
    """The papers a digest shows, in display order (what both layouts render).

    Keeps papers with a topic in ``settings.topics`` (all papers when empty), drops
    repeated ids, orders by ``settings.order`` (by default the day's HF upvotes where
    known, then position on the day, unknown last), then by best topic score, then
    input order; and keeps ``max_items``.
    """
    return _matching(papers, settings)[: settings.max_items]


def layout_digest(
    papers: list[StoredPaper],
    day: dt.date,
    settings: DigestSettings,
    topic_names: dict[str, str] | None = None,
) -> list[MessagePayload]:
    """The digest as a list of message bodies to send in order.

    The first message carries the header line; papers follow as embeds, packed
    greedily into messages of <= 10 embeds and <= EMBED_CHAR_BUDGET embed chars;
    later messages say "(continued 2/4)". Nothing is dropped: an oversize paper is
    shortened. An empty day (or nothing matching the topic filter) is one short
    "No papers this day" message.
    """
    header, groups = _layout(papers, day, settings, topic_names, MAX_EMBEDS)
    if not groups:
        return [_payload(header, [])]
    count = len(groups)
    payloads = []
    for number, group in enumerate(groups, start=1):
        if number == 1:
            content = header if count == 1 else f"{header} · part 1/{count}"
        else:
            content = f"(continued {number}/{count})"
        payloads.append(_payload(content, group))
    return payloads


def digest_pages(
    papers: list[StoredPaper],
    day: dt.date,
    settings: DigestSettings,
    topic_names: dict[str, str] | None = None,
    per_page: int = 5,
) -> list[MessagePayload]:
    """The same digest as pages for a one-message pager ("… · page 2/7").

    Same selection, order and embeds as :func:`layout_digest`, packed with the same
    helper into pages of <= ``per_page`` embeds. Every page repeats the header, since
    the pager edits one message in place.
    """
    if not 1 <= per_page <= MAX_EMBEDS:
        raise ValueError(f"per_page must be 1..{MAX_EMBEDS}, got {per_page}")
    header, groups = _layout(papers, day, settings, topic_names, per_page)
    if not groups:
        return [_payload(header, [])]
    # Each page carries its papers for the paper menu under it (core.page_papers).
    shown = papers_per_group(select_digest_papers(papers, settings), groups)
    return [
        with_papers(_payload(f"{header} · page {number}/{len(groups)}", group), on_page)
        for number, (group, on_page) in enumerate(zip(groups, shown, strict=True), start=1)
    ]


# --- shared by both layouts ----------------------------------------------------------


def _layout(
    papers: Sequence[StoredPaper],
    day: dt.date,
    settings: DigestSettings,
    topic_names: Mapping[str, str] | None,
    per_message: int,
) -> tuple[str, list[list[Embed]]]:
    """(header, embed groups); no groups means the "no new papers" header."""
    matching = _matching(papers, settings)
    selected = matching[: settings.max_items]
    if not selected:
        return _empty_header(papers, day, settings, topic_names), []
    header = _header(day, settings, topic_names, len(selected), len(matching))
    # Each embed alone is capped at the whole budget, so none can block packing.
    embeds = [
        paper_embed(paper, topic_names=topic_names, max_length=EMBED_CHAR_BUDGET)
        for paper in selected
    ]
    return header, pack_embeds(embeds, per_message, EMBED_CHAR_BUDGET)


def pack_embeds(embeds: Sequence[Embed], per_message: int, budget: int) -> list[list[Embed]]:
    """Greedily split ``embeds`` (in order) into groups of <= per_message embeds whose
    embed_length sums stay <= budget. Each embed must itself be <= budget.
    """
    groups: list[list[Embed]] = []
    current: list[Embed] = []
    used = 0
    for embed in embeds:
        size = embed_length(embed)
        if size > budget:
            raise ValueError(f"embed of {size} chars cannot fit a {budget}-char message")
        if current and (len(current) >= per_message or used + size > budget):
            groups.append(current)
            current, used = [], 0
        current.append(embed)
        used += size
    if current:
        groups.append(current)
    return groups


def _matching(papers: Sequence[StoredPaper], settings: DigestSettings) -> list[StoredPaper]:
    wanted = set(settings.topics)
    seen: set[int] = set()
    kept: list[StoredPaper] = []
    for paper in papers:
        if paper.id in seen:
            continue
        if wanted and not any(hit.topic in wanted for hit in paper.topics):
            continue
        # A paper stored before sources were recorded came from Hugging Face's pages.
        listed_by = paper.day_sources or paper.sources or (HF,)
        if not settings.source.accepts(listed_by, paper.categories):
            continue
        seen.add(paper.id)
        kept.append(paper)

    def score(paper: StoredPaper) -> float:
        # With a filter, only the filtered topics' scores say how relevant it is.
        scores = [h.score for h in paper.topics if not wanted or h.topic in wanted]
        return max(scores, default=0.0)

    # sorted() is stable, so equal papers keep the dump's order.
    by_order = order_key(settings.order, settings.likes)
    return sorted(kept, key=lambda p: (*by_order(p), -score(p)))


def _title(settings: DigestSettings) -> str:
    return safe_inline(settings.title, _TITLE_CHARS, keep_urls=False) or "Daily papers"


def _topics_text(settings: DigestSettings, topic_names: Mapping[str, str] | None) -> str:
    # A filter may name a topic its server has since removed: say so, never its key.
    names = topic_display_names(settings.topics, topic_names, REMOVED_TOPIC)
    return truncate(escape_markdown(", ".join(names), keep_urls=False), _TOPICS_CHARS)


def _header(
    day: dt.date,
    settings: DigestSettings,
    topic_names: Mapping[str, str] | None,
    shown: int,
    matching: int,
) -> str:
    parts = [f"**{_title(settings)} — {format_day(day)}**"]
    if shown < matching:
        parts.append(f"top {count_text(shown)} of {plural(matching, 'paper')}")
    else:
        parts.append(plural(shown, "paper"))
    if settings.topics:
        parts.append("topics: " + _topics_text(settings, topic_names))
    return truncate(" · ".join(parts), _HEADER_CHARS)


def _empty_header(
    papers: Sequence[StoredPaper],
    day: dt.date,
    settings: DigestSettings,
    topic_names: Mapping[str, str] | None,
) -> str:
    # The header names the day, which is not always today (a catch-up, a preview).
    line = f"**{_title(settings)} — {format_day(day)}**\nNo papers this day"
    if settings.topics:
        line += " on " + _topics_text(settings, topic_names)
        others = len({p.id for p in papers})
        if others:
            line += f" ({plural(others, 'paper')} on other topics)"
    return truncate(line + ".", _HEADER_CHARS)


def _payload(content: str, embeds: list[Embed]) -> MessagePayload:
    return {"content": content, "embeds": embeds, "allowed_mentions": no_mentions()}
