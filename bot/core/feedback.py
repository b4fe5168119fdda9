"""A member's feedback on papers, their mutes, and what forgetting them deletes: plain
data, stored through the `Feedback` and `Mutes` ports (bot/core/ports.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.authors import author_key
from bot.core.models import StoredPaper, Topic
from bot.core.subscriptions import keyword_value
from bot.core.text import unquoted
from bot.core.topics import compile_topics, parse_keyword_list


class FeedbackSignal(StrEnum):
    """👍 more like this, 👎 less like this, or neither (a save alone, or undone)."""

    LIKE = "like"
    DISLIKE = "dislike"
    NONE = "none"


class FeedbackAction(StrEnum):
    """What one click (or `paperbot feedback` flag) does."""

    LIKE = "like"
    DISLIKE = "dislike"
    SAVE = "save"
    UNSAVE = "unsave"
    CLEAR = "clear"  # no signal, not saved: the paper is unrated again


@dataclass(frozen=True)
class PaperFeedback:
    """One member's feedback on one paper. A row exists only while it says something
    (a signal or a save); `updated_at` orders a member's ratings, oldest first."""

    user_id: int
    paper_id: int
    signal: FeedbackSignal = FeedbackSignal.NONE
    saved: bool = False
    guild_id: int | None = None  # where the click came from (the community signal)
    updated_at: dt.datetime | None = None
    saved_at: dt.datetime | None = None

    @property
    def empty(self) -> bool:
        return self.signal is FeedbackSignal.NONE and not self.saved


def apply_action(
    current: PaperFeedback | None, action: FeedbackAction
) -> tuple[FeedbackSignal, bool]:
    """(signal, saved) after `action` on `current`: a like replaces a dislike and keeps a
    save; a save keeps the signal; clear resets both."""
    signal = current.signal if current else FeedbackSignal.NONE
    saved = current.saved if current else False
    if action is FeedbackAction.LIKE:
        signal = FeedbackSignal.LIKE
    elif action is FeedbackAction.DISLIKE:
        signal = FeedbackSignal.DISLIKE
    elif action is FeedbackAction.SAVE:
        saved = True
    elif action is FeedbackAction.UNSAVE:
        saved = False
    else:
        signal, saved = FeedbackSignal.NONE, False
    return signal, saved


@dataclass(frozen=True)
class SavedPage:
    """One page of a member's saved papers, newest save first."""

    paper_ids: tuple[int, ...]
    total: int


@dataclass(frozen=True)
class ForgetCounts:
    """What `/forget-me` deleted, per kind."""

    follows: int = 0
    ratings: int = 0  # 👍 / 👎 on papers
    saves: int = 0
    mutes: int = 0
    delivery_settings: int = 0  # the DM time and time zone (0 or 1)
    delivery_records: int = 0  # the ledger of DMs sent to the member

    def items(self) -> Iterator[tuple[str, int]]:
        yield "follows", self.follows
        yield "ratings", self.ratings
        yield "saves", self.saves
        yield "mutes", self.mutes
        yield "delivery settings", self.delivery_settings
        yield "delivery records", self.delivery_records

    @property
    def total(self) -> int:
        return sum(n for _, n in self.items())


# -- mutes ------------------------------------------------------------------------------------


class MuteKind(StrEnum):
    KEYWORD = "keyword"
    TOPIC = "topic"
    AUTHOR = "author"


@dataclass(frozen=True)
class Mute:
    """A paper the member never wants to see: one matching `value` (normalised: a
    keyword as a keyword follow stores it, a topic's key, an author's name key).
    `label` is what the member typed or picked, for lists."""

    kind: MuteKind
    value: str
    label: str = field(default="", compare=False)


def mute_for(kind: MuteKind, text: str, topic_key: str | None = None) -> Mute:
    """The mute a member asked for; ValueError with the reason when it cannot match
    anything. A topic mute takes the resolved topic's key (`topic_key`)."""
    label = " ".join((text or "").split())
    if kind is MuteKind.KEYWORD:  # quotes mark a phrase: they stay
        return Mute(kind, keyword_value(label), label)
    label = unquoted(label)  # quotes typed around a topic's or an author's name
    if kind is MuteKind.TOPIC:
        if not topic_key:
            raise ValueError("a topic mute needs a topic")
        return Mute(kind, topic_key, label or topic_key)
    key = author_key(label)
    if not key:
        raise ValueError("an author's name needs letters")
    return Mute(kind, key, label)


class MuteFilter:
    """Which papers a member's mutes hide: built once per member and day."""

    def __init__(self, mutes: Sequence[Mute]) -> None:
        self.topics = {m.value for m in mutes if m.kind is MuteKind.TOPIC}
        self.authors = {m.value for m in mutes if m.kind is MuteKind.AUTHOR}
        keywords = [m.value for m in mutes if m.kind is MuteKind.KEYWORD]
        rules = []
        for n, value in enumerate(keywords):
            words, phrases = parse_keyword_list(value)
            rules.append(Topic(f"mute-{n}", value, words, phrases))
        self._keywords = compile_topics(rules) if rules else None

    def __bool__(self) -> bool:
        return bool(self.topics or self.authors or self._keywords)

    def hides(self, paper: StoredPaper) -> bool:
        if self.topics and any(hit.topic in self.topics for hit in paper.topics):
            return True
        if self.authors and any(author_key(a) in self.authors for a in paper.authors):
            return True
        return bool(
            self._keywords and self._keywords.match(paper.title, paper.abstract, threshold=0.0)
        )
