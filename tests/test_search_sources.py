"""Search filtered by source and arXiv category, on both backends: the filter is applied
inside the engine (SQLite's tantivy index, PostgreSQL's SQL), so totals count only the
papers that pass it, with a query, with a topic, or with neither.

The corpus is real: the sample dump (98 Hugging Face papers) and the arXiv listings of
tests/data/arxiv (announcement feeds and API answers, some of the papers also in a
Hugging Face answer). What each filter should find is worked out from the stored
papers' own sources and categories (`get_papers`), not from the engines' answers.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.core.ingest import ingest_bytes
from bot.core.models import StoredPaper
from bot.core.parse import parse_dump
from bot.core.query import parse_query
from bot.core.sources import SourceFilter, category_matches, parse_source_filter
from bot.core.topics import load_default_topics
from bot.services.search import SearchService
from storage.sqlite.search_index import SCHEMA_VERSION
from tests.conftest import TODAY, backend_of, ingest_sample, reopen_with_index_version

ARXIV = Path(__file__).resolve().parent / "data" / "arxiv"
LISTINGS = (
    "rss_cs.AI_2026-04-27.xml",
    "rss_cs.CL_2026-04-27.xml",
    "rss_cs.LG_2026-04-27.xml",
    "rss_cs.AI_2026-04-28_cross_and_replace.xml",
    "api_cs.LG_2026-04-30.xml",
    "api_cs.RO_old_style.xml",
    "api_einstein_old_ids.xml",
    "hf_2026-04-30_two_papers.json",
)
FILTERS = (
    "hf",
    "arxiv",
    "arxiv:cs.CL",
    "arxiv:cs.CV",
    "arxiv:cs",
    "arxiv:math",
    "arxiv:math.DG,cs.RO",
    "arxiv:stat.ML",
    "arxiv:physics.hist-ph",
    "arxiv:q-fin",
)
EVERYTHING = 1_000_000


async def ingest_listings(storage, names=LISTINGS) -> None:
    for name in names:
        report = await ingest_bytes(storage, (ARXIV / name).read_bytes(), name, today=TODAY)
        assert report.error is None, report.error


async def sample_and_listings(storage) -> None:
    await ingest_sample(storage)
    await ingest_listings(storage)


@pytest.fixture
async def mixed(backend_copy):
    async with backend_copy(sample_and_listings) as store:
        yield store


async def every_paper(storage) -> list[StoredPaper]:
    return await storage.get_papers([pid for pid, _ in await storage.all_titles()])


def passing(papers: list[StoredPaper], source: SourceFilter) -> list[StoredPaper]:
    """The papers a filter should keep, from what each stored paper carries."""
    kept = []
    for paper in papers:
        if source.source is not None and source.source not in paper.sources:
            continue
        if source.categories and not any(
            category_matches(c, paper.categories) for c in source.categories
        ):
            continue
        kept.append(paper)
    return kept


def newest_first(papers: list[StoredPaper]) -> list[int]:
    return [p.id for p in sorted(papers, key=lambda p: (p.last_seen, p.id), reverse=True)]


async def test_the_corpus_has_what_the_filters_need(mixed) -> None:
    # Worked out from the files themselves: the stored papers carry their listings'
    # sources and categories, and the two papers in HF's answer carry both sources.
    papers = await every_paper(mixed)
    arxiv_ids = set()
    math_dg = set()
    for name in LISTINGS:
        parsed = parse_dump((ARXIV / name).read_bytes(), name)
        if parsed.format.startswith("arxiv"):
            arxiv_ids |= {p.arxiv_id for p in parsed.papers}
            math_dg |= {p.arxiv_id for p in parsed.papers if "math.DG" in p.categories}
    from_arxiv = [p for p in papers if "arxiv" in p.sources]
    assert {p.arxiv_id for p in from_arxiv} == arxiv_ids
    assert len([p for p in papers if set(p.sources) == {"hf", "arxiv"}]) == 2
    assert {p.arxiv_id for p in papers if "math.DG" in p.categories} == math_dg
    assert len(math_dg) == 8


@pytest.mark.parametrize("typed", FILTERS)
async def test_a_source_only_search_lists_and_counts_exactly_its_papers(mixed, typed) -> None:
    source = parse_source_filter(typed)
    expected = newest_first(passing(await every_paper(mixed), source))
    service = SearchService(mixed, load_default_topics())
    response = await service.search(None, source=source, limit=5)
    assert (response.total, response.total_exact) == (len(expected), True), typed
    assert [h.paper.id for h in response.hits] == expected[:5]
    # The whole list, in the engine's order: newest first, then the highest id.
    found = await mixed.recent_matches(source=source, since=None, limit=500, count_up_to=1000)
    assert [pid for pid, _ in found.ranked] == expected
    # Each result says why it passed.
    for hit in response.hits:
        assert hit.why and hit.why[0].startswith(("Hugging Face", "arXiv")), hit.why


async def test_a_source_only_search_since_a_day(mixed) -> None:
    source = parse_source_filter("arxiv:cs")
    since = dt.date(2026, 4, 28)
    kept = [p for p in passing(await every_paper(mixed), source) if p.last_seen >= since]
    everything = passing(await every_paper(mixed), source)
    assert 0 < len(kept) < len(everything)
    response = await SearchService(mixed, load_default_topics()).search(
        None, source=source, since=since, limit=50
    )
    assert response.total == len(kept)
    assert [h.paper.id for h in response.hits] == newest_first(kept)


@pytest.mark.parametrize("word", ["learning", "model", "language", "manifold"])
@pytest.mark.parametrize("typed", ["hf", "arxiv", "arxiv:cs.CL", "arxiv:cs", "arxiv:math"])
async def test_a_query_counts_only_the_papers_from_the_source(mixed, word, typed) -> None:
    source = parse_source_filter(typed)
    unfiltered = await mixed.text_search(
        parse_query(word), match_all=True, topic=None, since=None, limit=EVERYTHING
    )
    by_id = {p.id: p for p in await every_paper(mixed)}
    expected = {p.id for p in passing([by_id[pid] for pid, _ in unfiltered], source)}
    filtered = await mixed.text_search(
        parse_query(word), match_all=True, topic=None, since=None, limit=EVERYTHING, source=source
    )
    assert {pid for pid, _ in filtered} == expected
    response = await SearchService(mixed, load_default_topics()).search(
        word, source=source, limit=5
    )
    assert response.total == len(expected), (word, typed)
    assert {h.paper.id for h in response.hits} <= expected
    assert len(response.hits) == min(5, len(expected))


async def test_the_count_is_of_matching_papers_not_of_the_page(mixed) -> None:
    # Far more HF papers than one page hold "model": the total says how many.
    source = parse_source_filter("hf")
    response = await SearchService(mixed, load_default_topics()).search(
        "model", source=source, limit=3
    )
    everything = await SearchService(mixed, load_default_topics()).search("model", limit=3)
    assert len(response.hits) == 3
    assert 3 < response.total < everything.total


async def test_a_topic_search_with_a_source_counts_within_both(mixed) -> None:
    papers = await every_paper(mixed)
    service = SearchService(mixed, load_default_topics())
    checked = 0
    for topic in load_default_topics():
        in_topic = [p for p in papers if topic.slug in {t.topic for t in p.topics}]
        for typed in ("hf", "arxiv", "arxiv:cs.CL"):
            source = parse_source_filter(typed)
            expected = passing(in_topic, source)
            response = await service.search(None, topic=topic.slug, source=source, limit=3)
            assert response.total == len(expected), (topic.slug, typed)
            assert {h.paper.id for h in response.hits} <= {p.id for p in expected}
            # Counting in the engine, past the page: the backend counts beyond `limit`.
            matches = await mixed.topic_matches(
                topic.slug, since=None, limit=1, count_up_to=1000, source=source
            )
            assert matches.total == len(expected)
            checked += len(expected) > 1 and len(expected) < len(in_topic)
    assert checked >= 3  # filters that narrowed a topic to several papers, not all


async def test_a_paper_listed_later_by_arxiv_is_found_under_arxiv(backend_storage) -> None:
    # Hugging Face lists two papers first; arXiv's answer lists them (and more) later.
    # The change to their sources reaches the index, which then finds them.
    await ingest_listings(backend_storage, ["hf_2026-04-30_two_papers.json"])
    source = parse_source_filter("arxiv:cs.LG")
    service = SearchService(backend_storage, load_default_topics())
    assert (await service.search(None, source=source)).total == 0
    assert (await service.search(None, source=parse_source_filter("hf"))).total == 2
    await ingest_listings(backend_storage, ["api_cs.LG_2026-04-30.xml"])
    papers = await every_paper(backend_storage)
    both = {p.id for p in papers if set(p.sources) == {"hf", "arxiv"}}
    assert len(both) == 2
    name = "api_cs.LG_2026-04-30.xml"
    in_cs_lg = [
        p for p in parse_dump((ARXIV / name).read_bytes()).papers if "cs.LG" in p.categories
    ]
    response = await service.search(None, source=source, limit=50)
    assert response.total == len(passing(papers, source)) == len(in_cs_lg) > 2
    assert both <= {h.paper.id for h in response.hits}


async def test_categories_seen_are_the_stored_ones_most_papers_first(mixed) -> None:
    papers = await every_paper(mixed)
    counts: dict[str, int] = {}
    for paper in papers:
        for category in paper.categories:
            counts[category] = counts.get(category, 0) + 1
    assert await mixed.category_counts() == counts
    seen = await SearchService(mixed, load_default_topics()).categories_seen()
    assert seen[:2] == ["cs", "cs.LG"]  # the largest archive, then its largest category
    assert set(seen) == set(counts) | {c.split(".")[0] for c in counts}


async def test_an_index_of_the_previous_format_is_rebuilt_with_sources(
    backend_storage, tmp_path
) -> None:
    if backend_of(backend_storage) != "sqlite":
        # PostgreSQL filters in SQL on the tables themselves: nothing to rebuild.
        return
    await ingest_listings(backend_storage)
    expected = len(passing(await every_paper(backend_storage), parse_source_filter("arxiv:cs")))
    # What an index written before sources and categories were indexed says it is.
    reopened, version = await reopen_with_index_version(backend_storage, "5")
    try:
        assert reopened.search_index.created  # the old index is rebuilt from the database
        response = await SearchService(reopened, load_default_topics()).search(
            None, source=parse_source_filter("arxiv:cs")
        )
        assert response.total == expected > 0
        assert version.read_text() == SCHEMA_VERSION
    finally:
        await reopened.close()
