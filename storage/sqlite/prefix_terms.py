"""A `prefix*` search term as a tantivy query: its words, found in the term dictionary.

A prefix was two regular-expression queries (title and abstract) of constant score: a
paper scored 10 for any matching word in its title and 1 in its abstract, whatever the
word or how often it occurs, so the best papers were those first written to the index,
and tantivy filled a bitset from every posting of every matching term before walking
their union (`lang*` at 3M papers: 2.7M matches, 100-125 ms).

Now the words beginning with the prefix are read from each field's term dictionary and
asked for as term queries: BM25 ranks the papers that hold them most (a short title
holding `language` twice before a long abstract holding it once), and a union of term
queries costs less than the regular expressions' (`lang*` at 3M papers, through the
search service: 119 -> 76 ms of CPU). Each word is weighed as the prefix's commonest
word is (its IDF), as Lucene's blended rewrite does: otherwise a rare word (`langevin`,
a misspelling) would outrank every paper holding the word most papers mean
(`language`). A prefix with more than MAX_PREFIX_TERMS words in a field (`co*` over all
of arXiv) stays the regular expressions' constant-score query: a union of thousands of
terms costs more than it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import tantivy

from storage.sqlite.index_terms import TITLE_BOOST, _literal

# Words a prefix may stand for in one field before it falls back to the regular
# expression (at 3M generated papers, `co*`'s 96 abstract words took 120 ms against the
# expressions' 127, `la*`'s 15 took 58 against 96).
MAX_PREFIX_TERMS = 256


def prefix_query(
    searcher: tantivy.Searcher,
    schema: tantivy.Schema,
    prefix: str,
    fields: Sequence[str],
    max_terms: int = MAX_PREFIX_TERMS,
) -> tantivy.Query:
    """Papers holding, in any of `fields`, a word (an indexed stem) that begins with
    `prefix`: each such word a term query, weighed as the commonest of them, a title
    word ten times an abstract word. A lower-case, alphanumeric `prefix`."""
    # One more than allowed tells a prefix with too many words without listing them all
    # (`co*` begins thousands over all of arXiv).
    found = {
        field: searcher.terms_with_prefix(field, prefix, limit=max_terms + 1) for field in fields
    }
    if any(len(terms) > max_terms for terms in found.values()):
        return _constant_prefix_query(schema, prefix, fields)
    docs = max(searcher.num_docs, 1)
    clauses = []
    for field, terms in found.items():
        if not terms:
            continue
        boost = TITLE_BOOST if field == "title" else 1.0
        commonest = _idf(max(count for _, count in terms), docs)
        for term, count in terms:
            query = tantivy.Query.term_query(schema, field, term, "freq")
            weight = boost * commonest / _idf(count, docs)
            clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(query, weight)))
    if not clauses:
        return tantivy.Query.empty_query()
    return clauses[0][1] if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)


def _constant_prefix_query(
    schema: tantivy.Schema, prefix: str, fields: Sequence[str]
) -> tantivy.Query:
    """A regular expression per field, of constant score (10 in the title, 1 in the
    abstract): for a prefix that begins too many words to ask for each."""
    pattern = _literal(prefix) + ".*"
    return tantivy.Query.boolean_query(
        [
            (
                tantivy.Occur.Should,
                tantivy.Query.boost_query(
                    tantivy.Query.regex_query(schema, field, pattern),
                    TITLE_BOOST if field == "title" else 1.0,
                ),
            )
            for field in fields
        ]
    )


def _idf(count: int, docs: int) -> float:
    """tantivy's BM25 IDF for a term in `count` of `docs` papers (counts from the term
    dictionary include deleted papers not yet merged away: a near figure, which only
    sets the weights, never what matches)."""
    count = min(count, docs)
    return math.log(1.0 + (docs - count + 0.5) / (count + 0.5))
