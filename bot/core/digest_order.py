"""The order a digest lists a day's papers in, chosen per digest (`/digest subscribe …
order:`). More orders can join the enum: each is one sort key below."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum

from bot.core.models import StoredPaper


class DigestOrder(StrEnum):
    POPULAR = "popular"  # HF upvotes where the day's dump gave them, else the dump's order
    DUMP = "dump"  # the dump's own order (its position on the page or in the file)
    # This server's members' 👍 per paper, with HF upvotes where known (`community_score`).
    RELEVANCE = "relevance"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    DigestOrder.POPULAR: "most upvoted first",
    DigestOrder.DUMP: "in the dump's order",
    DigestOrder.RELEVANCE: "most liked here first",
}


def _position(paper: StoredPaper) -> tuple[bool, int]:
    return (paper.position is None, paper.position if paper.position is not None else 0)


def _upvotes(paper: StoredPaper) -> tuple[bool, int]:
    # Papers the day's dump gave no upvotes (a text dump) follow those it did.
    votes = paper.day_upvotes
    return (votes is None, -(votes or 0))


def community_score(likes: int, upvotes: int | None) -> float:
    """How much a server's readers should want a paper: each 👍 from one of its members
    counts 1, and HF upvotes count log10(1 + upvotes) — an order of magnitude of the
    wider HF crowd weighs as much as one reader here (9 upvotes ≈ 1 👍, 99 ≈ 2). A paper
    the day's dump gave no upvotes (a text dump) scores its 👍 alone."""
    return likes + (math.log10(1 + upvotes) if upvotes else 0.0)


SortKey = Callable[[StoredPaper], tuple[object, ...]]
_KEYS: dict[DigestOrder, SortKey] = {
    DigestOrder.POPULAR: lambda p: (*_upvotes(p), *_position(p)),
    DigestOrder.DUMP: lambda p: _position(p),
}


def order_key(order: DigestOrder, likes: Mapping[int, int] | None = None) -> SortKey:
    """The sort key that puts papers in `order` (ties are left to the caller). `likes`
    (paper id -> 👍 of the server's members) is what the relevance order reads."""
    if order is DigestOrder.RELEVANCE:
        liked = likes or {}
        return lambda p: (
            -community_score(liked.get(p.id, 0), p.day_upvotes),
            *_upvotes(p),
            *_position(p),
        )
    return _KEYS[order]


def parse_order(text: str | None) -> DigestOrder:
    """A stored or typed order; an unknown value is the default (popular)."""
    try:
        return DigestOrder((text or "").strip().casefold())
    except ValueError:
        return DigestOrder.POPULAR


def ordered(
    papers: Sequence[StoredPaper], order: DigestOrder, likes: Mapping[int, int] | None = None
) -> list[StoredPaper]:
    return sorted(papers, key=order_key(order, likes))
