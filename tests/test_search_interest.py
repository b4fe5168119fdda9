"""Interest statements on a small store (the sample dump, both backends): their filler
words ("papers", "on", "up") match nothing, and a word the store lacks is not
"corrected" into an unrelated neighbour that shares its plural ending ("phones" is not
"ones"), while real slips are still corrected."""

from __future__ import annotations

import re

import pytest

from bot.core.query import filler_words, parse_query, without_fillers
from bot.core.text import words
from bot.core.topics import load_default_topics
from bot.services.search import SearchService

STATEMENT = "papers on speeding up LLM inference on phones"
CONTENT = {"speeding", "llm", "inference", "phones"}
STEMS = ("speed", "llm", "infer", "phone")


@pytest.fixture
async def service(backend_sample_storage) -> SearchService:
    return SearchService(backend_sample_storage, load_default_topics())


def why_words(why: tuple[str, ...]) -> set[str]:
    """The query words a hit's why says it holds (`title: llm; abstract: on, x`)."""
    found: set[str] = set()
    for line in why:
        for part in line.split(";"):
            field, _, listed = part.partition(":")
            if field.strip() in ("title", "abstract"):
                found |= {w.strip() for w in listed.split(",") if w.strip()}
    return found


async def test_an_interest_statement_is_matched_by_its_content_words(
    service, backend_sample_storage
) -> None:
    response = await service.search(STATEMENT, limit=50)
    assert response.hits
    assert response.corrections == ()  # "phones" is not turned into "ones"
    for hit in response.hits:
        assert why_words(hit.why) <= CONTENT, hit.why
        text = words(f"{hit.paper.title} {hit.paper.abstract}")
        # Each paper holds a form of a content word (the index stems: `speed` for
        # `speeding`), not only "on".
        assert any(w.startswith(STEMS) for w in text), hit.paper.title
    # Counted alike: no paper counts for holding "on" (nearly all of them do).
    papers = await backend_sample_storage.get_papers(
        [pid for pid, _ in await backend_sample_storage.all_titles()]
    )
    holding = [
        p for p in papers if any(w.startswith(STEMS) for w in words(p.title + " " + p.abstract))
    ]
    assert 0 < response.total <= len(holding) < len(papers) / 2


async def test_a_word_the_store_lacks_keeps_its_spelling_when_only_a_plural_is_alike(
    service,
) -> None:
    response = await service.search("phones")
    assert response.corrections == ()
    assert response.corrected is None
    assert response.hits == []  # no paper says it; none is passed off as one


async def test_another_form_of_a_known_word_is_not_a_misspelling(
    service, backend_sample_storage
) -> None:
    vocabulary = await backend_sample_storage.vocabulary()
    # Real words of the sample whose plural no paper uses: the stemmed index finds the
    # singular's papers with the plural as typed, so there is nothing to correct.
    singulars = sorted(
        w
        for w, df in vocabulary.items()
        if df >= 2 and len(w) >= 6 and w.isalpha() and not w.endswith("s")
        and w + "s" not in vocabulary
    )  # fmt: skip
    assert len(singulars) >= 20
    for word in singulars[:20]:
        response = await service.search(word + "s")
        assert response.corrections == (), word
        assert response.hits, word


async def test_slips_are_still_corrected_plurals_included(service) -> None:
    response = await service.search("speech represenations")
    assert response.corrections == (("represenations", "representations"),)
    assert response.corrected == "speech representations"
    assert response.hits


async def test_a_query_of_filler_words_only_is_searched_as_typed(service) -> None:
    response = await service.search("papers on")
    assert response.hits
    assert all(why_words(h.why) & {"papers", "on"} for h in response.hits)


def test_fillers_leave_phrases_and_prefixes_whole() -> None:
    query = parse_query('papers about "state of the art" quantiz* for the edge')
    kept = without_fillers(query)
    assert kept.terms == ("edge",)
    assert kept.phrases == (("state", "of", "the", "art"),)
    assert kept.prefixes == ("quantiz",)
    assert {"papers", "about", "for", "the", "on", "up"} <= filler_words()
    assert not re.search(r"\s", "".join(filler_words()))
