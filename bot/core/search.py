"""Keyword and topic search over a Storage, ranked and explained.

The engine (FTS5 BM25, titles weighted ×10) finds candidates; this module corrects
misspelled words against the vocabulary, adds acronym and title-similarity signals
with rapidfuzz, and says for each result why it matched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from bot.core.models import ParsedQuery, SearchHit, SearchResponse, StoredPaper, Topic
from bot.core.query import correct_spelling, describe, parse_query
from bot.core.rank import combined_score, explain
from bot.core.text import normalize_title
from storage.base import Storage

CANDIDATES = 50  # engine results reranked per query
TITLE_POOL = 200  # title candidates scored with rapidfuzz per autocomplete keystroke
MAX_LIMIT = 100


class SearchService:
    """Spelling correction needs the vocabulary in memory; it is reloaded whenever
    storage reports new data, including ingests by another process. Everything else is
    asked of storage per query, so memory stays flat however large the corpus grows."""

    def __init__(self, storage: Storage, topics: Sequence[Topic]) -> None:
        self.storage = storage
        self.topics = {t.slug: t for t in topics}
        self._version: int | None = None
        self._vocabulary: dict[str, int] = {}
        self._by_length: dict[int, list[str]] = {}

    async def _refresh(self) -> None:
        version = await self.storage.data_version()
        if version == self._version:
            return
        self._vocabulary = await self.storage.vocabulary()
        by_length: dict[int, list[str]] = {}
        for term in self._vocabulary:
            by_length.setdefault(len(term), []).append(term)
        self._by_length = by_length
        self._version = version

    async def search(
        self,
        text: str | None,
        *,
        topic: str | None = None,
        since: dt.date | None = None,
        limit: int = 10,
        topic_label: str | None = None,
    ) -> SearchResponse:
        """Results for a query, a topic, or both. Never raises on odd user text.

        `topic_label` is the topic's display name when the caller knows it (a guild's
        own topics are not in the built-in taxonomy this service holds)."""
        limit = max(1, min(limit, MAX_LIMIT))
        query = parse_query(text or "")
        if query.empty:
            if topic is None:
                return SearchResponse(hits=[])
            return await self._topic_only(topic, since, limit, topic_label)
        await self._refresh()
        query, corrections = correct_spelling(query, self._vocabulary, self._by_length)
        pool = max(CANDIDATES, limit)
        found = await self.storage.text_search(
            query, match_all=True, topic=topic, since=since, limit=pool
        )
        complete = {pid for pid, _ in found}
        if len(found) < limit:
            # Too few papers hold every word: widen to any word, ranked below.
            extra = await self.storage.text_search(
                query, match_all=False, topic=topic, since=since, limit=pool
            )
            found += [(pid, score) for pid, score in extra if pid not in complete]
        engine = dict(found)
        for pid in await self.storage.papers_by_name(self._name_keys(query)):
            engine.setdefault(pid, 0.0)
        papers = await self.storage.get_papers(list(engine))
        if topic is not None or since is not None:
            papers = [p for p in papers if _passes(p, topic, since)]
        hits = self._rank(papers, engine, complete, query, corrections, topic, topic_label, limit)
        return SearchResponse(
            hits=hits[:limit],
            corrected=describe(query) if corrections else None,
            total=len(hits),
        )

    @staticmethod
    def _name_keys(query: ParsedQuery) -> list[str]:
        return [normalize_title(" ".join(query.all_words())), *query.terms]

    def _rank(
        self,
        papers: list[StoredPaper],
        engine: dict[int, float],
        complete: set[int],
        query: ParsedQuery,
        corrections: dict[str, str],
        topic: str | None,
        topic_label: str | None,
        explain_first: int,
    ) -> list[SearchHit]:
        best = max(engine.values(), default=0.0)
        scored = sorted(
            ((combined_score(p, query, engine[p.id], best, p.id in complete), p) for p in papers),
            # Ties (equal scores) go to the more recent paper, then the older id.
            key=lambda item: (-item[0], -item[1].last_seen.toordinal(), item[1].id),
        )
        hits = []
        for rank, (score, paper) in enumerate(scored):
            # Only results that will be shown are explained; the rest only count.
            why = explain(paper, query, corrections) if rank < explain_first else []
            if topic is not None:
                why.append(f"topic: {topic_label or self.topic_name(topic)}")
            hits.append(SearchHit(paper=paper, score=round(score, 4), why=tuple(why)))
        return hits

    async def _topic_only(
        self, topic: str, since: dt.date | None, limit: int, label: str | None
    ) -> SearchResponse:
        ranked = await self.storage.topic_papers(topic, since=since, limit=limit)
        papers = await self.storage.get_papers([pid for pid, _ in ranked])
        scores = dict(ranked)
        hits = []
        for paper in papers:
            rules = next((t.why for t in paper.topics if t.topic == topic), ())
            reason = f"topic: {label or self.topic_name(topic)}"
            if rules:
                reason += " (" + ", ".join(rules[:4]) + ")"
            hits.append(SearchHit(paper=paper, score=round(scores[paper.id], 4), why=(reason,)))
        return SearchResponse(hits=hits, total=len(hits))

    def topic_name(self, slug: str) -> str:
        topic = self.topics.get(slug)
        return topic.name if topic else slug

    async def title_choices(self, text: str, limit: int = 25) -> list[tuple[int, str]]:
        """Autocomplete: the titles closest to what was typed (newest first when empty).

        The index narrows a million titles to a few hundred holding the typed words
        (the last one as a prefix); rapidfuzz orders those."""
        limit = max(1, min(limit, 25))
        typed = parse_query(text or "")
        if typed.empty:
            return await self.storage.recent_titles(limit)
        words = list(typed.all_words())
        as_you_type = ParsedQuery(tuple(words[:-1]), (words[-1],), ())
        pool = await self.storage.title_candidates(as_you_type, TITLE_POOL)
        await self._refresh()
        corrected, corrections = correct_spelling(typed, self._vocabulary, self._by_length)
        if corrections or len(pool) < limit:
            pool += await self.storage.title_candidates(corrected, TITLE_POOL)
        unique = list(dict(pool).items())
        if not unique:
            return []
        matches = process.extract(
            default_process(text),
            [default_process(title) for _, title in unique],
            scorer=fuzz.WRatio,
            processor=None,
            limit=limit,
            score_cutoff=50,
        )
        return [unique[index] for _, _, index in matches]

    async def find_paper(self, text: str) -> StoredPaper | None:
        """The paper a user means by a title (exact, then fuzzy) or an id like `#12`."""
        stripped = text.strip().lstrip("#")
        if stripped.isdigit():
            found = await self.storage.get_papers([int(stripped)])
            if found:
                return found[0]
        choices = await self.title_choices(text, limit=1)
        if not choices:
            return None
        found = await self.storage.get_papers([choices[0][0]])
        return found[0] if found else None


def _passes(paper: StoredPaper, topic: str | None, since: dt.date | None) -> bool:
    if topic is not None and topic not in {t.topic for t in paper.topics}:
        return False
    return since is None or paper.last_seen >= since
