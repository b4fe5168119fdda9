"""Who gets what, when: channel subscriptions, follows, delivery times, and their
validation (pure; storage persists these, the scheduler reads them)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.digest_order import DigestOrder
from bot.core.outcomes import DeliveryStatus
from bot.core.topics import parse_keyword_list, validate_topic

_TIME = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\s*$", re.IGNORECASE)
FAILURES_BEFORE_PAUSE = 3
MAX_DIGEST_ITEMS = 50


@dataclass(frozen=True)
class ChannelSubscription:
    channel_id: int
    guild_id: int
    post_time: str  # HH:MM
    timezone: str
    topics: tuple[str, ...] = ()
    max_items: int = 10
    paused: bool = False
    failures: int = 0
    last_error: str | None = None
    created_by: int | None = None
    last_run_day: dt.date | None = None  # local day of the last scheduled run
    # Which papers it takes: "all", "hf", "arxiv" or "arxiv:cs.CL,cs.LG"
    # (bot.core.sources.parse_source_filter).
    source: str = "all"
    thread: str = "none"  # discussion threads: "none", "digest" or "paper" (core.threads)
    order: DigestOrder = DigestOrder.POPULAR

    @property
    def target(self) -> str:
        return f"channel:{self.channel_id}"

    @property
    def paused_by_failures(self) -> bool:
        """Paused by the bot after repeated refusals, rather than by `/digest pause`
        (a paused digest posts nothing, so its failure count cannot grow after that)."""
        return self.paused and self.failures >= FAILURES_BEFORE_PAUSE


class FollowKind(StrEnum):
    TOPIC = "topic"  # a built-in topic's slug, or a server topic's (with its guild)
    KEYWORD = "keyword"  # words matched in titles and abstracts
    AUTHOR = "author"  # an author's name key (bot.core.authors)


@dataclass(frozen=True)
class Follow:
    kind: FollowKind
    value: str  # topic slug, keyword text, or an author's name key (bot.core.authors)
    guild_id: int = 0  # the guild a guild topic belongs to; 0 for built-in/keywords
    # The author's name as followed, for lists (the value is only its key).
    label: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class UserDelivery:
    user_id: int
    post_time: str = "08:00"
    timezone: str = "UTC"
    dm_closed: bool = False
    dm_closed_told: bool = False
    follows: tuple[Follow, ...] = field(default_factory=tuple)
    last_run_day: dt.date | None = None

    @property
    def target(self) -> str:
        return f"user:{self.user_id}"


@dataclass(frozen=True)
class TopicRemoval:
    """What removing a server topic changed, all in the one transaction that removed it."""

    digests: tuple[ChannelSubscription, ...] = ()  # those that filtered on it, as they are now
    followers: tuple[int, ...] = ()  # user ids whose follow of it was removed


@dataclass(frozen=True)
class DeliveryRecord:
    target: str
    day: dt.date
    status: DeliveryStatus  # HELD: another owner's lease (a claim's answer, never stored)
    message_id: int | None
    attempts: int
    detail: str | None = None
    owner: str | None = None  # who holds the claim (several processes); None = unleased
    lease_until: dt.datetime | None = None  # UTC; an expired lease may be taken over


def parse_post_time(text: str) -> str:
    """`8`, `8:30`, `08:30`, `8pm`, `20:05` -> `HH:MM`; ValueError with a helpful message."""
    match = _TIME.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not a time; use HH:MM in 24-hour form, e.g. 08:30")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    meridiem = (match.group(3) or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            raise ValueError(f"{text!r}: with am/pm the hour must be 1-12")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day; use 00:00-23:59")
    return f"{hour:02d}:{minute:02d}"


MAX_KEYWORD_CHARS = 100


def keyword_value(text: str) -> str:
    """The stored form of a keyword follow: its validated words and phrases, casefolded,
    so `"Self-Supervised"` and `self-supervised` are one follow (and one `/unfollow`).
    Raises ValueError with the reason a keyword can't be matched."""
    text = " ".join(text.split())
    if not text or len(text) > MAX_KEYWORD_CHARS:
        raise ValueError(f"a keyword must be 1–{MAX_KEYWORD_CHARS} characters.")
    words, phrases = parse_keyword_list(text)
    if not (words or phrases):
        raise ValueError("that keyword has no letters or digits to match")
    # The same rules as a server topic's keywords: no one-letter words, no `a*`.
    checked = validate_topic("keyword", text, words, phrases)
    quoted = [f'"{p}"' if any(c in p for c in ",;") else p for p in checked.phrases]
    return ", ".join([*checked.keywords, *quoted]).casefold()
