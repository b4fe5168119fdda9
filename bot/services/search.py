"""Keyword and topic search over the PaperSearch port, ranked and explained.

The engine (the backend's BM25, titles weighted ×10) finds candidates; this module
corrects misspelled words against the vocabulary, adds acronym and title-similarity
signals with rapidfuzz, and says for each result why it matched.

Per query, storage is asked for the candidates (one engine lookup, two when few papers
hold every word), their titles (all the ranking needs) and then only the shown page's
full papers: loading all fifty candidates' abstracts, days and topics was the largest
cost of a search before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from bot.core.arxiv import arxiv_reference
from bot.core.authors import author_key
from bot.core.models import (
    PaperLookup,
    ParsedQuery,
    SearchHit,
    SearchResponse,
    StoredPaper,
    Topic,
)
from bot.core.ports import PaperSearch
from bot.core.query import (
    MAX_TERMS,
    Vocabulary,
    correct_spelling,
    describe,
    parse_query,
    without_fillers,
)
from bot.core.rank import combined_score, explain
from bot.core.sources import ALL_SOURCES, SourceFilter, search_sources, source_reason
from bot.core.text import normalize_title, words
from bot.core.title_match import ALL_WORDS, RESEMBLES, Typed, tier
from bot.core.typed_ids import typed_id
from bot.services.author_search import search_author
from bot.services.offload import off_loop
from bot.services.refusals import Refused

CANDIDATES = 50  # engine results reranked per query
TITLE_POOL = 200  # title candidates scored with rapidfuzz per autocomplete keystroke
MAX_LIMIT = 100
# Beyond this many matches a backend may stop counting ("1,000+"); where counting is
# free (tantivy counts while it ranks) the total stays exact.
COUNT_CAP = 1000
MIN_SIMILARITY = 50  # a title that only resembles the typed text must be this close
# Fewer papers than this holding every word: the search widens to papers holding any of
# them, ranked below. A fixed number rather than the page size, so a query gets the same
# results and the same count in the CLI (10 a page) as in Discord (50 fetched).
WIDEN_BELOW = 10


class SearchSort(StrEnum):
    RELEVANCE = "relevance"  # the query's words and meaning (the default)
    FOR_YOU = "for you"  # the member's model: what they like first, among the matches


class Meaning(Protocol):
    """Scores by meaning (RelevanceService): the engine's candidates reranked by their
    similarity to the query, and a member's model's scores for the *for you* sort."""

    async def hybrid_scores(
        self, query: str, engine_scores: Mapping[int, float]
    ) -> dict[int, float]: ...

    async def member_scores(self, user_id: int, paper_ids: Sequence[int]) -> dict[int, float]: ...

    @property
    def stats_version(self) -> int:
        """Changes whenever the statistics the scores are weighed by change."""
        ...

    def forget_stats(self) -> None:
        """Read the statistics from storage again at the next use (another process
        changed them)."""


class Elsewhere(Protocol):
    """Searches worked out outside this process (bot/services/search_processes.py):
    None when that failed and the search is to run here after all."""

    async def search(
        self, text: str | None, options: dict[str, Any], stats_version: int
    ) -> SearchResponse | None: ...

    async def title_choices(self, text: str, limit: int) -> list[tuple[int, str]] | None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class HitReasons:
    """Why a hit matched: a search's `explain_hit`. Plain data rather than a closure, so
    a response worked out in a worker process (bot/services/search_processes.py)
    travels back with it, and later pages are explained as they would be here."""

    query: ParsedQuery
    topic_reason: str | None  # "topic: Biology" when the search was for a topic
    source: SourceFilter

    def __call__(self, hit: SearchHit) -> SearchHit:
        # Spelling corrections are said once, for the whole reply (SearchResponse).
        why = explain(hit.paper, self.query)
        if self.topic_reason is not None:
            why.append(self.topic_reason)
        from_source = source_reason(self.source, hit.paper.categories)
        if from_source is not None:
            why.append(from_source)
        return replace(hit, why=tuple(why))


class SearchService:
    """Spelling correction needs the vocabulary in memory; it is reloaded whenever
    storage reports new data, including ingests by another process. Everything else is
    asked of storage per query, so memory stays flat however large the corpus grows.

    With `meaning`, a word query's candidates are reranked by hybrid ranking (the
    keyword score + similarity of meaning, docs/RELEVANCE.md), so natural-language
    queries find what they ask for."""

    def __init__(
        self, storage: PaperSearch, topics: Sequence[Topic], meaning: Meaning | None = None
    ) -> None:
        self.storage = storage
        self.meaning = meaning
        self.topics = {t.slug: t for t in topics}
        self._version: int | None = None
        self._vocabulary = Vocabulary({})
        self._categories: tuple[int | None, list[str]] = (None, [])
        # Where searches run when not here (set by the composition root): worker
        # processes, so their CPU is not spent under the event loop's GIL.
        self.elsewhere: Elsewhere | None = None

    async def _refresh(self) -> None:
        version = await self.storage.data_version()
        if version == self._version:
            return
        self._vocabulary = Vocabulary(await self.storage.vocabulary())
        self._version = version

    async def close(self) -> None:
        """Stop the worker processes, if searches run in some."""
        if self.elsewhere is not None:
            await self.elsewhere.close()

    async def categories_seen(self) -> list[str]:
        """The arXiv categories of stored papers and their archives (`cs.CL`, `cs`),
        those of the most papers first: what source autocomplete offers. Counted once
        per change of the data, not per keystroke."""
        version = await self.storage.data_version()
        if self._categories[0] != version:
            papers: dict[str, int] = {}
            for category, count in (await self.storage.category_counts()).items():
                papers[category] = papers.get(category, 0) + count
                archive = category.split(".", 1)[0]
                if archive != category:
                    # An upper bound for the archive (a paper in two of its categories
                    # counts twice): good enough to order the choices.
                    papers[archive] = papers.get(archive, 0) + count
            ordered = sorted(papers, key=lambda c: (-papers[c], c))
            self._categories = (version, ordered)
        return self._categories[1]

    async def search(
        self,
        text: str | None,
        *,
        topic: str | None = None,
        since: dt.date | None = None,
        limit: int = 10,
        topic_label: str | None = None,
        source: SourceFilter = ALL_SOURCES,
        author: str | None = None,
        for_user: int | None = None,
        explain_first: int | None = None,
    ) -> SearchResponse:
        """Results for a query, a topic, a source, or any of them together. Never
        raises on odd user text. `author` (a name; accents and initials match, as
        `bot.core.authors` keys them) keeps that author's papers only. `for_user`: the
        matches in that member's order (their model's score), the query's own order
        breaking ties.

        `topic_label` is the topic's display name when the caller knows it (a guild's
        own topics are not in the built-in taxonomy this service holds). `source` keeps
        papers ever listed by that source (and in those arXiv categories).

        `explain_first`: say why only the first so many hits matched (the page shown
        first); the rest are explained by `SearchResponse.explained_to` when shown.
        None explains every hit."""
        if self.elsewhere is not None and for_user is None:
            # (A member's own order needs their model, kept and updated here.)
            options: dict[str, Any] = {
                "topic": topic,
                "since": since,
                "limit": limit,
                "topic_label": topic_label,
                "source": source,
                "author": author,
                "explain_first": explain_first,
            }
            version = self.meaning.stats_version if self.meaning is not None else 0
            answered = await self.elsewhere.search(text, options, version)
            if answered is not None:
                return answered
        response = await self._search_here(
            text, topic, since, limit, topic_label, source, author, for_user, explain_first
        )
        if since is not None and not response.hits:
            # Nothing that recent: say whether older papers match, so the member widens
            # the date rather than rewording a search that is right.
            older = await self._search_here(
                text, topic, None, 1, topic_label, source, author, None, 0
            )
            if older.total:
                response = replace(response, older=older.total, older_exact=older.total_exact)
        return response

    async def _search_here(
        self,
        text: str | None,
        topic: str | None,
        since: dt.date | None,
        limit: int,
        topic_label: str | None,
        source: SourceFilter,
        author: str | None,
        for_user: int | None,
        explain_first: int | None,
    ) -> SearchResponse:
        limit = max(1, min(limit, MAX_LIMIT))
        query = parse_query(text or "")
        if author is not None:
            return await self._by_author(author, query, topic, since, limit, topic_label, source)
        if query.empty:
            if topic is not None:
                return await self._topic_only(topic, since, limit, topic_label, source)
            if not source.everything:
                return await self._source_only(source, since, limit)
            return SearchResponse(hits=[])
        await self._refresh()
        query, corrections = correct_spelling(query, self._vocabulary)
        # The whole query names a paper by its title (stop words and all); its content
        # words are what papers are matched and ranked by.
        typed, query = query, without_fillers(query)
        pool = max(CANDIDATES, limit)
        matches = await self.storage.text_matches(
            query,
            match_all=True,
            topic=topic,
            since=since,
            limit=pool,
            count_up_to=COUNT_CAP,
            source=source,
        )
        found = list(matches.ranked)
        complete = {pid for pid, _ in found}
        every_word: int | None = None
        if len(found) < WIDEN_BELOW and _pieces(query) > 1:
            # Too few papers hold every word: widen to any word, ranked below. Those
            # papers match too, so they are what the total counts; the reply says how
            # many of them hold every word.
            every_word = len(found)
            matches = await self.storage.text_matches(
                query,
                match_all=False,
                topic=topic,
                since=since,
                limit=pool,
                count_up_to=COUNT_CAP,
                source=source,
            )
            found += [(pid, score) for pid, score in matches.ranked if pid not in complete]
        engine = dict(found)
        named = [
            pid
            for pid in await self.storage.papers_by_name(self._name_keys(typed))
            if pid not in engine
        ]
        engine.update(dict.fromkeys(named, 0.0))
        best = max(engine.values(), default=0.0)
        loaded: dict[int, StoredPaper] = {}
        if named and (topic is not None or since is not None or not source.everything):
            # The engine applied the filters to its own results; a paper found only by
            # its short name still has to pass them.
            loaded = {p.id: p for p in await self.storage.get_papers(named)}
            for pid in named:
                if pid not in loaded or not _passes(loaded[pid], topic, since, source):
                    del engine[pid]
        # Ranking needs only each candidate's title; the full papers (abstract, days,
        # topics) are loaded for the few that will be shown.
        titles = dict(await self.storage.titles(list(engine)))
        scores = {
            pid: combined_score(title, query, engine[pid], best, pid in complete)
            for pid, title in titles.items()
        }
        personal: dict[int, float] = {}
        if self.meaning is not None:
            scores = await self.meaning.hybrid_scores(text or "", scores)
            if for_user is not None:
                personal = await self.meaning.member_scores(for_user, list(scores))
        # Widened, the papers holding every word (or named by the query) come first
        # whatever their score, as the reply says; papers with some of the words follow.
        leading = (complete | set(named)) & set(scores) if every_word is not None else set()

        def rank(pid: int) -> tuple[bool, float, float]:
            return pid in leading, personal.get(pid, 0.0), scores[pid]

        ranked = sorted(scores, key=rank, reverse=True)
        shown = ranked
        if len(ranked) > limit:
            # Equal scores are ordered by recency, which needs the paper: load every
            # candidate ranking at least as well as the last one shown.
            cutoff = rank(ranked[limit - 1])
            shown = [pid for pid in ranked if rank(pid) >= cutoff]
        wanted = [pid for pid in shown if pid not in loaded]
        loaded.update((p.id, p) for p in await self.storage.get_papers(wanted))
        papers = [loaded[pid] for pid in shown if pid in loaded]
        papers.sort(
            key=lambda p: (
                p.id not in leading,
                -personal.get(p.id, 0.0),
                -scores[p.id],
                -p.last_seen.toordinal(),
                p.id,
            )
        )
        hits = [SearchHit(paper=p, score=round(scores[p.id], 4), why=()) for p in papers[:limit]]

        explain_hit = HitReasons(
            query,
            f"topic: {topic_label or self.topic_name(topic)}" if topic is not None else None,
            source,
        )
        # Explaining fifty hits is milliseconds of CPU, a fifth of a search's: only the
        # hits shown first are explained now, and not on the event loop.
        unexplained = SearchResponse(hits=hits, explained=0, explain_hit=explain_hit)
        explained = await off_loop(
            lambda: unexplained.explained_to(len(hits) if explain_first is None else explain_first)
        )
        hits = explained.hits
        # The engine's count, plus papers found only by their short name (which no word
        # query matches), less any that vanished since they were ranked.
        named_only = len(set(named) & set(engine))
        total = matches.total + named_only - (len(shown) - len(papers))
        if every_word is not None:
            vanished = sum(1 for pid in shown if pid in leading and pid not in loaded)
            every_word = len(leading) - vanished
            if total <= every_word:
                every_word = None  # widening found nothing more: all hold every word
        return SearchResponse(
            hits=hits,
            corrected=describe(typed) if corrections else None,
            total=max(total, len(hits)),
            total_exact=matches.exact,
            corrections=tuple(corrections.items()),
            every_word=every_word,
            explained=explained.explained,
            explain_hit=explain_hit,
        )

    async def _by_author(
        self,
        author: str,
        query: ParsedQuery,
        topic: str | None,
        since: dt.date | None,
        limit: int,
        topic_label: str | None,
        source: SourceFilter,
    ) -> SearchResponse:
        key = author_key(author)
        if not key:
            raise Refused("An author's name needs letters.")
        corrections: dict[str, str] = {}
        if not query.empty:
            await self._refresh()
            query, corrections = correct_spelling(query, self._vocabulary)
        response = await search_author(
            key,
            query,
            papers_of=self.storage.papers_by_author,
            load=self.storage.get_papers,
            passes=lambda paper: _passes(paper, topic, since, source),
            topic_reason=(
                f"topic: {topic_label or self.topic_name(topic)}" if topic is not None else None
            ),
            source=source,
            limit=limit,
        )
        if not corrections:
            return response
        return replace(response, corrected=describe(query), corrections=tuple(corrections.items()))

    @staticmethod
    def _name_keys(query: ParsedQuery) -> list[str]:
        return [normalize_title(" ".join(query.all_words())), *query.terms]

    async def _source_only(
        self, source: SourceFilter, since: dt.date | None, limit: int
    ) -> SearchResponse:
        """Every paper from `source` (seen since `since`), newest first."""
        matches = await self.storage.recent_matches(
            source=source, since=since, limit=limit, count_up_to=COUNT_CAP
        )
        papers = await self.storage.get_papers([pid for pid, _ in matches.ranked])
        hits = [
            SearchHit(paper=paper, score=0.0, why=(source_reason(source, paper.categories) or "",))
            for paper in papers
        ]
        missing = len(matches.ranked) - len(papers)
        return SearchResponse(
            hits=hits, total=max(matches.total - missing, len(hits)), total_exact=matches.exact
        )

    async def _topic_only(
        self,
        topic: str,
        since: dt.date | None,
        limit: int,
        label: str | None,
        source: SourceFilter = ALL_SOURCES,
    ) -> SearchResponse:
        matches = await self.storage.topic_matches(
            topic, since=since, limit=limit, count_up_to=COUNT_CAP, source=source
        )
        papers = await self.storage.get_papers([pid for pid, _ in matches.ranked])
        scores = dict(matches.ranked)
        hits = []
        for paper in papers:
            rules = next((t.why for t in paper.topics if t.topic == topic), ())
            reason = f"topic: {label or self.topic_name(topic)}"
            if rules:
                reason += " (" + ", ".join(rules[:4]) + ")"
            why: tuple[str, ...] = (reason,)
            from_source = source_reason(source, paper.categories)
            if from_source is not None:
                why += (from_source,)
            hits.append(SearchHit(paper=paper, score=round(scores[paper.id], 4), why=why))
        missing = len(matches.ranked) - len(papers)
        return SearchResponse(
            hits=hits, total=max(matches.total - missing, len(hits)), total_exact=matches.exact
        )

    def topic_name(self, slug: str) -> str:
        topic = self.topics.get(slug)
        return topic.name if topic else slug

    async def title_choices(self, text: str, limit: int = 25) -> list[tuple[int, str]]:
        """Autocomplete: the titles that best match what was typed (newest first when
        nothing was). A pasted arXiv id or link offers that paper.

        The index narrows a million titles to a few hundred: those holding the typed
        words in a row, then those holding each word (the last one as a prefix). They
        are ranked by how literally they hold the typed text (bot.core.title_match),
        then by rapidfuzz similarity."""
        if self.elsewhere is not None:
            # Each keystroke's index lookup and fuzzy ranking is CPU too.
            choices = await self.elsewhere.title_choices(text, limit)
            if choices is not None:
                return choices
        limit = max(1, min(limit, 25))
        arxiv_id = arxiv_reference(text or "")
        if arxiv_id is not None:
            paper = await self._by_arxiv(arxiv_id)
            return [(paper.id, paper.title)] if paper else []
        typed = words(text or "")[:MAX_TERMS]
        if not typed:
            return await self.storage.recent_titles(limit)
        await self._refresh()
        # The last word is usually half-typed: it is looked up as a prefix, and only
        # corrected when no known word starts with it. Typed as one phrase so the words
        # keep their order (and repeats) through the correction.
        corrected, corrections = correct_spelling(
            ParsedQuery(phrases=(tuple(typed),)), self._vocabulary, keep_last=True
        )
        fixed = list(corrected.phrases[0]) if corrected.phrases else typed
        found = await self.storage.title_candidates(_as_you_type(typed), TITLE_POOL, text)
        spellings = [Typed.of(text)]
        if corrections:
            spellings.append(Typed.of(" ".join(fixed)))
            # The vocabulary holds the words of papers as first stored; a title edited
            # since can hold a word it lacks (`Moedls`). So the text as typed is looked
            # up first, and the corrected words only when no title holds every word.
            if not any(tier(spellings[:1], title) <= ALL_WORDS for _, title in found):
                found += await self.storage.title_candidates(_as_you_type(fixed), TITLE_POOL)
        pool = list(dict(found).items())
        if not pool:
            return []
        similarity = process.extract(
            default_process(text),
            [default_process(title) for _, title in pool],
            scorer=fuzz.WRatio,
            processor=None,
            limit=None,
        )
        ranked = []
        for score, index in ((score, index) for _, score, index in similarity):
            pid, title = pool[index]
            level = tier(spellings, title)
            if level == RESEMBLES and score < MIN_SIMILARITY:
                continue
            # Better tier first; within one, more similar, then the index's order.
            ranked.append(((level, -score, index), (pid, title)))
        ranked.sort(key=lambda item: item[0])
        return [choice for _, choice in ranked[:limit]]

    async def open_paper(self, text: str) -> PaperLookup:
        """The paper a user means: an id like `#12` (an autocomplete choice's value),
        an arXiv id or link, or a title or part of one. A bare number is part of a
        title (`23` in `... for 23 African Languages`), not an id."""
        stripped = text.strip()
        pid = typed_id(stripped[1:]) if stripped.startswith("#") else None
        if pid is not None:
            found = await self.storage.get_papers([pid])
            if found:
                return PaperLookup(found[0])
        named = await self.arxiv_paper(text)
        if named is not None:
            return named
        if not words(text):
            return PaperLookup(None)  # `???` names no title (autocomplete's "newest")
        choices = await self.title_choices(text, limit=1)
        if not choices:
            return PaperLookup(None)
        found = await self.storage.get_papers([choices[0][0]])
        return PaperLookup(found[0] if found else None)

    async def find_paper(self, text: str) -> StoredPaper | None:
        """The paper a user means by a title (exact, then fuzzy), an arXiv id or an id
        like `#12`; None when nothing matches."""
        return (await self.open_paper(text)).paper

    async def arxiv_paper(self, text: str) -> PaperLookup | None:
        """None when `text` is not an arXiv id or link; else the lookup of that id (its
        paper None when no stored paper has it)."""
        arxiv_id = arxiv_reference(text)
        if arxiv_id is None:
            return None
        return PaperLookup(await self._by_arxiv(arxiv_id), arxiv_id)

    async def _by_arxiv(self, arxiv_id: str) -> StoredPaper | None:
        # A dump may spell an old-style id in lower case (`math.gt/0309136`).
        pid = await self.storage.paper_by_arxiv_id([arxiv_id, arxiv_id.lower()])
        if pid is None:
            return None
        found = await self.storage.get_papers([pid])
        return found[0] if found else None


def _as_you_type(typed: list[str]) -> ParsedQuery:
    """Typed words as autocomplete looks them up: the last one perhaps half-typed."""
    return ParsedQuery(tuple(typed[:-1]), (typed[-1],), ())


def _pieces(query: ParsedQuery) -> int:
    """How many words, prefixes and phrases a query asks for: with one, "any of them"
    is "all of them" and there is nothing to widen to."""
    return len(query.terms) + len(query.prefixes) + len(query.phrases)


def _passes(
    paper: StoredPaper, topic: str | None, since: dt.date | None, source: SourceFilter
) -> bool:
    if topic is not None and topic not in {t.topic for t in paper.topics}:
        return False
    if not source.accepts(search_sources(paper.sources, paper.categories), paper.categories):
        return False
    return since is None or paper.last_seen >= since
