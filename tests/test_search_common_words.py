"""Words most papers hold are answered from the best papers by their title terms alone
(storage/sqlite/common_words.py): exactly the plain query's papers, scores and order,
or, when that cannot be shown, the plain query itself."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Any

import pytest

from bot.core.models import ParsedQuery
from bot.core.sources import ALL_SOURCES, ARXIV, SourceFilter
from storage.sqlite import common_words
from storage.sqlite.common_words import COMMON_WORDS_SHARE, TITLED_SHARE
from storage.sqlite.index_terms import stem_tokens
from storage.sqlite.search_index import IndexedPaper, SearchIndex
from tests.relevance_dumps import real_papers
from tests.test_title_pairs_autocomplete import sample_and_corpus

# Words of the sample and the generated corpus, from those most abstracts hold to
# rarer ones, and a word no paper holds.
WORDS = [
    "language", "models", "model", "large", "learning", "data", "training", "tasks",
    "performance", "reasoning", "vision", "generation", "reward", "benchmark", "zyxwvut",
]  # fmt: skip


@pytest.fixture
async def corpus_storage(tmp_path, database_copies):
    """The sample and a generated corpus of 1,200 papers."""
    async with database_copies.open("sqlite", sample_and_corpus, tmp_path) as store:
        yield store


def plain(index: SearchIndex, query: ParsedQuery, limit: int) -> list[tuple[int, float]]:
    """The query as tantivy answers it without the shortcut."""
    final = index._final_query(query, True, None, None, ("title", "abstract"), ALL_SOURCES)
    return [] if final is None else index._run(final, limit)


def every_count(index: SearchIndex, query: ParsedQuery) -> int:
    final = index._final_query(query, True, None, None, ("title", "abstract"), ALL_SOURCES)
    return index._run_counted(final, 1)[1]


async def test_common_words_through_title_candidates_are_the_plain_query(corpus_storage) -> None:
    """Every one-, two- and three-word query of WORDS, at several page sizes and numbers
    of candidates: whenever the title union's candidates are taken, they give exactly
    the plain query's ids, scores and order, and the count is exact or a lower bound
    that reaches the cap. Both outcomes must occur."""
    index = corpus_storage.search_index
    index.common_words_share = 0.0
    index.common_words_matches = index.one_word_matches = 0
    queries = [
        ParsedQuery(terms=words)
        for size in (1, 2, 3)
        for words in itertools.combinations(WORDS, size)
        if size < 3 or "language" in words or "model" in words
    ]
    taken = declined = 0
    for query in queries:
        everything = every_count(index, query)
        for candidates in (2, 10, 60):
            index.title_candidates = candidates
            for limit in (1, 5, 20):
                expected = plain(index, query, limit)
                final = index._final_query(
                    query, True, None, None, ("title", "abstract"), ALL_SOURCES
                )
                assert final is not None
                stems = index._common_words(query, ("title", "abstract"))
                shortcut = stems and index._common_words_top(stems, final, limit)
                if shortcut:
                    taken += 1
                    assert shortcut == expected, (query.terms, candidates, limit)
                else:
                    declined += 1
                got = index.search(query, match_all=True, topic=None, since=None, limit=limit)
                assert got == expected, (query.terms, candidates, limit)
                for cap in (1, 30, 1000):
                    ranked, total, exact = index.search_counted(
                        query, match_all=True, topic=None, since=None, limit=limit, count_up_to=cap
                    )
                    assert ranked == expected, (query.terms, candidates, limit, cap)
                    if exact:
                        assert total == everything, (query.terms, cap)
                    else:
                        assert cap <= total <= everything, (query.terms, cap)
    assert taken > 300 and declined > 300, (taken, declined)


async def test_a_topic_most_papers_are_in_is_the_only_filter_taken(corpus_storage) -> None:
    """The candidates come from the title union without filters; the filters apply when
    they are scored. A topic most papers are in leaves enough of them: exactly the plain
    filtered query. A rarer topic, a day range or a source goes to the plain query, and a
    word under a topic needs as many matches as several words do."""
    index = corpus_storage.search_index
    index.common_words_matches = index.one_word_matches = 0
    index.common_words_share = 0.0
    index.title_candidates = 60
    fields = ("title", "abstract")
    searcher = index.index.searcher()
    topics = ["llm", "multimodal", "agents", "reasoning-math"]
    shares = {t: searcher.doc_freq("topics", t) / searcher.num_docs for t in topics}
    assert max(shares.values()) > 0.3 > min(shares.values()), shares
    taken = 0
    tried = []
    walk = index._common_words_top

    def recorded(*args, **kwargs):  # the real walk, noting that it ran
        tried.append(args)
        return walk(*args, **kwargs)

    index._common_words_top = recorded
    for words in (("language", "model"), ("models",), ("large", "language", "models")):
        query = ParsedQuery(terms=words)
        for topic in topics:
            final = index._final_query(query, True, topic, None, fields, ALL_SOURCES)
            assert final is not None
            for limit in (1, 5, 20):
                expected = index._run(final, limit)
                index.common_words_share = 0.3
                tried.clear()
                found = index._common_top(
                    query, True, topic, None, ALL_SOURCES, fields, final, limit
                )
                if shares[topic] < 0.3:  # not even tried: too few candidates would pass
                    assert found is None and not tried, (words, topic)
                elif found is not None:
                    taken += 1
                    assert found[0] == expected, (words, topic, limit)
                index.common_words_share = 0.0  # every topic tried
                found = index._common_top(
                    query, True, topic, None, ALL_SOURCES, fields, final, limit
                )
                assert found is None or found[0] == expected, (words, topic, limit)
                got = index.search(query, match_all=True, topic=topic, since=None, limit=limit)
                assert got == expected, (words, topic, limit)
    assert taken >= 5
    query = ParsedQuery(terms=("language", "model"))
    since = dt.date(2000, 1, 1)
    final = index._final_query(query, True, None, since, fields, ALL_SOURCES)
    assert final is not None
    assert index._common_top(query, True, None, since, ALL_SOURCES, fields, final, 5) is None
    arxiv = SourceFilter(source=ARXIV)
    final = index._final_query(query, True, None, None, fields, arxiv)
    assert final is not None
    assert index._common_top(query, True, None, None, arxiv, fields, final, 5) is None
    # One word under a topic is an intersection, not a union tantivy skips through: it is
    # held to the many-words bar, not the one-word bar.
    index.one_word_matches = 10**9  # more papers than the corpus holds
    index.common_words_share = 0.0
    index._common_words_top = recorded
    query = ParsedQuery(terms=("models",))
    for topic, walked in ((None, False), ("llm", True)):
        tried.clear()
        final = index._final_query(query, True, topic, None, fields, ALL_SOURCES)
        assert final is not None
        index._common_top(query, True, topic, None, ALL_SOURCES, fields, final, 5)
        assert bool(tried) is walked, topic


async def test_rare_words_few_matches_and_phrases_take_the_plain_query(corpus_storage) -> None:
    """A word in few abstracts weighs too much there for the bound, few matches make the
    plain query cheap, and a phrase or a prefix is no union of terms."""
    index = corpus_storage.search_index
    fields = ("title", "abstract")
    query = ParsedQuery(terms=("language", "model"))
    index.common_words_share = 0.0
    assert index._common_words(query, fields) is not None
    index.common_words_share = 0.99  # no word is in every abstract
    assert index._common_words(query, fields) is None
    index.common_words_share = 0.0
    # Fewer matches than the latest days call for: the plain query is cheap, and runs.
    final = index._final_query(query, True, None, None, fields, ALL_SOURCES)
    assert final is not None
    index.common_words_matches = index.one_word_matches = 0
    index.title_candidates = 60
    assert index._common_top(query, True, None, None, ALL_SOURCES, fields, final, 5) is not None
    index.common_words_matches = 10**9  # more papers than the corpus holds
    assert index._common_top(query, True, None, None, ALL_SOURCES, fields, final, 5) is None
    assert index._common_words(query, ("title",)) is None
    index.common_words_share = 0.2
    assert index._common_words(ParsedQuery(terms=("zyxwvut",)), fields) is None
    assert index._common_words(ParsedQuery(phrases=(("language", "model"),)), fields) is None
    assert index._common_words(ParsedQuery(terms=("model",), prefixes=("lang",)), fields) is None


def paper(pid: int, title: str, abstract: str) -> IndexedPaper:
    return IndexedPaper(
        id=pid, title=title, abstract=abstract, topics=(), name=None, last_seen=dt.date(2026, 3, 1)
    )


def test_a_paper_ranked_by_its_abstract_is_left_to_the_plain_query(tmp_path) -> None:
    """Every title holds both words, so a title weighs almost nothing, while one short
    abstract holds them many times: that paper ranks first though its title is no better
    than the rest. Its score is within what an abstract can add above the candidates'
    last title score, so the shortcut cannot show its candidates are the best and
    declines; the plain query answers."""
    index = SearchIndex(tmp_path / "index")
    index.common_words_share = 0.0
    index.common_words_matches = index.one_word_matches = 0
    index.title_candidates = 5
    papers = [paper(pid, f"Quartz widget study {pid}", f"Notes {pid}.") for pid in range(1, 40)]
    papers.append(paper(40, "Quartz widget study 40", "Quartz widget quartz widget quartz widget."))
    index.apply(papers, new=True)
    query = ParsedQuery(terms=("quartz", "widget"))
    expected = plain(index, query, 3)
    assert expected[0][0] == 40
    final = index._final_query(query, True, None, None, ("title", "abstract"), ALL_SOURCES)
    stems = index._common_words(query, ("title", "abstract"))
    assert stems and final is not None
    assert index._common_words_top(stems, final, 3) is None
    assert index.search(query, match_all=True, topic=None, since=None, limit=3) == expected
    index.close()


class SearchesCounted:
    """A tantivy index whose searchers count the searches they run."""

    def __init__(self, index: Any) -> None:
        self.index, self.searches = index, 0

    def searcher(self) -> Any:
        counted, searcher = self, self.index.searcher()

        class Counting:
            def search(self, *args: Any, **kwargs: Any) -> Any:
                counted.searches += 1
                return searcher.search(*args, **kwargs)

            def __getattr__(self, name: str) -> Any:
                return getattr(searcher, name)

        return Counting()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.index, name)


def test_a_rarer_word_in_too_few_titles_is_left_to_the_plain_query(tmp_path) -> None:
    """`quartz` is in 15% of the abstracts (below TITLED_SHARE) and in no title: the
    title union cannot rank by it, so the shortcut declines before walking the union
    and the plain query answers. Once `quartz` is in a page of titles it is tried, and
    a word above TITLED_SHARE is tried whatever the titles hold."""
    index = SearchIndex(tmp_path / "index")
    index.common_words_share = 0.1
    index.common_words_matches = index.one_word_matches = 0
    index.title_candidates = 20
    papers = [
        paper(
            pid, f"Widget study {pid}", f"Widget notes {pid}" + (" quartz." if pid <= 15 else ".")
        )
        for pid in range(1, 101)
    ]
    index.apply(papers, new=True)
    fields = ("title", "abstract")
    query = ParsedQuery(terms=("quartz", "widget"))
    stems = index._common_words(query, fields)
    final = index._final_query(query, True, None, None, fields, ALL_SOURCES)
    assert stems == ["quartz", "widget"] and final is not None
    searcher = index.index.searcher()
    assert index._untitled(searcher, stems, 5)
    walks = SearchesCounted(index.index)
    index.index = walks  # type: ignore[assignment]
    assert index._common_words_top(stems, final, 5) is None
    assert walks.searches == 0  # declined before walking the union
    index.index = walks.index
    assert index.search(query, match_all=True, topic=None, since=None, limit=5) == plain(
        index, query, 5
    )
    assert not index._untitled(searcher, ["widget", "note"], 5)  # in every abstract
    index.apply(
        [paper(pid, f"Quartz widget {pid}", f"Widget quartz {pid}.") for pid in range(101, 106)],
        new=True,
    )
    searcher = index.index.searcher()
    assert searcher.doc_freq("abstract", "quartz") < 0.2 * searcher.num_docs
    assert not index._untitled(searcher, stems, 5)
    assert index._untitled(searcher, stems, 6)
    index.close()


def test_the_bound_counts_the_documents_tantivy_counts(tmp_path) -> None:
    """A replaced paper's old document counts in tantivy's IDFs until its segment is
    merged, so the number of documents the bound uses is tantivy's own, which the
    index's live count can fall short of."""
    index = SearchIndex(tmp_path / "index")
    papers = [paper(pid, f"Quartz widget {pid}", "Quartz notes.") for pid in range(1, 11)]
    index.apply(papers, new=True)
    index.apply([paper(3, "Quartz widget again", "Quartz notes again.")])
    searcher = index.index.searcher()
    hits = index.index.searcher().search(index.index.parse_query("quartz", ["title"]), 1).hits
    query = index.index.parse_query("quartz", ["title"])
    counted = index._total_docs(searcher, query, hits[0][1])
    assert searcher.num_docs == 10
    assert counted is not None and counted >= 11
    index.close()


def abstract_words_by_papers() -> list[str]:
    """The real abstracts' words of four letters or more, those most papers hold first."""
    seen: dict[str, int] = {}
    for row in real_papers():
        for word in set(re.findall(r"[a-z]{4,}", row["abstract"].lower())):
            seen[word] = seen.get(word, 0) + 1
    return [w for w, _ in sorted(seen.items(), key=lambda kv: (-kv[1], kv[0]))]


def test_on_4787_real_papers_the_shortcut_is_the_plain_query(real_index) -> None:
    """Real titles hold common words far less often than their abstracts do (a third
    as often at most; the generated corpus' titles hold `language` two thirds as often),
    so the title union ranks otherwise: on 4,787 real Hugging Face papers, every query
    of their 12 commonest content words, alone and in pairs, is the plain query's
    whenever it is taken, and it is taken for most of them."""
    index = real_index
    index.common_words_share = 0.0
    index.common_words_matches = index.one_word_matches = 0
    searcher = index.index.searcher()
    stop = {"that", "with", "this", "from", "which", "their", "these", "such", "than", "both"}
    common = [w for w in abstract_words_by_papers() if w not in stop][:12]
    for word in common:
        stem = stem_tokens(word)[0]
        assert searcher.doc_freq("title", stem) < searcher.doc_freq("abstract", stem) / 3
    taken = 0
    for size in (1, 2):
        for words in itertools.combinations(common, size):
            query = ParsedQuery(terms=words)
            for candidates, limit in ((20, 5), (200, 20), (500, 50)):
                index.title_candidates = candidates
                expected = plain(index, query, limit)
                got = index.search(query, match_all=True, topic=None, since=None, limit=limit)
                assert got == expected, (words, candidates, limit)
                final = index._final_query(
                    query, True, None, None, ("title", "abstract"), ALL_SOURCES
                )
                assert final is not None
                stems = index._common_words(query, ("title", "abstract"))
                taken += bool(stems and index._common_words_top(stems, final, limit))
    assert taken >= 150, taken  # of 234


def test_on_4787_real_papers_the_title_bar_turns_away_bounds_that_would_fail(
    real_index, monkeypatch
) -> None:
    """The 20 commonest words in 10-20% of the real abstracts, alone and with `models`
    or `language`, at two page sizes: every answer is the plain query's. Where the title
    bar turns the common-words way away (a word in fewer titles than the page), its
    bound would mostly have failed after the union's walk; where the bar lets it
    through, the bound mostly holds (measured: 7 of 75 and 44 of 45)."""
    index = real_index
    index.common_words_share = COMMON_WORDS_SHARE
    index.common_words_matches = index.one_word_matches = 0
    searcher = index.index.searcher()

    def share(word: str) -> float:
        stems = stem_tokens(word)
        return searcher.doc_freq("abstract", stems[0]) / searcher.num_docs if stems else 0.0

    band = [w for w in abstract_words_by_papers() if COMMON_WORDS_SHARE <= share(w) < TITLED_SHARE][
        :20
    ]
    assert len(band) == 20
    fields = ("title", "abstract")
    barred: list[bool] = []  # would the bound have held?
    passed: list[bool] = []  # did it hold?
    for word in band:
        for other in ((), ("models",), ("language",)):
            query = ParsedQuery(terms=(word, *other))
            for candidates, limit in ((200, 20), (500, 50)):
                index.title_candidates = candidates
                expected = plain(index, query, limit)
                got = index.search(query, match_all=True, topic=None, since=None, limit=limit)
                assert got == expected, (word, other, limit)
                stems = index._common_words(query, fields)
                final = index._final_query(query, True, None, None, fields, ALL_SOURCES)
                assert stems and final is not None
                if not index._untitled(searcher, stems, limit):
                    passed.append(index._common_words_top(stems, final, limit) is not None)
                    continue
                assert index._common_words_top(stems, final, limit) is None
                with monkeypatch.context() as without_bar:
                    without_bar.setattr(common_words, "TITLED_SHARE", 0.0)
                    barred.append(index._common_words_top(stems, final, limit) is not None)
    assert len(barred) >= 20 and len(passed) >= 20, (len(barred), len(passed))
    assert sum(barred) <= len(barred) // 4, (sum(barred), len(barred))
    assert sum(passed) >= 3 * len(passed) // 4, (sum(passed), len(passed))
