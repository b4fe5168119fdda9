"""Autocomplete's half-typed last word (`Models L`) goes through the title's word pairs.

Before, tantivy's phrase-prefix query answered it (`model` then any word beginning with
`l`), checking positions in every title holding `model`. The pair path must give the
same papers in the same order with the same scores, except where the phrase-prefix
query was wrong: it looks at only the first 50 words beginning with the prefix in each
index segment, so on a large index it missed titles. There the pair path must give
every title that holds the words, checked against the titles themselves (SQLite +
tantivy, real index)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
import string
from collections import defaultdict

import pytest
import tantivy

from bench.corpus import CorpusGenerator
from bot.core.ingest import ingest_bytes
from bot.core.text import words
from bot.core.topics import load_default_topics
from bot.services.search import TITLE_POOL, SearchService
from storage.sqlite.index_terms import (
    PREFIX_CHARS,
    common_stems,
    stem_tokens,
    word_pairs,
    written_pairs,
)
from storage.sqlite.search_index import (
    COMMON_PREFIX_SHARE,
    SCHEMA_VERSION,
    IndexedPaper,
    SearchIndex,
)
from tests.conftest import TODAY, ingest_sample, reopen_with_index_version

ALNUM = re.compile(r"^[^\W_]+$")
EXPANSION_LIMIT = 50  # tantivy's phrase-prefix query: words per prefix, per segment
ALL = 20_000  # more than the papers: every match


def old_query(index: SearchIndex, stems: list[str], kept: list[str]) -> tantivy.Query:
    """What title_phrase_search asked of tantivy for a half-typed last word before."""
    begun = [*stems[:-1], kept[-1].casefold()]
    return tantivy.Query.phrase_prefix_query(index.schema, "title", list(begun))


def old_written(index: SearchIndex, tokens: list[str]) -> tantivy.Query:
    """What title_phrase_search asked of tantivy for text typed with punctuation."""
    return tantivy.Query.phrase_prefix_query(index.schema, "title_written", list(tokens))


class Written:
    """Every paper's current title as `title_written` holds it: case-folded, split at
    whitespace."""

    def __init__(self, rows: list[tuple[int, str]]) -> None:
        self.places: dict[str, list[tuple[int, list[str], int]]] = defaultdict(list)
        for pid, title in rows:
            tokens = title.casefold().split()
            for i, token in enumerate(tokens):
                self.places[token].append((pid, tokens, i))

    def expansions(self, begun: str) -> int:
        return sum(token.startswith(begun) for token in self.places)

    def holding(self, whole: list[str], begun: str) -> set[int]:
        n = len(whole)
        found = set()
        for pid, tokens, i in self.places.get(whole[0], []):
            after = tokens[i + n] if i + n < len(tokens) else None
            if tokens[i : i + n] == whole and after is not None and after.startswith(begun):
                found.add(pid)
        return found


class Titles:
    """Every paper's title stems (its current title and earlier ones), for a reference
    answer worked out without the index."""

    def __init__(self, rows: list[tuple[int, str]]) -> None:
        # Where each stem is: (paper, the title's stems, position).
        self.places: dict[str, list[tuple[int, list[str | None], int]]] = defaultdict(list)
        for pid, title in rows:
            terms = _positions(title)
            for i, term in enumerate(terms):
                if term is not None:
                    self.places[term].append((pid, terms, i))
        self.stems = set(self.places)

    def expansions(self, begun: str) -> int:
        return sum(s.startswith(begun) for s in self.stems)

    def holding(self, stems: list[str], begun: str) -> set[int]:
        """Papers with a title holding `stems` in a row, then a word beginning `begun`."""
        n = len(stems)
        found = set()
        for pid, terms, i in self.places.get(stems[0], []):
            last = terms[i + n] if i + n < len(terms) else None
            if terms[i : i + n] == stems and last is not None and last.startswith(begun):
                found.add(pid)
        return found


def _positions(title: str) -> list[str | None]:
    """A title's stems by position, as the index holds them (None: a word too long)."""
    out: list[str | None] = []
    for token in re.findall(r"[^\W_]+", title):  # tantivy's simple tokenizer
        out.append(stem_tokens(token)[0] if len(token.encode()) < 40 else None)
    return out


def inputs_from(titles: list[str]) -> list[tuple[list[str], list[str]]]:
    """(stems, typed words) for runs of two to four words of each title, the last word
    cut to 1, 2, 3 and 5 letters or left whole: what people type."""
    out: dict[tuple[str, ...], list[str]] = {}
    for title in titles:
        run = [w for w in words(title) if ALNUM.match(w)]
        for size in (2, 3, 4):
            for i in range(len(run) - size + 1):
                for cut in (1, 2, 3, 5, None):
                    kept = run[i : i + size]
                    kept[-1] = kept[-1][:cut]
                    out.setdefault(tuple(kept), kept)
    pairs = []
    for kept in out.values():
        stems = stem_tokens(" ".join(kept))
        if len(stems) == len(kept):
            pairs.append((stems, kept))
    return pairs


async def _all_titles(storage) -> list[tuple[int, str]]:
    rows = await storage._rows("SELECT id, title FROM papers")
    rows += await storage._rows("SELECT paper_id, title FROM title_variants")
    return [(pid, title) for pid, title in rows]


async def sample_and_corpus(storage) -> None:
    await ingest_sample(storage)
    for day in CorpusGenerator(1_200, seed=11).days():
        report = await ingest_bytes(storage, day.raw, day.source, today=TODAY)
        assert report.error is None, report.error
    await storage.sync_search_index()


@pytest.fixture
async def corpus_storage(tmp_path, database_copies):
    """The bundled sample and a generated corpus (edited titles included), ingested day
    by day, so the index has several segments."""
    async with database_copies.open("sqlite", sample_and_corpus, tmp_path) as store:
        yield store


async def test_a_half_typed_last_word_finds_what_the_phrase_prefix_query_found(
    corpus_storage,
) -> None:
    index = corpus_storage.search_index
    rows = await _all_titles(corpus_storage)
    reference = Titles(rows)
    cases = inputs_from([title for _, title in rows])
    rng = random.Random(5)
    rng.shuffle(cases)
    cases = cases[:3_000]
    same = truncated = matched = 0
    for stems, kept in cases:
        begun = kept[-1].casefold()
        new = index._run(index._begun(stems, kept), TITLE_POOL)
        everything = index._run(index._begun(stems, kept), ALL)
        assert {pid for pid, _ in everything} == reference.holding(stems[:-1], begun), kept
        old = index._run(old_query(index, stems, kept), TITLE_POOL)
        if reference.expansions(begun) < EXPANSION_LIMIT:
            # The old query saw every word beginning with the prefix: the same answer,
            # ids, order and scores.
            assert new == old, kept
            same += 1
        else:
            # It saw only some: what it found is found, and at least as many.
            old_all = index._run(old_query(index, stems, kept), ALL)
            assert {pid for pid, _ in old_all} <= {pid for pid, _ in everything}, kept
            truncated += 1
        matched += bool(new)
    # The cases must cover both, and mostly find titles (they are cut from titles).
    assert same > 1_500 and truncated > 100
    # Most find titles (they are cut from titles; a whole word typed is often not its
    # stem's beginning, `pretrained` for `pretrain`: the whole-word phrase finds those).
    assert matched > 0.8 * len(cases)


async def test_text_typed_with_punctuation_finds_what_the_phrase_prefix_query_found(
    corpus_storage,
) -> None:
    """The same for a fragment typed as written (`To Self-`, `Models: A S`): its
    tokens through the written pairs."""
    index = corpus_storage.search_index
    rows = await corpus_storage._rows("SELECT id, title FROM papers")
    reference = Written(rows)
    cases: dict[tuple[str, ...], list[str]] = {}
    for _, title in rows:
        tokens = title.casefold().split()
        for size in (2, 3, 4):
            for i in range(len(tokens) - size + 1):
                for cut in (1, 2, 3, 5, None):
                    run = tokens[i : i + size]
                    run[-1] = run[-1][:cut]
                    cases.setdefault(tuple(run), run)
    picked = list(cases.values())
    random.Random(9).shuffle(picked)
    # Mostly fragments with punctuation in them: what this path is for.
    picked.sort(key=lambda run: not any(not ALNUM.match(t) for t in run))
    same = truncated = 0
    for run in picked[:2_000]:
        new = index._run(index._begun_written(run), TITLE_POOL)
        everything = index._run(index._begun_written(run), ALL)
        assert {pid for pid, _ in everything} == reference.holding(run[:-1], run[-1]), run
        old = index._run(old_written(index, run), TITLE_POOL)
        if reference.expansions(run[-1]) < EXPANSION_LIMIT:
            assert new == old, run
            same += 1
        else:
            old_all = index._run(old_written(index, run), ALL)
            assert {pid for pid, _ in old_all} <= {pid for pid, _ in everything}, run
            truncated += 1
    assert same > 1_000 and truncated > 50


async def test_three_words_rank_by_the_phrase_of_the_whole_words(corpus_storage) -> None:
    """Longer inputs are ordered by BM25 of the whole words' phrase, as before; two-word
    ones are all alike, so index order decides (as the phrase-prefix query did)."""
    index = corpus_storage.search_index
    rows = await _all_titles(corpus_storage)
    reference = Titles(rows)
    scored = [
        (stems, kept)
        for stems, kept in inputs_from([title for _, title in rows])
        if len(kept) >= 3 and len(kept[-1]) <= 2
    ]
    varied = 0
    for stems, kept in scored[:400]:
        new = index._run(index._begun(stems, kept), TITLE_POOL)
        old = index._run(old_query(index, stems, kept), TITLE_POOL)
        if reference.expansions(kept[-1].casefold()) < EXPANSION_LIMIT:
            assert new == old, kept
        varied += len({score for _, score in new}) > 1
    assert varied > 10  # some inputs do rank their titles by score


async def test_autocomplete_offers_the_same_titles_in_the_same_order(
    corpus_storage, monkeypatch
) -> None:
    """Through the whole of autocomplete (the index, the fuzzy ranking), with inputs of
    every kind: half-typed words of one to three letters, punctuation, accents, one
    word, nothing that matches."""
    rows = await _all_titles(corpus_storage)
    reference = Titles(rows)
    written_reference = Written(await corpus_storage._rows("SELECT id, title FROM papers"))
    titles = [title for _, title in rows]
    rng = random.Random(3)
    typed = [
        "Models L",
        "Models La",
        "Models Lea",
        "Large Language M",
        "Vision T",
        "language model",
        "Language Models: A S",
        "To Self-",
        "Self-Supervised L",
        "Models: A",
        "Large-Language M",
        "Modèles L",
        "Straße d",
        "Transformers",
        "t",
        "zqxj wvy",
        "Zqxjv Models L",
        "",
    ]
    for title in rng.sample(titles, 60):
        run = title.split()
        if len(run) >= 3:
            start = rng.randrange(len(run) - 2)
            fragment = run[start : start + rng.randint(2, 3)]
            fragment[-1] = fragment[-1][: rng.randint(1, 3)]
            typed.append(" ".join(fragment))
    service = SearchService(corpus_storage, load_default_topics())
    new = [await service.title_choices(text) for text in typed]
    index = corpus_storage.search_index
    # The phrase-prefix queries, as before.
    monkeypatch.setattr(type(index), "_begun", old_query)
    monkeypatch.setattr(type(index), "_begun_written", old_written)
    old = [await service.title_choices(text) for text in typed]
    differing = []
    for text, before, after in zip(typed, old, new, strict=True):
        last = words(text)[-1] if words(text) else ""
        if before != after:
            differing.append(text)
            # Only where the old query could not see every word beginning with the
            # last one.
            written = text.casefold().split()[-1]
            assert (
                reference.expansions(last) >= EXPANSION_LIMIT
                or written_reference.expansions(written) >= EXPANSION_LIMIT
            ), (text, before, after)
    assert len(differing) < len(typed) // 4
    assert any(new)  # inputs cut from titles find them


def test_titles_index_every_adjacent_pair_abstracts_common_ones() -> None:
    text = "Zyxwvut large language model, zyxwvut model"
    every = word_pairs(text, every=True)
    assert every is not None
    assert [(t.text, t.position) for t in every.tokens] == [
        ("zyxwvut larg", 0),
        ("larg languag", 1),
        ("languag model", 2),
        ("model zyxwvut", 3),
        ("zyxwvut model", 4),
    ]
    common = word_pairs(text)
    assert common is not None
    assert [t.text for t in common.tokens] == ["larg languag", "languag model"]
    # A word too long to index leaves a gap, in titles too.
    assert word_pairs("kobatu " + "x" * 41 + " zyxwvut", every=True) is None
    # Accented words are paired as the title field holds them.
    accented = word_pairs("Modèles de Langue", every=True)
    assert accented is not None
    assert [t.text for t in accented.tokens] == [
        " ".join(pair) for pair in itertools.pairwise(stem_tokens("Modèles de Langue"))
    ]


async def test_an_index_of_the_previous_format_is_rebuilt_with_every_title_pair(
    sample_storage,
) -> None:
    """An index written before titles had every pair (version 7) is rebuilt when the
    database is opened, and a half-typed word is then found through the pairs."""
    await sample_storage.sync_search_index()
    reopened, version = await reopen_with_index_version(sample_storage, "7")
    try:
        index = reopened.search_index
        assert index.created  # rebuilt empty, then caught up from the database
        assert await reopened.sync_search_index() == 98
        assert version.read_text() == SCHEMA_VERSION
        # A pair with a rare word: indexed only since titles have every pair.
        assert "bridg" not in common_stems()
        assert index.index.searcher().doc_freq("title_pairs", "semant bridg") == 1
        service = SearchService(reopened, load_default_topics())
        choices = await service.title_choices("Caption Semantics B")
        assert choices[0] == (
            1,
            "Rewrite Caption Semantics: Bridging Semantic Gaps for Language-Supervised "
            "Semantic Segmentation",
        )
    finally:
        await reopened.close()


def test_written_pairs_pair_the_tokens_of_the_written_title(tmp_path) -> None:
    """Tokens as tantivy's whitespace tokenizer splits them (a no-break space is part
    of a token), and any punctuation typed is matched literally, not as a regex."""
    pairs = written_pairs("to self-supervised\u00a0l (a+b)*")
    assert pairs is not None
    assert [(t.text, t.position) for t in pairs.tokens] == [
        ("to self-supervised\u00a0l", 0),
        ("self-supervised\u00a0l (a+b)*", 1),
    ]
    assert written_pairs("one") is None
    index = SearchIndex(tmp_path / "index")
    titles = [f"Models {c}x{c} and ({c}" for c in string.punctuation]
    index.apply(
        IndexedPaper(i, title, "", (), None, dt.date(2026, 1, 1)) for i, title in enumerate(titles)
    )
    for i, title in enumerate(titles):
        tokens = title.casefold().split()
        for cut in (1, 2, 3):
            begun = [*tokens[:1], tokens[1][:cut]]
            expected = [j for j, t in enumerate(titles) if t.casefold().startswith(" ".join(begun))]
            assert sorted(pid for pid, _ in index._run(index._begun_written(begun), 100)) == (
                expected
            ), begun
        found = index._run(index._begun_written(tokens[1:]), 100)
        assert [pid for pid, _ in found] == [i], title


# Inputs made of words thousands of titles hold: two whole words typed (`language
# model`) are looked up as their title pair term, which tantivy answers without checking
# positions; the "any typed word" lookup leaves out words that begin a word in a large
# share of all titles (`for`, `the`).


def _pairs_held(rows: list[tuple[int, str]]) -> dict[tuple[str, str], set[int]]:
    """Each two terms in a row in some title, and the papers whose titles hold them."""
    held: dict[tuple[str, str], set[int]] = {}
    for pid, title in rows:
        terms = _positions(title)
        for a, b in itertools.pairwise(terms):
            if a is not None and b is not None:
                held.setdefault((a, b), set()).add(pid)
    return held


async def test_two_typed_words_find_exactly_the_titles_holding_them_in_a_row(
    corpus_storage,
) -> None:
    """Every two-word run of real and generated titles: the titles found are those
    holding the two words in a row; where more hold them than are asked for, the ones
    given are the best the phrase itself would rank (the shortest titles)."""
    index = corpus_storage.search_index
    rows = await _all_titles(corpus_storage)
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
        for pid, title in await _all_titles(corpus_storage)
        if any(w[:PREFIX_CHARS].startswith(rare[0]) for w in words(title))
    }
    assert set(found) == holding
    # A rare word alone, as one term query, ranks as the boolean query did.
    alone = index.title_search([rare[0]], match_all=True, limit=10)
    query = tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, tantivy.Query.term_query(index.schema, "title_prefix", rare[0]))]
    )
    assert alone == [pid for pid, _ in index._run(query, 10)]
