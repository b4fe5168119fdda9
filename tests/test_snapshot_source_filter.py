"""Papers from the arXiv snapshot import pass a search's arXiv source filter on both
backends, as listed papers do: the import writes no dump, but it stores each paper's
arXiv categories, and known categories make a paper arXiv's. Hugging Face's papers (the
sample dump, no categories) still pass only `hf`.

What each filter should find is worked out from the snapshot file's own records (their
ids and category lists), not from the engines' answers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.snapshot import SnapshotFilter
from bot.core.sources import category_matches, feed_category, parse_source_filter
from bot.core.topics import load_default_topics
from bot.services.search import SearchService
from bot.services.snapshot_import import import_snapshot
from tests.conftest import ingest_sample

FIRST = Path(__file__).resolve().parent / "data" / "snapshot" / "snapshot_first100.jsonl"
FILTERS = (
    "arxiv",
    "arxiv:cs.AI",
    "arxiv:cs",
    "arxiv:hep-th",
    "arxiv:math.CO,cs.NE",
    "arxiv:cond-mat",
    "arxiv:physics.optics",
    "arxiv:stat",  # no record is in it
)
EVERYTHING = 1000


def snapshot_categories() -> dict[str, list[str]]:
    """Each record's arXiv id and its categories, as the file lists them."""
    found = {}
    for line in FIRST.read_text().splitlines():
        record = json.loads(line)
        terms = (feed_category(term) for term in record["categories"].split())
        found[record["id"]] = [c for c in terms if c is not None]
    return found


def expected_ids(typed: str) -> set[str]:
    """The snapshot's arXiv ids a filter should keep."""
    source = parse_source_filter(typed)
    return {
        arxiv_id
        for arxiv_id, categories in snapshot_categories().items()
        if not source.categories or any(category_matches(c, categories) for c in source.categories)
    }


async def sample_and_snapshot(storage) -> None:
    await ingest_sample(storage)
    result = await import_snapshot(storage, FIRST, SnapshotFilter(), workers=0)
    assert result.counts.imported == 100


@pytest.fixture
async def imported(backend_copy):
    async with backend_copy(sample_and_snapshot) as store:
        yield store


async def arxiv_ids(storage, ids) -> set[str]:
    papers = await storage.get_papers(list(ids))
    return {p.arxiv_id for p in papers}


@pytest.mark.parametrize("typed", FILTERS)
async def test_a_source_filter_finds_the_imported_papers(imported, typed) -> None:
    expected = expected_ids(typed)
    source = parse_source_filter(typed)
    response = await SearchService(imported, load_default_topics()).search(
        None, source=source, limit=50
    )
    assert response.total == len(expected), typed
    found = await imported.recent_matches(
        source=source, since=None, limit=EVERYTHING, count_up_to=EVERYTHING
    )
    assert await arxiv_ids(imported, [pid for pid, _ in found.ranked]) == expected
    for hit in response.hits:
        assert hit.why and hit.why[0].startswith("arXiv"), hit.why


@pytest.mark.parametrize("word", ["field", "energy", "graph"])
@pytest.mark.parametrize("typed", ["arxiv", "arxiv:hep-ph", "arxiv:math", "hf"])
async def test_a_query_with_a_source_finds_the_imported_papers(imported, word, typed) -> None:
    service = SearchService(imported, load_default_topics())
    everything = await service.search(word, limit=50)
    assert everything.total <= 50
    source = parse_source_filter(typed)
    in_snapshot = expected_ids(typed) if source.source == "arxiv" else set()
    hf_only = {h.paper.id for h in everything.hits if h.paper.arxiv_id not in snapshot_categories()}
    expected = {
        h.paper.id
        for h in everything.hits
        if h.paper.arxiv_id in in_snapshot or (typed == "hf" and h.paper.id in hf_only)
    }
    response = await service.search(word, source=source, limit=50)
    assert {h.paper.id for h in response.hits} == expected, (word, typed)
    assert response.total == len(expected)


async def test_hugging_face_papers_stay_out_of_the_arxiv_filter(imported) -> None:
    service = SearchService(imported, load_default_topics())
    arxiv = await service.search(None, source=parse_source_filter("arxiv"), limit=50)
    hf = await service.search(None, source=parse_source_filter("hf"), limit=50)
    # The sample dump's 98 papers, listed by Hugging Face only, have no categories.
    assert (arxiv.total, hf.total) == (100, 98)
    assert not await arxiv_ids(imported, [h.paper.id for h in hf.hits]) & set(snapshot_categories())
