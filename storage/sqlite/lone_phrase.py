"""Shortcuts for a search that is one quoted phrase (`"language model"`).

A phrase query checks word positions in every paper holding all its words (tantivy,
through its Python binding, scores every match: docs/PERFORMANCE.md): over common words
at a million papers that is hundreds of thousands of papers. Each shortcut here finds
the plain phrase query's best papers while checking far fewer, and says None when it
cannot show they are the best; the search index then runs the plain query. Mixed into
SearchIndex (storage/sqlite/search_index.py), whose index, schema and filters they use.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import tantivy

from bot.core.models import ParsedQuery
from bot.core.sources import SourceFilter
from storage.sqlite.index_terms import (
    _ALNUM,
    PAIR_FIELDS,
    TITLE_BOOST,
    _idf_sum,
    _ids,
    _matched,
    _words,
    phrase_pairs,
    stem_tokens,
    title_pairs,
)
from storage.sqlite.newest_papers import NewestPapers
from storage.sqlite.rescoring import id_filter, rescored

# A lone phrase goes through the papers holding it in their title (_title_phrase_top)
# when each of its words is in at least this many abstracts: below, the plain phrase
# query costs a few milliseconds at most.
COSTLY_PHRASE_PAPERS = 20_000
BM25_K1 = 1.2  # tantivy's BM25 constant (its `K1`)
# How far above its computed value the abstract-only ceiling of a phrase is put: the
# IDFs are also worked out with twice the documents, so this is margin on margin.
CEILING_MARGIN = 1.5
# A lone phrase of common-word pairs is scored on this many candidates per result asked
# for (at least MIN_PAIR_CANDIDATES): the best by their pair counts (see
# SearchIndex._paired_phrase_top).
PAIR_CANDIDATES_PER_RESULT = 4
MIN_PAIR_CANDIDATES = 200
# A lone phrase's words in more than this share of the abstracts (`of`, `the`) are left
# out of its candidate query (see SearchIndex._sparse_phrase_top).
SPARSE_PHRASE_SHARE = 0.5
# ... when at least this many papers hold its other words at their offsets: with fewer
# (`"chain of thought"`, 32,000 at a million papers) the plain query costs no more.
SPARSE_PHRASE_PAPERS = 50_000
# How far below its computed value the ratio bounding a phrase's score by its other
# words' is taken: tantivy counts documents a little differently (deleted ones).
SPARSE_BOUND_MARGIN = 0.999


class LonePhraseSearch(NewestPapers):
    """The shortcuts, as methods of the search index they are mixed into."""

    index: tantivy.Index
    schema: tantivy.Schema
    costly_phrase_papers: int
    min_pair_candidates: int
    sparse_phrase_papers: int

    def _filters(
        self, topic: str | None, since: dt.date | None, source: SourceFilter
    ) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        raise NotImplementedError

    def _words_query(
        self, quoted: str, fields: Sequence[str], boosts: dict[str, float]
    ) -> tantivy.Query:
        raise NotImplementedError

    @staticmethod
    def _ranked(
        searcher: tantivy.Searcher, hits: list[tuple[Any, tantivy.DocAddress]]
    ) -> list[tuple[int, float]]:
        raise NotImplementedError

    def _run_counted(self, query: tantivy.Query, limit: int) -> tuple[list[tuple[int, float]], int]:
        raise NotImplementedError

    def _costly_phrase(self, query: ParsedQuery, fields: Sequence[str]) -> str | None:
        """The quoted phrase when the query is one phrase and nothing else, over the
        title and the abstract, whose words are all in many abstracts (so the plain
        query has many papers to check); None otherwise."""
        if query.terms or query.prefixes or len(query.phrases) != 1:
            return None
        if set(fields) != {"title", "abstract"}:
            return None
        kept = [w for w in query.phrases[0] if _ALNUM.match(w)]
        if len(kept) < 2:
            return None
        quoted = '"' + " ".join(kept) + '"'
        searcher = self.index.searcher()
        fewest = min(searcher.doc_freq("abstract", stem) for stem in stem_tokens(quoted))
        return quoted if fewest >= self.costly_phrase_papers else None

    def _phrase_parts(self, quoted: str) -> list[tantivy.Query]:
        """The plain phrase query's two clauses, the title's (boosted) and the abstract's:
        their scores add up to its score."""
        return [
            self.index.parse_query(quoted, ["title"], {"title": TITLE_BOOST}),
            self.index.parse_query(quoted, ["abstract"], {}),
        ]

    def _candidates(
        self,
        searcher: tantivy.Searcher,
        by_field: dict[str, tantivy.Query],
        filters: list[tuple[tantivy.Occur, tantivy.Query]],
        limit: int,
    ) -> tuple[tantivy.SearchResult, int]:
        """The best papers by `by_field`'s title query (boosted as in the plain query)
        and abstract query, passing the filters: as many as are scored for `limit`
        results, with how many match in all (counting costs a phrase query nothing: it
        scores every match anyway); and that many."""
        candidates = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, tantivy.Query.boost_query(by_field["title"], TITLE_BOOST)),
                (tantivy.Occur.Should, by_field["abstract"]),
            ]
        )
        if filters:
            candidates = tantivy.Query.boolean_query([(tantivy.Occur.Must, candidates), *filters])
        wanted = max(limit * PAIR_CANDIDATES_PER_RESULT, self.min_pair_candidates)
        return searcher.search(candidates, wanted, count=True), wanted

    def _paired_phrase_top(
        self,
        quoted: str,
        topic: str | None,
        since: dt.date | None,
        source: SourceFilter,
        limit: int,
    ) -> tuple[list[tuple[int, float]], int] | None:
        """A lone phrase of common-word pairs: the plain query's best `limit` papers and
        how many hold the phrase (exact). None for a phrase with a rarer word or a stop
        word (no pairs), or when its best papers hold it in their abstracts only.

        The pair fields hold exactly the phrase's papers and how often each holds it.
        Ranked by BM25 over the pair terms (the title boosted as in the plain query),
        one term or a short phrase over short postings, the best few hundred are the
        candidates; the plain phrase query then scores only those, so the scores are
        its own. Where the best hold the phrase in their titles, above any score an
        abstract alone can give, the candidates hold them in practice: a title's pairs
        are all of its words' (its pair count is its length less one), so the pair
        ranking of titles follows the plain one, if not provably (the two fields' mean
        lengths differ a little). An abstract's pairs are its common-word pairs only,
        too few to stand for its length, and abstract-only rankings do differ: those are
        left to the plain query. Measured through the search service: `"language
        model"` 43-54 -> 10 ms of CPU at a million papers, 146-152 -> 20-24 at three;
        the same best 10 and 50 papers and scores as the plain query for every one of
        176 phrases of the 1M corpus' own texts this way (tests compare them on the
        sample and a generated corpus).
        """
        pairs = phrase_pairs(quoted)
        if pairs is None:
            return None
        searcher = self.index.searcher()
        by_pairs = {}
        for field, pair_field in PAIR_FIELDS.items():
            if len(pairs) == 1:
                by_pairs[field] = tantivy.Query.term_query(
                    self.schema, pair_field, pairs[0], "freq"
                )
            else:
                by_pairs[field] = tantivy.Query.phrase_query(self.schema, pair_field, _words(pairs))
        found, _ = self._candidates(searcher, by_pairs, self._filters(topic, since, source), limit)
        ids = _ids(searcher.fast_field_values("id", [address for _, address in found.hits]))
        best, _ = rescored(searcher, self.schema, ids, self._phrase_parts(quoted), limit)
        total = _matched(found)
        # Unless every paper holding the phrase was a candidate, the best must hold it in
        # their titles, above any score from the abstract alone: the pair counts of an
        # abstract (common-word pairs only) say little of its length, but a title's pairs
        # are all its words' (see the docstring).
        if total > len(ids) and not (best and best[-1][1] > self._abstract_ceiling(quoted)):
            return None
        return self._ranked(searcher, [(score, address) for address, score in best]), total

    def _sparse_phrase_top(
        self,
        quoted: str,
        topic: str | None,
        since: dt.date | None,
        source: SourceFilter,
        limit: int,
        count_up_to: int = 0,
    ) -> tuple[list[tuple[int, float]], int, bool] | None:
        """A lone phrase holding a word in most abstracts (`"state of the art"`): the
        plain query's best `limit` papers, and how many hold the phrase: exactly (True)
        when every paper holding its other words was a candidate, else a lower bound
        (False): those among the candidates without `count_up_to`, else those among the
        newest papers once they reach it (`_count_newest`). None when this way cannot
        show its papers are the best.

        Checking such a word's positions in every paper holding the others is most of
        the plain query's cost. The phrase without those words, the others at their
        offsets (`state _ _ art`), holds every paper the phrase does, at least as often,
        in a text of the same length, so per field its BM25 is at least the phrase's
        times the ratio of their IDF sums (a common word's IDF is near nothing). The
        best candidates by it are scored by the plain query. A paper outside them
        scores at most the last candidate's score over that ratio (the abstract's,
        when every paper holding the other words in its title is a candidate), so when
        the `limit`-th best scores more, they are the plain query's best. Measured
        through the search service: `"state of the art"` (191,575 papers, none by
        title) 57-70 -> 35 ms of CPU at a million papers, 181-187 -> 71-75 at three."""
        stems = stem_tokens(quoted)
        searcher = self.index.searcher()
        docs = max(searcher.num_docs, 1)
        kept = [
            (at, stem)
            for at, stem in enumerate(stems)
            if searcher.doc_freq("abstract", stem) <= SPARSE_PHRASE_SHARE * docs
        ]
        # One word left ranks too unlike the phrase (`vision` for `"vision language"`).
        if len(kept) < 2 or len(kept) == len(stems):
            return None
        kept_words = [stem for _, stem in kept]
        by_kept: dict[str, tantivy.Query] = {}
        ratio: dict[str, float] = {}
        for field in ("title", "abstract"):
            by_kept[field] = tantivy.Query.phrase_query(
                self.schema, field, [(at - kept[0][0], stem) for at, stem in kept]
            )
            whole = _idf_sum(searcher, field, stems, docs)
            ratio[field] = _idf_sum(searcher, field, kept_words, docs) / max(whole, 1e-9)
        either = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, by_kept["title"]), (tantivy.Occur.Should, by_kept["abstract"])]
        )
        if not self._likely_many(searcher, either, self.sparse_phrase_papers):
            return None
        filters = self._filters(topic, since, source)
        found, wanted = self._candidates(searcher, by_kept, filters, limit)
        if _matched(found) < self.sparse_phrase_papers:
            return None  # few papers hold the other words: the plain query is cheap
        hits = found.hits
        ids = _ids(searcher.fast_field_values("id", [address for _, address in hits]))
        best, matched = rescored(searcher, self.schema, ids, self._phrase_parts(quoted), limit)
        ranked = self._ranked(searcher, [(score, address) for address, score in best])
        if len(hits) < wanted:  # every paper holding the kept words was a candidate
            return ranked, matched, True
        in_titles = tantivy.Query.boolean_query([(tantivy.Occur.Must, by_kept["title"]), *filters])
        among = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, by_kept["title"]),
                (tantivy.Occur.Must, id_filter(self.schema, ids)),
            ]
        )
        bound = ratio["abstract"]
        if _matched(searcher.search(in_titles, 1, count=True)) > _matched(
            searcher.search(among, 1, count=True)
        ):
            bound = min(bound, ratio["title"])
        last = float(hits[-1][0])
        if len(best) < limit or not best[-1][1] * bound * SPARSE_BOUND_MARGIN > last:
            return None
        if count_up_to <= 0:
            return ranked, matched, False
        # At most the share of papers holding its rarest other word hold the phrase.
        share = min(searcher.doc_freq("abstract", stem) for stem in kept_words) / docs
        phrase = self.index.parse_query(quoted, ["title", "abstract"], {})
        counted = tantivy.Query.boolean_query([(tantivy.Occur.Must, phrase), *filters])
        return (ranked, *self._count_newest(counted, count_up_to, share))

    def _title_phrase_top(
        self,
        quoted: str,
        topic: str | None,
        since: dt.date | None,
        source: SourceFilter,
        limit: int,
    ) -> list[tuple[int, float]] | None:
        """The plain query's best `limit` for a lone phrase, from the papers holding it
        in their title; None when those cannot be shown to be the best (too few of
        them, or the last one not above the abstract-only ceiling)."""
        searcher = self.index.searcher()
        title = self._words_query(quoted, ["title"], {"title": TITLE_BOOST})
        abstract = self._words_query(quoted, ["abstract"], {})
        clauses = [
            (tantivy.Occur.Must, title),
            (tantivy.Occur.Should, abstract),
            *self._filters(topic, since, source),
        ]
        hits = searcher.search(tantivy.Query.boolean_query(clauses), limit, count=False).hits
        if len(hits) < limit or not float(hits[-1][0]) > self._abstract_ceiling(quoted):
            return None
        return self._ranked(searcher, hits)

    def _abstract_ceiling(self, quoted: str) -> float:
        """Above any score a paper gets from the phrase in its abstract alone: tantivy's
        BM25 for a phrase is the sum of its terms' IDFs times tf(1 + k1)/(tf + norm),
        below the IDFs times (1 + k1) however often it occurs. With a wide margin, for
        how tantivy counts documents (deleted ones, segments) may differ a little."""
        searcher = self.index.searcher()
        docs = max(searcher.num_docs, 1)
        idf = 0.0
        for stem in stem_tokens(quoted):
            freq = searcher.doc_freq("abstract", stem)
            idf += math.log(1.0 + (2 * docs - freq + 0.5) / (freq + 0.5))
        return idf * (1.0 + BM25_K1) * CEILING_MARGIN

    def _phrase_count(
        self, quoted: str, topic: str | None, since: dt.date | None, source: SourceFilter
    ) -> tuple[int, bool]:
        """How many papers hold the lone phrase (and pass the filters), without checking
        positions in every abstract: exactly (True), from the common-word pair postings
        when the phrase is made of such pairs (exactly its papers); else a lower bound
        (False), the papers holding it in their title."""
        filters = self._filters(topic, since, source)
        pairs = phrase_pairs(quoted)
        if pairs is not None:
            held = []
            for pair_field in PAIR_FIELDS.values():
                if len(pairs) == 1:
                    known = tantivy.Query.term_query(self.schema, pair_field, pairs[0])
                else:
                    known = tantivy.Query.phrase_query(self.schema, pair_field, _words(pairs))
                held.append((tantivy.Occur.Should, tantivy.Query.const_score_query(known, 0.0)))
            either = tantivy.Query.boolean_query(held)
            counted = tantivy.Query.boolean_query([(tantivy.Occur.Must, either), *filters])
            return self._run_counted(counted, 1)[1], True
        in_titles = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, self._held_in_titles(quoted)), *filters]
        )
        return self._run_counted(in_titles, 1)[1], False

    def _held_in_titles(self, quoted: str) -> tantivy.Query:
        """The papers holding the phrase in a title, for counting: every adjacent pair
        of a title's words is indexed, at the first word's position, so the pair term
        (two words) or the pairs at consecutive positions are exactly those titles, and
        no word positions are checked (`"vision language"`, in 97,000 of 3M titles: 27
        ms through the phrase query, 1 through its pair)."""
        count, pairs = title_pairs(quoted)
        if count < 2 or len(pairs) != count - 1:
            return self._words_query(quoted, ["title"], {})  # a word too long to index
        if len(pairs) == 1:
            return tantivy.Query.term_query(self.schema, PAIR_FIELDS["title"], pairs[0])
        return tantivy.Query.phrase_query(self.schema, PAIR_FIELDS["title"], _words(pairs))
