"""A member's own reading, as the Discord side shows it: one paper with their feedback
on it, a click on 👍 / 👎 / 🔖 and its undo, their saved papers (and as BibTeX), and
forgetting them. Built on `RelevanceService` (which keeps the member's model current)
and the storage ports; no Discord."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from bot.core.bibtex import bibtex
from bot.core.feedback import FeedbackAction, FeedbackSignal, ForgetCounts, PaperFeedback
from bot.core.models import StoredPaper
from bot.core.ports import Feedback, PaperReader, PaperSearch
from bot.services.refusals import Refused
from bot.services.relevance_service import Recommendation, RelevanceService

GONE = "That paper is no longer stored."
EXPORT_LIMIT = 2000  # saved papers in one .bib (far more than anyone saves)


class ReadingStore(Feedback, PaperSearch, PaperReader, Protocol):
    """Feedback, papers by id, and the stored days."""


@dataclass(frozen=True)
class PaperState:
    """One paper and the member's feedback on it (None: none)."""

    paper: StoredPaper
    feedback: PaperFeedback | None


@dataclass(frozen=True)
class Click:
    """What one click changed: the feedback before (for Undo) and after."""

    paper: StoredPaper
    before: PaperFeedback | None
    after: PaperFeedback | None

    @property
    def changed(self) -> bool:
        return _state(self.before) != _state(self.after)


@dataclass(frozen=True)
class SavedList:
    papers: list[StoredPaper]
    total: int
    page: int  # 1-based, clamped to the pages there are
    per_page: int


@dataclass(frozen=True)
class Related:
    paper: StoredPaper
    picks: list[Recommendation]


def _state(feedback: PaperFeedback | None) -> tuple[str, bool]:
    if feedback is None:
        return ("none", False)
    return (str(feedback.signal), feedback.saved)


class ReadingService:
    def __init__(self, *, relevance: RelevanceService, store: ReadingStore) -> None:
        self.relevance = relevance
        self.store = store

    async def _paper(self, paper_id: int) -> StoredPaper:
        found = await self.store.get_papers([paper_id])
        if not found:
            raise Refused(GONE)
        return found[0]

    async def paper(self, user_id: int, paper_id: int) -> PaperState:
        """The paper with the member's feedback on it (what its buttons show)."""
        paper = await self._paper(paper_id)
        feedback = (await self.relevance.feedback_on(user_id, [paper_id])).get(paper_id)
        return PaperState(paper, feedback)

    async def click(
        self, user_id: int, paper_id: int, action: FeedbackAction, guild_id: int | None
    ) -> Click:
        """One 👍 / 👎 / 🔖 click; the same click again changes nothing."""
        paper = await self._paper(paper_id)
        before = (await self.relevance.feedback_on(user_id, [paper_id])).get(paper_id)
        after = await self.relevance.rate(user_id, paper_id, action, guild_id)
        return Click(paper, before, after)

    async def undo(self, user_id: int, paper_id: int, previous: PaperFeedback | None) -> Click:
        """Put back the feedback a click replaced."""
        paper = await self._paper(paper_id)
        before = (await self.relevance.feedback_on(user_id, [paper_id])).get(paper_id)
        after = await self.relevance.restore(user_id, paper_id, previous)
        return Click(paper, before, after)

    async def related(self, paper_id: int, k: int = 5) -> Related:
        paper = await self._paper(paper_id)
        try:
            picks = await self.relevance.related(paper_id, k=k)
        except LookupError:
            raise Refused(GONE) from None
        return Related(paper, picks)

    async def saved(self, user_id: int, page: int, per_page: int) -> SavedList:
        """One page of the member's saved papers, newest save first."""
        page = max(page, 1)
        found = await self.store.saved_papers(user_id, (page - 1) * per_page, per_page)
        last = max(1, -(-found.total // per_page))
        if page > last and found.total:
            page = last
            found = await self.store.saved_papers(user_id, (page - 1) * per_page, per_page)
        papers = await self.store.get_papers(list(found.paper_ids))
        return SavedList(papers, found.total, page, per_page)

    async def saved_bibtex(self, user_id: int) -> tuple[str, int]:
        """The member's saved papers as a .bib file's text, and how many."""
        found = await self.store.saved_papers(user_id, 0, EXPORT_LIMIT)
        papers = await self.store.get_papers(list(found.paper_ids))
        return bibtex(papers), len(papers)

    async def days(self, limit: int = 25) -> list[dt.date]:
        """Days that have papers, newest first (what `/foryou day` offers)."""
        return await self.store.days(limit=limit)

    async def forget(self, user_id: int) -> ForgetCounts:
        return await self.relevance.forget_member(user_id)


def feedback_of(signal: str, saved: bool, guild_id: int | None) -> PaperFeedback | None:
    """Feedback as an Undo button carries it (no user: `restore` needs only these)."""
    value = FeedbackSignal(signal)
    if value is FeedbackSignal.NONE and not saved:
        return None
    return PaperFeedback(0, 0, value, saved, guild_id)
