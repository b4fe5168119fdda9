"""Regenerate `bot/data/common_words.txt`, the fixed list of frequent words whose
adjacent pairs the SQLite search index also stores (see storage/sqlite/index_terms.py).

The list is derived once from the bundled sample dump, never from a live database: the
index and the queries must agree on it, and a list that followed the database's word
frequencies would force a rebuild whenever they shifted. Run it only on purpose (and
bump the index's SCHEMA_VERSION when the file changes):

    python -m bench.common_words > bot/data/common_words.txt
"""

from __future__ import annotations

from collections import Counter

import tantivy

from bench.corpus import SAMPLE_DUMP
from bot.core.parse import parse_dump
from storage.sqlite.index_terms import stem_tokens

# A word in at least this share of the sample's papers is "common" (about 130 stems).
# A phrase through a rarer word intersects a short posting list and is fast already.
MIN_SHARE = 0.20


def common_stems(min_share: float = MIN_SHARE) -> list[str]:
    """Frequent stems, less tantivy's English stop words: pairs with `the`, `of`, `to`
    were 60% of all pairs (so of the index's added size and time), and a phrase such
    as "state of the art" occurs in nearly every paper holding its words, where pairs
    narrow nothing."""
    papers = parse_dump(SAMPLE_DUMP.read_bytes()).papers
    df: Counter[str] = Counter()
    for paper in papers:
        df.update(set(stem_tokens(f"{paper.title}\n{paper.abstract}")))
    stop = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.stopword("english"))
        .build()
    )
    return sorted(
        w for w, n in df.items() if n >= min_share * len(papers) and stop.analyze(w) == [w]
    )


def main() -> None:
    print("# Stems (as the index's en_stem tokenizer writes them) of the words in at least")
    print(f"# {MIN_SHARE:.0%} of the bundled sample's papers, stop words left out; see")
    print("# bench/common_words.py.")
    print("# The search index pairs adjacent common words: changing this file needs a")
    print("# SCHEMA_VERSION bump in storage/sqlite/search_index.py.")
    for stem in common_stems():
        print(stem)


if __name__ == "__main__":
    main()
