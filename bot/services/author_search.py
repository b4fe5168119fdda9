"""Search within one author's papers: `/search author:` and `paperbot search --author`.

An author has tens of papers, rarely a few hundred, so their papers are loaded and the
query's words are checked on each one (with the same word matching that explains every
search result) instead of asking the engine for the whole corpus and filtering its best
fifty: that could miss the author's papers ranked below them and miscount the total.
Every total here is exact.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from bot.core.authors import author_key
from bot.core.models import ParsedQuery, SearchHit, SearchResponse, StoredPaper
from bot.core.rank import combined_score, explain
from bot.core.sources import SourceFilter, source_reason

# More papers under one key than any real author has (common names share a key; the
# busiest key in 10k real HF papers holds about 100): the newest this many are searched.
AUTHOR_PAPERS_CAP = 2000
# The labels `explain` puts before the words a paper holds.
_WORD_REASONS = ("title: ", "abstract: ", "keywords: ")


def author_label(papers: Sequence[StoredPaper], key: str) -> str:
    """How the author is written on their newest paper (the key if none says)."""
    for paper in sorted(papers, key=lambda p: p.last_seen, reverse=True):
        for name in paper.authors:
            if author_key(name) == key:
                return name
    return key


def _words_held(why: list[str]) -> set[str]:
    held: set[str] = set()
    for reason in why:
        for label in _WORD_REASONS:
            if reason.startswith(label):
                held.update(w.strip() for w in reason[len(label) :].split(","))
    return held


def _wanted_words(query: ParsedQuery) -> set[str]:
    wanted = set(query.terms) | {f"{p}*" for p in query.prefixes}
    wanted.update(w for phrase in query.phrases for w in phrase)
    return wanted


async def search_author(
    key: str,
    query: ParsedQuery,
    *,
    papers_of: Callable[[str, int], Awaitable[list[int]]],
    load: Callable[[list[int]], Awaitable[list[StoredPaper]]],
    passes: Callable[[StoredPaper], bool],
    topic_reason: str | None,
    source: SourceFilter,
    limit: int,
) -> SearchResponse:
    """The author's papers that pass the filters (`passes`: topic, since, source) and
    hold every word of `query`, best first; newest first without a query."""
    ids = await papers_of(key, AUTHOR_PAPERS_CAP)
    papers = [p for p in await load(ids) if passes(p)]
    label = author_label(papers, key)
    wanted = _wanted_words(query)
    scored: list[tuple[float, StoredPaper, list[str]]] = []
    for paper in papers:
        why = explain(paper, query) if not query.empty else []
        if wanted and not wanted <= _words_held(why):
            continue
        score = (
            combined_score(paper.title, query, 1.0, 1.0, has_every_word=True)
            if not query.empty
            else 0.0
        )
        scored.append((score, paper, why))
    scored.sort(key=lambda s: (-s[0], -s[1].last_seen.toordinal(), s[1].id))
    hits = []
    for score, paper, why in scored[:limit]:
        reasons = [*why, f"author: {label}"]
        if topic_reason is not None:
            reasons.append(topic_reason)
        from_source = source_reason(source, paper.categories)
        if from_source is not None:
            reasons.append(from_source)
        hits.append(SearchHit(paper=paper, score=round(score, 4), why=tuple(reasons)))
    return SearchResponse(hits=hits, total=len(scored))
