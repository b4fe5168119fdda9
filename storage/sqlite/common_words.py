"""A shortcut for a search of words that most papers hold (`language model`).

Every paper holding each word, in its title or its abstract, matches: at three million
papers, `language model` matches 2.5 million. tantivy scores each of them: its Python
binding collects every search's hits through a MultiCollector, which never skips blocks
(docs/PERFORMANCE.md). 150-180 ms of CPU, the slowest searches of the bench's mix.

A paper's score is its title's BM25 for the words, boosted tenfold, plus its abstract's.
Words in most abstracts weigh little there (their IDF is near nothing), so the title
part decides the ranking. The union of the title terms alone, boosted as in the plain
query, walks only the titles' postings, a small part of the abstracts': its best few
hundred papers cost a fraction of the plain query. A paper outside them scores at most
the last one's title score plus the most the words can add from an abstract (the sum of
their IDFs times 1 + k1). When the
`limit`-th best of the candidates, scored by the plain query, is above that, no other
paper can rank higher: the plain query's papers, scores and order. Mixed into
SearchIndex (storage/sqlite/search_index.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import tantivy

from bot.core.models import ParsedQuery
from storage.sqlite.index_terms import _ALNUM, TITLE_BOOST, _ids, stem_tokens
from storage.sqlite.rescoring import rescored

# Only when every word is in at least this share of the abstracts: rarer words weigh
# more in an abstract, and the bound then rarely holds. Measured at 3M papers: every
# bench query whose words are all in 20% or more of the abstracts was answered this way,
# and so was every one down to 10% whose words are each in a page of titles or more
# (`speech language model`, its rarest word in 16% of the abstracts and 4% of the
# titles: 101 -> 55 ms of CPU).
COMMON_WORDS_SHARE = 0.1
# Below this share a word weighs enough in an abstract that only titles holding it can
# lift the candidates above the rest: each word must then be in at least `limit` titles.
# At 3M papers the bench's two queries that failed the bound after the union's walk
# (25 ms for nothing), `reward model` and `zero shot`, had a word in 17-19% of the
# abstracts and in no title. Above it, common words pass in few titles: on 4,787 real
# papers `models propose` (in 3 titles, 46% of the abstracts) is answered this way.
TITLED_SHARE = 0.2
# ... and when the papers of the latest days say at least this many papers match: the
# shortcut costs 10-25 ms at 1M papers whatever the words, the plain query about 70 ns
# a match (`visual reasoning`, 76,000 at 1M: 13.5 ms plain, 27 this way).
COMMON_WORDS_MATCHES = 300_000
# A single word's plain query is already a flat union of two terms (its title's and
# abstract's), cheap per match unless a topic filter makes it an intersection: without
# one the shortcut pays only from about three times as many matches (at 1M papers
# `text`, 385,000, took 8.0 ms plain and 11.2 this way; at 3M `text`, 1,154,000, 38
# and 19).
ONE_WORD_MATCHES = 900_000
# The title union's best this many papers are the candidates (at least twice the limit):
# at 3M papers 200 settled 5 of the 12 slowest queries, 500 all of them.
TITLE_CANDIDATES = 500
BM25_K1 = 1.2  # tantivy's BM25 constant (its `K1`)
# Scores are single-precision sums, the bound a double-precision one: a margin of far
# more than their rounding.
BOUND_MARGIN = 1e-4
TOTAL_DOCS = "N, total number of docs"  # how tantivy's explanation names its N


class CommonWordsSearch:
    """The shortcut, as methods of the search index it is mixed into."""

    index: tantivy.Index
    schema: tantivy.Schema
    common_words_share: float
    title_candidates: int

    @staticmethod
    def _ranked(
        searcher: tantivy.Searcher, hits: list[tuple[Any, tantivy.DocAddress]]
    ) -> list[tuple[int, float]]:
        raise NotImplementedError

    def _common_words(self, query: ParsedQuery, fields: Sequence[str]) -> list[str] | None:
        """The query's word stems, one per word in its order, when it is words only
        (no phrase, no prefix) over the title and the abstract, each in many
        abstracts; None otherwise."""
        if query.phrases or query.prefixes or not query.terms:
            return None
        if set(fields) != {"title", "abstract"}:
            return None
        stems = []
        for term in query.terms:
            found = stem_tokens(term) if _ALNUM.match(term) else []
            if len(found) != 1:
                return None
            stems.append(found[0])
        searcher = self.index.searcher()
        fewest = min(searcher.doc_freq("abstract", stem) for stem in stems)
        return stems if fewest >= self.common_words_share * searcher.num_docs else None

    def _common_words_top(
        self, stems: Sequence[str], plain: tantivy.Query, limit: int
    ) -> list[tuple[int, float]] | None:
        """The plain query's best `limit` papers for words in most abstracts, from the
        best papers by the title union; None when they cannot be shown to be the best
        (measured at 3M papers: `language model` 183 -> 63 ms of CPU, `large language
        models` 186 -> 82, `supervised fine tuning` 156 -> 50)."""
        searcher = self.index.searcher()
        if self._untitled(searcher, stems, limit):
            return None
        union = tantivy.Query.boolean_query(
            [
                (
                    tantivy.Occur.Should,
                    tantivy.Query.boost_query(
                        tantivy.Query.term_query(self.schema, "title", stem, "freq"), TITLE_BOOST
                    ),
                )
                for stem in stems
            ]
        )
        wanted = max(self.title_candidates, 2 * limit)
        hits = searcher.search(union, wanted, count=False).hits
        if not hits:
            return None
        # A paper outside the candidates holds the words in its title at most as well
        # as the last of them (none at all when they are every such paper).
        outside = float(hits[-1][0]) if len(hits) == wanted else 0.0
        docs = self._total_docs(searcher, union, hits[0][1])
        if docs is None:
            return None
        ceiling = outside + self._abstract_most(searcher, stems, docs)
        ids = _ids(searcher.fast_field_values("id", [address for _, address in hits]))
        best, _ = rescored(searcher, self.schema, ids, [plain], limit)
        if len(best) < limit or not best[-1][1] > ceiling * (1 + BOUND_MARGIN):
            return None
        return self._ranked(searcher, [(score, address) for address, score in best])

    @staticmethod
    def _untitled(searcher: tantivy.Searcher, stems: Sequence[str], limit: int) -> bool:
        """Whether a word below TITLED_SHARE of the abstracts is in fewer than `limit`
        titles: the candidates past its titles then rank by the other words alone, as
        the papers outside do, and the bound is not expected to hold (it held for no
        such query of the bench's mix at 3M papers)."""
        docs = max(searcher.num_docs, 1)
        return any(
            searcher.doc_freq("abstract", stem) < TITLED_SHARE * docs
            and searcher.doc_freq("title", stem) < limit
            for stem in stems
        )

    @staticmethod
    def _abstract_most(searcher: tantivy.Searcher, stems: Sequence[str], docs: int) -> float:
        """Above any score the words can give a paper from its abstract: tantivy's BM25
        for a word is its IDF times (1 + k1) tf / (tf + norm), below its IDF times (1 +
        k1) however often it occurs."""
        most = 0.0
        for stem in stems:
            held = searcher.doc_freq("abstract", stem)
            most += math.log(1.0 + (docs - held + 0.5) / (held + 0.5)) * (1.0 + BM25_K1)
        return most

    @staticmethod
    def _total_docs(
        searcher: tantivy.Searcher, query: tantivy.Query, address: tantivy.DocAddress
    ) -> int | None:
        """The number of documents tantivy's IDFs count, from its explanation of a match:
        deleted documents count until their segment is merged, so it can be more than
        `num_docs`, and a bound computed with fewer would be too low. None when the
        explanation does not say."""
        pending: list[Any] = [json.loads(query.explain(searcher, address).to_json())]
        while pending:
            node = pending.pop()
            if node.get("description") == TOTAL_DOCS:
                return int(node["value"])
            pending.extend(node.get("details", []))
        return None
