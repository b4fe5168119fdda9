"""Rows to domain objects, shared by every backend: their tables have the same columns,
in the same order, holding the same text formats (ISO days, JSON lists)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from bot.core.models import KnownPaper, Matches, StoredPaper, TopicHit
from bot.core.subscriptions import ChannelSubscription, Follow, UserDelivery


def day_or_none(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def channel_subscription(row: tuple) -> ChannelSubscription:
    cid, gid, post_time, tz, topics, max_items, paused, failures, error, by, last_run = row
    return ChannelSubscription(
        cid,
        gid,
        post_time,
        tz,
        tuple(json.loads(topics)),
        max_items,
        bool(paused),
        failures,
        error,
        by,
        day_or_none(last_run),
    )


def user_delivery(row: tuple, follows: list[Follow]) -> UserDelivery:
    uid, post_time, tz, closed, told, last_run = row
    return UserDelivery(
        uid, post_time, tz, bool(closed), bool(told), tuple(follows), day_or_none(last_run)
    )


def stored_paper(
    row: tuple, days: list[str], topics: list[TopicHit], position: int | None
) -> StoredPaper:
    pid, norm, title, abstract, arxiv, authors, upvotes, first, last = row
    return StoredPaper(
        id=pid,
        key=norm,
        title=title,
        abstract=abstract,
        arxiv_id=arxiv,
        authors=tuple(json.loads(authors)),
        upvotes=upvotes,
        first_seen=dt.date.fromisoformat(first),
        last_seen=dt.date.fromisoformat(last),
        days=tuple(dt.date.fromisoformat(d) for d in days),
        topics=tuple(topics),
        position=position,
    )


def known_with_blocks(rows: Sequence[tuple]) -> list[KnownPaper]:
    """(block, id, norm_title, title, arxiv_id, abstract) rows -> one KnownPaper per
    paper, with the blocks it was found by (both backends return these rows)."""
    papers: dict[int, tuple] = {}
    found_by: dict[int, list[str]] = {}
    for block, pid, *paper in rows:
        papers[pid] = tuple(paper)
        found_by.setdefault(pid, []).append(block)
    return [
        KnownPaper(pid, norm, title, arxiv, abstract or "", tuple(found_by[pid]))
        for pid, (norm, title, arxiv, abstract) in papers.items()
    ]


def redated_report(report: str, day: str) -> str:
    """A dump's stored health report (what /status shows) moved to `day` by --redate."""
    data = json.loads(report or "{}")
    data.update(day=day, day_source="--date")
    return json.dumps(data)


def capped_matches(ranked: list[tuple[int, float]], counted: int, cap: int) -> Matches:
    """`ranked` with a count that stopped one past `cap`: above it, only a lower bound."""
    if counted <= cap:
        return Matches(ranked, max(counted, len(ranked)))
    return Matches(ranked, max(cap, len(ranked)), exact=False)
