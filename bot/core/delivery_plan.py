"""Pure decisions behind every post: which day a target gets, whether a missed post is
still worth sending, and which papers a member's follows pick out (and why)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from bot.core.authors import author_key
from bot.core.models import StoredPaper, Topic
from bot.core.subscriptions import Follow, FollowKind
from bot.core.text import words
from bot.core.topics import compile_topics, parse_keyword_list

# Each paper's title and abstract split by `words()`, by paper id.
PaperWords = Mapping[int, tuple[tuple[str, ...], tuple[str, ...]]]

DIGEST_MARKER = "paperbot digest"  # in every digest's first line: how reconciliation finds it


def digest_marker(day: dt.date) -> str:
    """A string only the digest for `day` carries, found again in channel history."""
    return f"{DIGEST_MARKER} {day.isoformat()}"


def delivery_nonce(target: str, day: dt.date) -> str:
    """The message nonce for `target`'s post of `day`: the same in every attempt and in
    every process, so Discord (which enforces it for a few minutes) returns the first
    message instead of creating a second when two attempts' requests cross in flight."""
    digest = hashlib.blake2b(f"{target}|{day.isoformat()}".encode(), digest_size=11)
    return f"pb{digest.hexdigest()}"  # 24 characters


def choose_digest_day(
    days_newest_first: Sequence[dt.date], last_delivered: dt.date | None, today: dt.date
) -> dt.date | None:
    """The newest day with papers that the target has not received yet.

    Days at or before the last delivered one are never sent: a late-arriving older dump
    must not post a stale digest after a newer one went out.
    """
    for day in days_newest_first:
        if day > today:
            continue  # a dump dated ahead of the target's local day waits for it
        if last_delivered is None or day > last_delivered:
            return day
        return None
    return None


def local_today(now: dt.datetime, timezone: str) -> dt.date:
    return now.astimezone(ZoneInfo(timezone)).date()


def last_fire_time(now: dt.datetime, post_time: str, timezone: str) -> dt.datetime:
    """The most recent wall-clock `post_time` in `timezone` at or before `now` (aware).

    A time that a DST jump skips (02:30 in Berlin in spring) counts as 03:30 that day,
    so the sweeper still posts when cron, which skips such times, did not fire.
    """
    zone = ZoneInfo(timezone)
    hour, minute = (int(part) for part in post_time.split(":"))
    local_now = now.astimezone(zone)
    for back in range(0, 3):
        day = local_now.date() - dt.timedelta(days=back)
        candidate = _wall_clock(day, hour, minute, zone)
        if candidate <= now:
            return candidate
    raise AssertionError("unreachable: some fire time lies within three days")


def _wall_clock(day: dt.date, hour: int, minute: int, zone: ZoneInfo) -> dt.datetime:
    # fold=0 reads a skipped time (02:30 on a spring-forward night) with the offset in
    # force before the jump, i.e. one hour later on the new clock, and a repeated time
    # (autumn) as its first occurrence: one post either way.
    naive = dt.datetime(day.year, day.month, day.day, hour, minute)
    return naive.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)


def missed_post_due(
    now: dt.datetime,
    post_time: str,
    timezone: str,
    last_attempt_day: dt.date | None,
    grace: dt.timedelta,
) -> bool:
    """After downtime: is the latest scheduled post still inside the grace window and not
    yet done for that local day?"""
    fired = last_fire_time(now, post_time, timezone)
    if now - fired > grace:
        return False
    fired_day = fired.astimezone(ZoneInfo(timezone)).date()
    return last_attempt_day is None or last_attempt_day < fired_day


def shard_of(guild_id: int, shard_count: int) -> int:
    """The gateway shard Discord routes `guild_id`'s events to."""
    return (guild_id >> 22) % shard_count


def shard_looks_dead(
    heartbeat: dt.datetime | None, now: dt.datetime, claim_timeout: dt.timedelta
) -> bool:
    """No heartbeat from a shard's process for longer than a claim lasts (or ever)."""
    return heartbeat is None or now - heartbeat > claim_timeout


def takeover_due(
    now: dt.datetime,
    post_time: str,
    timezone: str,
    last_attempt_day: dt.date | None,
    grace: dt.timedelta,
    claim_timeout: dt.timedelta,
) -> bool:
    """A channel of another (dead) process's shard: still due and not run although its
    post time is more than a claim timeout ago, i.e. its owner had every chance."""
    if not missed_post_due(now, post_time, timezone, last_attempt_day, grace):
        return False
    return now - last_fire_time(now, post_time, timezone) > claim_timeout


def follow_topic(follow: Follow, topics_by_key: dict[str, Topic]) -> Topic | None:
    """The Topic a follow stands for: a taxonomy topic, or an ad hoc one for a keyword;
    None for an author follow (matched by name key, not words) or an unknown topic."""
    if follow.kind == FollowKind.AUTHOR:
        return None
    if follow.kind == FollowKind.TOPIC:
        key = follow.value if not follow.guild_id else f"{follow.guild_id}:{follow.value}"
        return topics_by_key.get(key)
    keywords, phrases = parse_keyword_list(follow.value)
    return Topic(
        slug=f"keyword:{follow.value}", name=f"“{follow.value}”", keywords=keywords, phrases=phrases
    )


def paper_words(
    papers: Sequence[StoredPaper],
) -> dict[int, tuple[tuple[str, ...], tuple[str, ...]]]:
    """The papers' words for `papers_for_member`, split once for a whole fan-out: each
    member's keyword follows are matched against every paper of the day, and splitting
    500 papers' texts again for each of thousands of members costs more than matching."""
    return {p.id: (tuple(words(p.title)), tuple(words(p.abstract))) for p in papers}


def papers_for_member(
    papers: Sequence[StoredPaper],
    follows: Sequence[Follow],
    topics_by_key: dict[str, Topic],
    split: PaperWords | None = None,
) -> list[tuple[StoredPaper, tuple[str, ...]]]:
    """The day's papers a member's follows select, in dump order, each with the reasons.

    Topic follows use the topics stored at ingest; keyword follows are matched here,
    since they are free text that no ingest could have known. `split`: the papers'
    words from `paper_words` (else each text is split here).
    """
    wanted = [(f, follow_topic(f, topics_by_key)) for f in follows]
    # One compiled matcher per keyword follow, built once for the whole day.
    matchers = {
        i: compile_topics([topic])
        for i, (follow, topic) in enumerate(wanted)
        if topic is not None and follow.kind == FollowKind.KEYWORD
    }
    authors = {f.value: f.label or f.value for f in follows if f.kind == FollowKind.AUTHOR}
    chosen = []
    for paper in papers:
        reasons: list[str] = []
        if authors:
            reasons += [f"author {name}" for name in paper.authors if author_key(name) in authors]
        stored = {hit.topic: hit for hit in paper.topics}
        for index, (follow, topic) in enumerate(wanted):
            if topic is None:
                continue
            if follow.kind == FollowKind.TOPIC:
                hit = stored.get(topic.slug)
                if hit is not None:
                    reasons.append(f"topic {topic.name}: " + ", ".join(hit.why[:3]))
            else:
                if split is not None and paper.id in split:
                    title, abstract = split[paper.id]
                    hits = matchers[index].match_words(title, abstract, threshold=0.0)
                else:
                    hits = matchers[index].match(paper.title, paper.abstract, threshold=0.0)
                if hits and hits[0].why:
                    reasons.append(f"keyword {topic.name}: " + ", ".join(hits[0].why[:3]))
        if reasons:
            chosen.append((paper, tuple(reasons)))
    return chosen
