"""Search on the sample dump: the relevance examples, hostile input, filters and why.
Every test runs on both backends (SQLite + tantivy, PostgreSQL full-text search)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.topics import load_default_topics
from bot.services.search import SearchService

HOSTILE = [
    "c++",
    '"unterminated',
    "AND",
    "-x",
    "a:b",
    "*",
    "(",
    "🧬🔬",
    "x" * 5000,
    "NEAR(a b)",
    "title:protein",
    "a OR",
    "it's",
    "what?",
    "@user",
    "a/b",
    "foo-bar",
    '""',
    "\x00",
    "NOT protein",
    "^protein",
    "protein)",
]


@pytest.fixture
async def service(backend_sample_storage) -> SearchService:
    return SearchService(backend_sample_storage, load_default_topics())


async def titles(service: SearchService, query: str, **kw) -> list[str]:
    response = await service.search(query, **kw)
    return [h.paper.title for h in response.hits]


async def test_protein_puts_both_protein_papers_first(service) -> None:
    found = await titles(service, "protein")
    assert set(found[:2]) == {
        "Long-context Protein Language Model",
        "InstructProtein: Aligning Human and Protein Language via Knowledge Instruction",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "w2v bert",
            "W2v-BERT: Combining Contrastive Learning and Masked Language Modeling "
            "for Self-Supervised Speech Pre-Training",
        ),
        (
            "loramoe",
            "LoRAMoE: Revolutionizing Mixture of Experts for Maintaining World "
            "Knowledge in Language Model Alignment",
        ),
    ],
)
async def test_named_papers_rank_first(service, query, expected) -> None:
    found = await titles(service, query)
    assert found[0] == expected


async def test_misspelled_query_finds_the_paper(service) -> None:
    response = await service.search("protien langauge model")
    top3 = [h.paper.title for h in response.hits[:3]]
    assert "Long-context Protein Language Model" in top3
    assert response.corrected == "protein language model"
    # The correction is said once for the reply, not repeated in every result's "why".
    assert response.corrections == (("protien", "protein"), ("langauge", "language"))
    assert not any("spelling" in w for hit in response.hits for w in hit.why)


async def test_speech_papers_come_first(service, backend_sample_storage) -> None:
    response = await service.search("speech", limit=50)
    speech_titles = [
        t for _, t in await backend_sample_storage.all_titles() if "speech" in t.casefold()
    ]
    assert len(speech_titles) >= 5
    found = [h.paper.title for h in response.hits]
    assert set(found[: len(speech_titles)]) == set(speech_titles)
    assert all("title: speech" in h.why for h in response.hits[: len(speech_titles)])


async def test_hostile_queries_never_raise(service) -> None:
    # One test for the whole list: a sample database per query would cost more than
    # all the queries together, on each backend.
    failures = {}
    for query in HOSTILE:
        try:
            response = await service.search(query)
            assert isinstance(response.hits, list)
            assert isinstance(await service.title_choices(query), list)
        except Exception as exc:
            failures[query[:40]] = repr(exc)
    assert not failures


async def test_phrase_and_prefix(service) -> None:
    phrase = await titles(service, '"mixture of experts"')
    assert phrase and phrase[0].startswith("LoRAMoE")
    prefix = await service.search("protei*")
    assert {h.paper.title for h in prefix.hits[:2]} >= {"Long-context Protein Language Model"}
    assert any("protei*" in w for w in prefix.hits[0].why)


async def test_topic_filter_and_topic_only(service) -> None:
    only = await service.search(None, topic="speech-audio", limit=100)
    assert only.hits and all("speech-audio" in {t.topic for t in h.paper.topics} for h in only.hits)
    scores = [h.score for h in only.hits]
    assert scores == sorted(scores, reverse=True)
    assert all(h.why[0].startswith("topic: ") for h in only.hits)
    both = await service.search("self-supervised", topic="speech-audio", limit=100)
    assert both.hits and {h.paper.id for h in both.hits} <= {h.paper.id for h in only.hits}
    assert all(any(w.startswith("topic:") for w in h.why) for h in both.hits)


async def test_since_filter(service) -> None:
    assert (await service.search("protein", since=dt.date(2026, 3, 14))).hits
    assert (await service.search("protein", since=dt.date(2026, 3, 15))).hits == []
    assert (await service.search(None, topic="speech-audio", since=dt.date(2026, 3, 15))).hits == []


async def test_why_names_the_terms_that_hit(service) -> None:
    response = await service.search("protein language")
    top = response.hits[0]
    assert "title: protein, language" in top.why


async def test_title_autocomplete_and_find(service) -> None:
    choices = await service.title_choices("instructprot")
    assert choices and choices[0][1].startswith("InstructProtein")
    assert len(await service.title_choices("language", limit=50)) == 25
    paper = await service.find_paper("long context protein languge model")
    assert paper is not None and paper.title == "Long-context Protein Language Model"


async def test_new_ingest_is_seen_by_an_existing_service(service, backend_sample_storage) -> None:
    from bot.core.ingest import ingest_bytes
    from tests.conftest import TODAY

    assert (await service.search("zyxwvut")).hits == []
    dump = (
        b"Mar 20\n\nZyxwvut: A Paper With a Strange Name\n\n"
        b"We present something unusual. It works well in practice.\n"
    )
    report = await ingest_bytes(backend_sample_storage, dump, "z.txt", today=TODAY)
    assert report.new == 1
    assert (await service.search("zyxwvut")).hits[0].paper.title.startswith("Zyxwvut")
