"""Spelling correction's vocabulary keeps what it looks words up by, not a second table
of every word: at 1M papers single-paper words are ~350k, and a dict entry each cost
~15 MB for counts that are all 1."""

from __future__ import annotations

import gc
import sys
import tracemalloc

from bot.core.query import FREQUENT_DF, Vocabulary, correct_spelling, parse_query


def _counts() -> dict[str, int]:
    counts = {f"zq{i:06d}lab": 1 for i in range(100_000)}  # single-paper names
    counts.update({"language": 900, "model": 800, "protein": 12, "segmentation": 3})
    return counts


def test_single_paper_words_are_known_without_a_table_of_their_counts() -> None:
    gc.collect()
    tracemalloc.start()
    try:
        counts = _counts()
        table = sys.getsizeof(counts)  # the dict's own table, not its keys
        words = sum(sys.getsizeof(w) for w in counts)
        size = len(counts)
        vocabulary = Vocabulary(counts)
        del counts  # the caller's table goes once the vocabulary is built
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # The words, its own lists of them (sorted, the two rare buckets), and nothing
    # near the caller's table of every word's count.
    assert kept < words + 8 * 3 * size + table // 5
    counts = _counts()
    assert all(w in vocabulary for w in ("zq000000lab", "zq099999lab", "language", "protein"))
    assert "zq100000lab" not in vocabulary and "" not in vocabulary and 3 not in vocabulary
    assert vocabulary.counts == {w: df for w, df in counts.items() if df >= FREQUENT_DF}
    assert vocabulary.has_prefix("zq0999") and not vocabulary.has_prefix("zq2")
    assert vocabulary.knows_form_of("zq000001labs")  # a single-paper word's plural
    fixed, corrections = correct_spelling(parse_query("langauge zq012345lba"), vocabulary)
    assert corrections == {"langauge": "language", "zq012345lba": "zq012345lab"}
    assert fixed.terms == ("language", "zq012345lab")
