"""Autocomplete on inputs made of words that thousands of titles hold.

Two whole words typed (`language model`) are looked up as their title pair term, which
tantivy can rank without checking positions; the "any typed word" lookup leaves out
words that begin a word in a large share of all titles (`for`, `the`). Both are checked
against the titles themselves (SQLite + tantivy, real index)."""

from __future__ import annotations

import itertools
import random
import re

import pytest
import tantivy

from bench.corpus import CorpusGenerator
from bot.core.ingest import ingest_bytes
from bot.core.text import words
from storage.sqlite.search_index import COMMON_PREFIX_SHARE, PREFIX_CHARS, stem_tokens
from tests.conftest import TODAY

ALNUM = re.compile(r"^[^\W_]+$")
ALL = 20_000  # more than the papers: every match


@pytest.fixture
async def corpus_storage(sample_storage):
    """The bundled sample and a generated corpus ingested day by day (several index
    segments, titles sharing many common words)."""
    for day in CorpusGenerator(1_500, seed=23).days():
        report = await ingest_bytes(sample_storage, day.raw, day.source, today=TODAY)
        assert report.error is None, report.error
    await sample_storage.sync_search_index()
    return sample_storage


def _stem_runs(title: str) -> list[str | None]:
    """A title's terms by position as the index holds them (None: a word too long)."""
    return [
        stem_tokens(token)[0] if len(token.encode()) < 40 else None
        for token in re.findall(r"[^\W_]+", title)
    ]


def _pairs_held(rows: list[tuple[int, str]]) -> dict[tuple[str, str], set[int]]:
    """Each two terms in a row in some title, and the papers whose titles hold them."""
    held: dict[tuple[str, str], set[int]] = {}
    for pid, title in rows:
        terms = _stem_runs(title)
        for a, b in itertools.pairwise(terms):
            if a is not None and b is not None:
                held.setdefault((a, b), set()).add(pid)
    return held


async def _titles(storage) -> list[tuple[int, str]]:
    rows = await storage._rows("SELECT id, title FROM papers")
    rows += await storage._rows("SELECT paper_id, title FROM title_variants")
    return [(pid, title) for pid, title in rows]


async def test_two_typed_words_find_exactly_the_titles_holding_them_in_a_row(
    corpus_storage,
) -> None:
    """Every two-word run of real and generated titles: the titles found are those
    holding the two words in a row; where more hold them than are asked for, the ones
    given are the best the phrase itself would rank (the shortest titles)."""
    index = corpus_storage.search_index
    rows = await _titles(corpus_storage)
    runs: dict[tuple[str, str], None] = {}
    for _, title in rows:
        kept = [w for w in words(title) if ALNUM.match(w)]
        for a, b in itertools.pairwise(kept):
            if len(stem_tokens(f"{a} {b}")) == 2:
                runs[(a.casefold(), b.casefold())] = None
    cases = list(runs)
    random.Random(4).shuffle(cases)
    held = _pairs_held(rows)
    limited = 0
    for a, b in cases[:1_500]:
        typed = [a, b]
        found = index.title_phrase_search(typed, f"{a} {b}", ALL)
        first, second = stem_tokens(f"{a} {b}")
        expected = held.get((first, second), set())
        assert set(found) == expected, typed
        if len(expected) > 5:
            limited += 1
            best = index.title_phrase_search(typed, f"{a} {b}", 5)
            phrase = index.index.parse_query(f'"{a} {b}"', ["title"])
            scores = dict(index._run(phrase, ALL))
            worst_given = min(scores[pid] for pid in best)
            best_left = max((s for pid, s in scores.items() if pid not in best), default=0.0)
            assert worst_given >= best_left - 1e-6, typed
    assert limited > 20  # the corpus must have common pairs to rank


async def test_any_word_lookup_leaves_out_words_most_titles_begin_with(
    corpus_storage,
) -> None:
    """`Superision for Visu`: when no title holds all the words, the titles holding
    any of them are those holding the telling ones; a word beginning words in more than
    COMMON_PREFIX_SHARE of the titles is asked for only when every typed word is that
    common (then the rarest one)."""
    index = corpus_storage.search_index
    searcher = index.index.searcher()
    total = searcher.num_docs

    def share(prefix: str) -> float:
        return searcher.doc_freq("title_prefix", prefix) / total

    words_tried = ("for", "the", "a", "learn", "model", "of")
    common = [p for p in words_tried if share(p) > COMMON_PREFIX_SHARE]
    assert len(common) >= 3, "the corpus must have common title words"
    rarer = ("zebra", "protein", "speech", "qubit")
    rare = [p for p in rarer if 0 < share(p) <= COMMON_PREFIX_SHARE]
    assert rare
    assert index._telling_prefixes([common[0], rare[0], common[1]]) == [rare[0]]
    rarest = min(common, key=share)
    assert index._telling_prefixes(common) == [rarest]
    # Through the lookup: every title offered begins a word with a telling prefix, and
    # every title holding the rare one is offered when few do.
    typed = [common[0], rare[0]]
    found = index.title_search(typed, match_all=False, limit=ALL)
    holding = {
        pid
        for pid, title in await _titles(corpus_storage)
        if any(w[:PREFIX_CHARS].startswith(rare[0]) for w in words(title))
    }
    assert set(found) == holding
    # A rare word alone, as one term query, ranks as the boolean query did.
    alone = index.title_search([rare[0]], match_all=True, limit=10)
    query = tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, tantivy.Query.term_query(index.schema, "title_prefix", rare[0]))]
    )
    assert alone == [pid for pid, _ in index._run(query, 10)]
