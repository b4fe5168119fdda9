"""Rows to domain objects, shared by every backend: their tables have the same columns,
in the same order, holding the same text formats (ISO days and times, JSON lists). The
column lists here are the order each mapper reads."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.digest_order import parse_order
from bot.core.feedback import FeedbackSignal, PaperFeedback
from bot.core.hf_extras import HfExtras
from bot.core.models import DaySource, KnownPaper, Matches, StoredPaper, Topic, TopicHit
from bot.core.outcomes import DeliveryStatus
from bot.core.sources import search_sources
from bot.core.subscriptions import (
    ChannelSubscription,
    DeliveryRecord,
    Follow,
    FollowKind,
    UserDelivery,
)

SUB_COLUMNS = (
    "channel_id, guild_id, post_time, timezone, topics, max_items, paused, failures,"
    " last_error, created_by, last_run_day, source, thread, paper_order"
)
USER_COLUMNS = "user_id, post_time, timezone, dm_closed, dm_closed_told, last_run_day"
RECORD_COLUMNS = "target, day, status, message_id, attempts, detail, owner, lease_until"
TOPIC_COLUMNS = "guild_id, slug, name, keywords, phrases"
# The HF JSON's extras (bot.core.hf_extras.HfExtras), in this order.
HF_COLUMNS = (
    "ai_summary, ai_keywords, github_repo, github_stars, project_page, organization, num_comments"
)
PAPER_COLUMNS = (
    "id, norm_title, title, abstract, arxiv_id, authors, upvotes, first_seen, last_seen,"
    f" {HF_COLUMNS}"
)
# A paper's categories, primary first, and the (day, source) of every dump that listed
# it; each ends in the backend's own "paper_id is one of these" condition.
CATEGORY_SQL = "SELECT paper_id, category FROM paper_categories WHERE paper_id"
LISTING_SQL = (
    "SELECT DISTINCT l.paper_id, d.day, d.paper_source FROM dump_papers l"
    " JOIN dumps d ON d.id = l.dump_id WHERE l.paper_id"
)


def day_or_none(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def moment_or_none(text: str | None) -> dt.datetime | None:
    """A stored ISO time, aware (one written without an offset is UTC)."""
    if not text:
        return None
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def stamp(moment: dt.datetime | None = None) -> str:
    """A time as both backends store it: ISO, whole seconds, with its offset (now by
    default)."""
    return (moment or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")


def channel_subscription(row: Sequence[Any]) -> ChannelSubscription:
    (
        cid,
        gid,
        post_time,
        tz,
        topics,
        max_items,
        paused,
        failures,
        error,
        by,
        last_run,
        source,
        thread,
        order,
    ) = row
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
        source,
        thread=thread,
        order=parse_order(order),
    )


def user_delivery(row: Sequence[Any], follows: list[Follow]) -> UserDelivery:
    uid, post_time, tz, closed, told, last_run = row
    return UserDelivery(
        uid, post_time, tz, bool(closed), bool(told), tuple(follows), day_or_none(last_run)
    )


def delivery_record(row: Iterable[Any], status: DeliveryStatus | None = None) -> DeliveryRecord:
    """A RECORD_COLUMNS row (a tuple, or an asyncpg Record straight from a claim);
    `status` overrides the stored one (a claim reports 'held')."""
    target, day, stored_status, message_id, attempts, detail, owner, lease_until = row
    return DeliveryRecord(
        target,
        dt.date.fromisoformat(day),
        status or DeliveryStatus(stored_status),
        message_id,
        attempts,
        detail,
        owner,
        moment_or_none(lease_until),
    )


def guild_topic(row: Sequence[Any]) -> Topic:
    """A TOPIC_COLUMNS row."""
    gid, slug, name, keywords, phrases = row
    return Topic(slug, name, tuple(json.loads(keywords)), tuple(json.loads(phrases)), gid)


def follows_by_user(rows: Sequence[Sequence[Any]]) -> dict[int, list[Follow]]:
    """(user_id, kind, value, guild_id, label) rows -> each user's follows, in row order."""
    found: dict[int, list[Follow]] = {}
    for uid, kind, value, gid, label in rows:
        found.setdefault(uid, []).append(Follow(FollowKind(kind), value, gid, label))
    return found


@dataclass
class PaperExtras:
    """What a stored paper carries beside its row: arXiv categories (primary first), the
    sources that ever listed it and those that listed it on the day shown."""

    categories: list[str] = field(default_factory=list)
    sources: dict[str, None] = field(default_factory=dict)
    day_sources: dict[str, None] = field(default_factory=dict)


def hf_extras_of(values: Sequence[Any]) -> HfExtras:
    """HfExtras from HF_COLUMNS values."""
    summary, keywords, repo, stars, page, organization, comments = values
    return HfExtras(
        ai_summary=summary or "",
        ai_keywords=tuple(json.loads(keywords or "[]")),
        github_repo=repo,
        github_stars=stars,
        project_page=page,
        organization=organization or "",
        num_comments=comments,
    )


def stored_paper(
    row: Sequence[Any],
    days: list[str],
    topics: list[TopicHit],
    position: int | None,
    extras: PaperExtras | None = None,
    day_upvotes: int | None = None,
) -> StoredPaper:
    extras = extras or PaperExtras()
    pid, norm, title, abstract, arxiv, authors, upvotes, first, last, *hf = row
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
        categories=tuple(extras.categories),
        # Where the paper is known from, as a search's source filter sees it: the
        # dumps that listed it, and arXiv when its categories are known (a snapshot
        # import lists it in no dump, yet it is arXiv's).
        sources=tuple(sorted(search_sources(extras.sources, extras.categories))),
        day_sources=tuple(sorted(extras.day_sources)),
        hf=hf_extras_of(hf),
        day_upvotes=day_upvotes,
    )


def stored_papers(
    ids: Sequence[int],
    papers: Sequence[Sequence[Any]],
    appearances: Sequence[Sequence[Any]],
    topics: Sequence[Sequence[Any]],
    day: dt.date | None = None,
    categories: Sequence[Sequence[Any]] = (),
    listings: Sequence[Sequence[Any]] = (),
) -> list[StoredPaper]:
    """The papers `ids` (in that order; those not found left out) from their rows:
    PAPER_COLUMNS rows; (paper_id, day, position, upvotes) rows by day; (paper_id, topic,
    score, why) rows best first, ties by topic; CATEGORY_SQL rows by position and
    LISTING_SQL rows by day and source (SQL orders nothing it is not told to: on
    PostgreSQL, ties come back in whatever order the rows lie on disk). `position` and
    `day_upvotes` are the paper's on `day`."""
    found = {row[0]: row for row in papers}
    days: dict[int, list[str]] = {i: [] for i in ids}
    on_day: dict[int, tuple[int | None, int | None]] = {}
    hits: dict[int, list[TopicHit]] = {i: [] for i in ids}
    for pid, seen, position, upvotes in appearances:
        days[pid].append(seen)
        if day is not None and seen == day.isoformat():
            on_day[pid] = (position, upvotes)
    for pid, topic, score, why in topics:
        hits[pid].append(TopicHit(topic, score, tuple(json.loads(why))))
    extras: dict[int, PaperExtras] = {i: PaperExtras() for i in ids}
    for pid, category in categories:
        extras[pid].categories.append(category)
    for pid, seen, source in listings:
        extras[pid].sources[source] = None
        if day is not None and seen == day.isoformat():
            extras[pid].day_sources[source] = None
    unseen = (None, None)
    return [
        stored_paper(
            found[i],
            days[i],
            hits[i],
            on_day.get(i, unseen)[0],
            extras[i],
            on_day.get(i, unseen)[1],
        )
        for i in ids
        if i in found
    ]


# Dedupe candidates per blocking key: the newest this many papers sharing it. A block
# shared by more (a common title opening, a stock first sentence: thousands of papers
# once the arXiv snapshot is imported) says little, and comparing with every paper in it
# made one daily dump cost seconds at 100k papers; a re-listed paper is found by its
# rarer blocks, or among the newest papers of a common one.
BLOCK_CANDIDATES = 64


def blocks_sql(blocks_in: str) -> str:
    """(block, id, norm_title, title, arxiv_id, abstract) of the newest
    BLOCK_CANDIDATES papers under each block; `blocks_in` is the backend's condition on
    `block` (`IN (?, ...)`, `= ANY($1)`)."""
    return (
        "SELECT b.block, p.id, p.norm_title, p.title, p.arxiv_id, p.abstract FROM"
        " (SELECT block, paper_id, ROW_NUMBER() OVER (PARTITION BY block ORDER BY paper_id"
        f" DESC) AS n FROM title_blocks WHERE block {blocks_in}) b"
        f" JOIN papers p ON p.id = b.paper_id WHERE b.n <= {BLOCK_CANDIDATES} ORDER BY p.id"
    )


def known_with_blocks(rows: Sequence[Sequence[Any]]) -> list[KnownPaper]:
    """(block, id, norm_title, title, arxiv_id, abstract) rows -> one KnownPaper per
    paper, with the blocks it was found by (both backends return these rows)."""
    papers: dict[int, tuple[Any, ...]] = {}
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
    data.update(day=day, day_source=DaySource.OPTION)
    return json.dumps(data)


def capped_matches(ranked: list[tuple[int, float]], counted: int, cap: int) -> Matches:
    """`ranked` with a count that stopped one past `cap`: above it, only a lower bound."""
    if counted <= cap:
        return Matches(ranked, max(counted, len(ranked)))
    return Matches(ranked, max(cap, len(ranked)), exact=False)


def paper_feedback(row: Sequence[Any]) -> PaperFeedback:
    """A FEEDBACK_COLUMNS row (storage/common.py)."""
    user_id, paper_id, signal, saved, guild_id, updated_at, saved_at = row
    return PaperFeedback(
        user_id=user_id,
        paper_id=paper_id,
        signal=FeedbackSignal(signal),
        saved=bool(saved),
        guild_id=guild_id,
        updated_at=moment_or_none(updated_at),
        saved_at=moment_or_none(saved_at),
    )
