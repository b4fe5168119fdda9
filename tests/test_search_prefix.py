"""`prefix*` search terms on the SQLite backend: each word the prefix begins, from the
term dictionary, as a BM25 term query weighed as the commonest of them
(storage/sqlite/prefix_terms.py), matching exactly what the regular expressions did."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.core.models import ParsedQuery
from storage.sqlite.index_terms import TITLE_BOOST
from storage.sqlite.prefix_terms import _constant_prefix_query
from storage.sqlite.search_index import IndexedPaper, SearchIndex
from tests.relevance_dumps import real_papers

FIELDS = ("title", "abstract")


def real_prefixes() -> list[str]:
    """Beginnings (2 to 6 letters) of the real abstracts' 60 commonest words of five
    letters or more, and of 60 rarer ones: prefixes that begin one word and hundreds."""
    seen: dict[str, int] = {}
    for row in real_papers():
        for word in set(re.findall(r"[a-z]{5,}", row["abstract"].lower())):
            seen[word] = seen.get(word, 0) + 1
    ranked = [w for w, _ in sorted(seen.items(), key=lambda kv: (-kv[1], kv[0]))]
    words = ranked[:60] + ranked[1000:4000:50]
    return sorted({w[:n] for w in words for n in (2, 3, 4, 6)})


def matched(index: SearchIndex, query: ParsedQuery) -> list[tuple[int, float]]:
    return index.search(query, match_all=True, topic=None, since=None, limit=index.doc_count() or 1)


def regex_matched(index: SearchIndex, prefix: str) -> set[int]:
    """What the regular expressions over both fields match, as before."""
    query = _constant_prefix_query(index.schema, prefix, FIELDS)
    return {pid for pid, _ in index._run(query, index.doc_count())}


def test_on_4787_real_papers_a_prefix_matches_what_its_regular_expressions_match(
    real_index,
) -> None:
    """Every real prefix, alone and beside a word: the same papers as the regular
    expressions, counted exactly, best scores first."""
    index = real_index
    prefixes = real_prefixes()
    assert len(prefixes) > 150
    many = 0
    for prefix in prefixes:
        expected = regex_matched(index, prefix)
        found = matched(index, ParsedQuery(prefixes=(prefix,)))
        assert {pid for pid, _ in found} == expected, prefix
        scores = [score for _, score in found]
        assert scores == sorted(scores, reverse=True)
        _, total, exact = index.search_counted(
            ParsedQuery(prefixes=(prefix,)),
            match_all=True,
            topic=None,
            since=None,
            limit=5,
            count_up_to=1000,
        )
        assert (total, exact) == (len(expected), True), prefix
        with_word = matched(index, ParsedQuery(terms=("model",), prefixes=(prefix,)))
        holding = {pid for pid, _ in matched(index, ParsedQuery(terms=("model",)))}
        assert {pid for pid, _ in with_word} == expected & holding, prefix
        many += len(expected) > 1000
    assert many >= 10  # prefixes most papers hold are among them


def paper(pid: int, title: str, abstract: str) -> IndexedPaper:
    return IndexedPaper(
        id=pid, title=title, abstract=abstract, topics=(), name=None, last_seen=dt.date(2026, 3, 1)
    )


def scores(index: SearchIndex, prefix: str) -> dict[int, float]:
    return dict(matched(index, ParsedQuery(prefixes=(prefix,))))


def filler(n: int) -> str:
    return " ".join(f"filler{chr(97 + i % 26)}{i}" for i in range(n))


def test_each_word_weighs_as_the_prefixs_commonest_and_bm25_ranks(tmp_path) -> None:
    """A rare word the prefix begins (`langevin`, in one paper) weighs what the common
    one (`language`, in thirty) does: papers alike but for the word score alike. A paper
    holding the word twice ranks above one holding it once, a short title above a long
    one, and a word in the title above the same word in the abstract."""
    index = SearchIndex(tmp_path / "index")
    papers = [paper(pid, f"Study {pid}", f"language notes {filler(6)}") for pid in range(1, 31)]
    papers += [
        paper(31, "Study 31", f"langevin notes {filler(6)}"),
        paper(32, "Study 32", f"language language {filler(6)}"),
        paper(33, "Language", "Notes."),
        paper(34, f"Language {filler(8)}", "Notes."),
    ]
    papers += [paper(pid, f"Other {pid}", f"Nothing here {filler(6)}") for pid in range(35, 60)]
    index.apply(papers, new=True)
    found = scores(index, "lang")
    assert set(found) == set(range(1, 35))
    assert found[31] == pytest.approx(found[1], rel=1e-4)
    assert found[32] > found[1]
    assert found[33] > found[34] > found[32]
    # The regular expressions (constant scores) saw none of this.
    index.max_prefix_terms = 1
    constant = scores(index, "lang")
    assert set(constant) == set(found)
    assert {constant[33], constant[34]} == {TITLE_BOOST}
    assert {constant[pid] for pid in range(1, 33)} == {1.0}
    index.close()


def test_a_prefix_beginning_too_many_words_keeps_the_regular_expressions(tmp_path) -> None:
    """Past `max_prefix_terms` words in a field the prefix is the constant-score regular
    expressions, and matches the same papers; a prefix no word begins matches none."""
    index = SearchIndex(tmp_path / "index")
    index.apply([paper(pid, f"Paper {pid}", f"word{pid} text") for pid in range(1, 21)], new=True)
    weighed = scores(index, "word")
    index.max_prefix_terms = 19
    constant = scores(index, "word")
    assert set(weighed) == set(constant) == set(range(1, 21))
    assert set(constant.values()) == {1.0}
    assert len(set(weighed.values())) == 1 and weighed[1] != 1.0
    assert scores(index, "zzz") == {}
    index.max_prefix_terms = 20
    assert scores(index, "word") == weighed
    index.close()
