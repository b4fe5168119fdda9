"""Discussion threads beside digests (pure): the modes a digest can ask for, thread
names within Discord's limits, the per-paper messages a thread can hang off, and the
ledger keys and history markers that make each message and thread happen once.

A digest with `thread: digest` is posted as usual and one thread is started from it. A
digest with `thread: paper` is a header message followed by one message per paper
(Discord starts a thread from a message, one thread per message), each with its own
thread named after the paper. Every extra message and thread is a step with its own
ledger row, `<target>/<step>` for the same day (see `step_target`), so a crash between
any two of them neither repeats nor skips one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from bot.core.digest import DigestSettings, select_digest_papers
from bot.core.limits import EMBED_CHAR_BUDGET
from bot.core.markdown import truncate
from bot.core.models import StoredPaper
from bot.core.page_papers import with_papers
from bot.core.payloads import MessagePayload
from bot.core.render import format_day, no_mentions, one_line, paper_embed

MAX_THREAD_NAME = 100  # Discord: a thread name is 1-100 characters
# The minutes of inactivity after which Discord auto-archives a thread: only these.
ArchiveMinutes = Literal[60, 1440, 4320, 10080]
ARCHIVE_DURATIONS: tuple[ArchiveMinutes, ...] = (60, 1440, 4320, 10080)
# A digest thread archives after a day without messages: the next day's digest brings a
# new one, and an archived thread stays readable and reopens when someone writes in it.
DEFAULT_ARCHIVE_MINUTES: ArchiveMinutes = 1440
ITEM_MARKER = "paperbot item"  # in each per-paper message: how reconciliation finds it
UNTITLED = "Untitled paper"


class ThreadState(StrEnum):
    """A thread as Discord has it now."""

    OPEN = "open"
    ARCHIVED = "archived"  # readable; reopens when unarchived or written in
    GONE = "gone"  # deleted, or the bot can no longer see it


class ThreadMode(StrEnum):
    """What `/digest subscribe … thread:` asks for."""

    NONE = "none"
    DIGEST = "digest"  # one thread started from the digest post
    PAPER = "paper"  # one message and one thread per paper

    @property
    def label(self) -> str:
        return {
            ThreadMode.NONE: "no threads",
            ThreadMode.DIGEST: "a thread per digest",
            ThreadMode.PAPER: "a thread per paper",
        }[self]


def thread_mode(text: str | None) -> ThreadMode:
    """The stored or typed mode; ValueError naming the choices otherwise."""
    value = (text or ThreadMode.NONE.value).strip().lower()
    try:
        return ThreadMode(value)
    except ValueError:
        choices = ", ".join(m.value for m in ThreadMode)
        raise ValueError(f"{text!r} is not a thread mode; use one of {choices}") from None


def thread_name(text: str) -> str:
    """A thread name from any text: one line, 1-100 characters, cut on a word. Names are
    plain text in Discord (no markdown), so nothing is escaped."""
    line = one_line(text)
    return truncate(line, MAX_THREAD_NAME) or UNTITLED


def digest_thread_name(day: dt.date, settings: DigestSettings, topics: Sequence[str] = ()) -> str:
    """`paperbot daily digest · Sat 14 Mar 2026 (Robotics, NLP)`, within 100 characters."""
    name = f"{one_line(settings.title)} · {format_day(day)}"
    if topics:
        name += f" ({', '.join(one_line(t) for t in topics)})"
    return thread_name(name)


def paper_thread_name(paper: StoredPaper) -> str:
    return thread_name(paper.title)


def item_marker(day: dt.date, paper_id: int) -> str:
    """A string only the per-paper message of `paper_id` on `day` carries. It never
    contains the digest's own marker (`paperbot digest <day>`), so finding the header
    again never finds a paper message instead."""
    return f"{ITEM_MARKER} {day.isoformat()}/{paper_id}"


def step_target(target: str, step: str) -> str:
    """The ledger key of one extra step of `target`'s digest: `channel:1/thread`
    (the digest's thread), `channel:1/paper:7` and `channel:1/thread:7` (a paper's
    message and its thread). Distinct from every subscription's own target."""
    return f"{target}/{step}"


@dataclass(frozen=True)
class PaperItem:
    """One paper's own message in a `thread: paper` digest, and its thread's name."""

    paper_id: int
    payload: MessagePayload
    thread_name: str


def paper_items(
    papers: Sequence[StoredPaper],
    day: dt.date,
    settings: DigestSettings,
    topic_names: Mapping[str, str] | None = None,
) -> list[PaperItem]:
    """The digest's papers (the same selection and order as its pages), one message
    each: the paper's embed and a marker line `-# 3/10 · paperbot item <day>/<id>`."""
    selected = select_digest_papers(papers, settings)
    items = []
    for number, paper in enumerate(selected, start=1):
        embed = paper_embed(paper, topic_names=topic_names, max_length=EMBED_CHAR_BUDGET)
        content = f"-# {number}/{len(selected)} · {item_marker(day, paper.id)}"
        payload: MessagePayload = {
            "content": content,
            "embeds": [embed],
            "allowed_mentions": no_mentions(),
        }
        payload = with_papers(payload, [paper])  # its feedback buttons go under it
        items.append(PaperItem(paper.id, payload, paper_thread_name(paper)))
    return items


def header_only(page: MessagePayload) -> MessagePayload:
    """The digest's first page without its papers: the header a `thread: paper` digest
    posts above its per-paper messages (the marker line stays)."""
    content = str(page.get("content", ""))
    first, _, rest = content.partition("\n")
    first = first.split(" · page ")[0]
    return {
        "content": f"{first} · one thread per paper below\n{rest}".strip(),
        "embeds": [],
        "allowed_mentions": no_mentions(),
    }
