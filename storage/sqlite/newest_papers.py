"""Counting on the newest papers, where counting every match is what a search avoids.

A search that answers from a few candidates (a lone phrase, words most papers hold)
must not then count every paper it matches: that walk is what it saved. It counts
among the newest papers instead, a lower bound once it reaches what the reply shows,
and it first asks the latest days' papers whether a costly way is worth trying. Mixed
into SearchIndex (storage/sqlite/search_index.py) through LonePhraseSearch.
"""

from __future__ import annotations

import math
from typing import cast

import tantivy

from storage.sqlite.index_terms import _matched

# Whether enough papers match is estimated on the papers of the latest days: as many as
# would hold this many matches at the rate asked about (_likely_many).
LIKELY_MANY_SAMPLE = 200
# A slice of the latest days (_latest_days) takes at most this many days with papers
# (each is a term of a union tantivy walks), looking back at most LATEST_DAYS_BACK days.
LATEST_DAYS_HELD = 64
LATEST_DAYS_BACK = 4000


class NewestPapers:
    """The newest papers of the index they are mixed into, as filters and counts."""

    index: tantivy.Index
    schema: tantivy.Schema
    _highest: tuple[tuple[int, int] | None, tuple[int, int] | None]

    def _newest(self, searcher: tantivy.Searcher) -> tuple[int, int] | None:
        """The highest paper id indexed and the day it was last seen (None when empty),
        looked up once per index change: ordering every paper by id costs more than
        the counts it serves."""
        seen = (searcher.num_docs, searcher.num_segments)
        if self._highest[0] != seen:
            found = searcher.search(tantivy.Query.all_query(), 1, count=False, order_by_field="id")
            newest = None
            if found.hits:
                day = searcher.fast_field_values("last_seen", [found.hits[0][1]])[0]
                newest = (int(found.hits[0][0]), int(cast("int", day)))
            self._highest = (seen, newest)
        return self._highest[1]

    def _highest_id(self, searcher: tantivy.Searcher) -> int | None:
        newest = self._newest(searcher)
        return None if newest is None else newest[0]

    def _latest_days(self, searcher: tantivy.Searcher, size: int) -> tuple[tantivy.Query, int]:
        """The papers of the latest days, back from the newest paper's, until they are at
        least `size` (or LATEST_DAYS_HELD days, LATEST_DAYS_BACK back): a filter scoring
        nothing, and how many papers it holds (0: none). A day is one indexed term, so
        the filter leads tantivy's intersection, and its papers are counted from the
        term dictionary: about a millisecond at 3M papers, where a range of ids scans
        the whole id column (~5 ms)."""
        newest = self._newest(searcher)
        days: list[tuple[tantivy.Occur, tantivy.Query]] = []
        held = 0
        if newest is not None:
            for day in range(newest[1], newest[1] - LATEST_DAYS_BACK, -1):
                papers = searcher.doc_freq("last_seen", day)
                if papers:
                    term = tantivy.Query.term_query(self.schema, "last_seen", day)
                    days.append((tantivy.Occur.Should, term))
                    held += papers
                    if held >= size or len(days) >= LATEST_DAYS_HELD:
                        break
        latest = tantivy.Query.boolean_query(days)
        return tantivy.Query.const_score_query(latest, 0.0), held

    def _likely_many(self, searcher: tantivy.Searcher, query: tantivy.Query, papers: int) -> bool:
        """Whether `query` seems to match at least `papers` papers, judged on the papers
        of the latest days (_latest_days): False when they hold fewer matches than they
        would at that rate. Only a plan, never a result: the candidates' walk costs
        about what the plain query does, so a phrase found too rare only after it costs
        twice (`"text to image"` at 3M papers: 24,818 hold `text _ image`, a 100 ms
        walk, then the plain query's 100 ms). Days unlike the rest only send the phrase
        to the plain query, or to a walk that says None."""
        docs = max(searcher.num_docs, 1)
        if papers > docs:
            return False
        size = math.ceil(LIKELY_MANY_SAMPLE * docs / papers) if papers > 0 else docs
        if size >= docs:
            return True  # a small index: the walk is cheap, and says it exactly
        latest, held = self._latest_days(searcher, size)
        if not held:
            return True
        sliced = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, query), (tantivy.Occur.Must, latest)]
        )
        found = _matched(searcher.search(sliced, 1, count=True))
        return found * docs >= held * papers

    def _count_newest(self, query: tantivy.Query, enough: int, share: float) -> tuple[int, bool]:
        """How many papers `query` matches: counted among the newest papers only, a lower
        bound (False), once that finds `enough`; exactly (True) when it had to count
        them all. `share` is the largest share of papers it can match: the first slice
        is sized to find twice `enough` at that rate, and each next one is four times
        larger (a filter, or a phrase rarer than its words, matches fewer). A slice is
        the latest days (_latest_days) while they hold enough papers, else the highest
        ids."""
        searcher = self.index.searcher()
        top = self._highest_id(searcher)
        if top is None:
            return 0, True
        size = math.ceil(2 * enough / max(share, 1e-9))
        while True:
            if size >= top:
                return _matched(searcher.search(query, 1, count=True)), True
            newer, held = self._latest_days(searcher, size)
            if held < size:
                ids = tantivy.Query.range_query(
                    self.schema, "id", tantivy.FieldType.Integer, top - size + 1, top
                )
                newer = tantivy.Query.const_score_query(ids, 0.0)
            sliced = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, query), (tantivy.Occur.Must, newer)]
            )
            found = _matched(searcher.search(sliced, 1, count=True))
            if found >= enough:
                return found, False
            size *= 4
