"""An arXiv id or link opens its paper, on both backends: every id of the real set, each
pasted in one of the forms people paste, and old-style ids."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator

import pytest

from bot.core.ingest import ingest_bytes
from bot.core.topics import load_default_topics
from bot.services.search import SearchService
from storage import Storage
from tests.conftest import ingest_sample
from tests.real_papers import OLD_STYLE, api_dump, real_titles

FORMS = [
    "{id}",
    "{id}v2",
    "arXiv:{id}",
    "arxiv:{id}v3",
    "arXiv: {id}",
    "https://arxiv.org/abs/{id}",
    "http://arxiv.org/abs/{id}v1",
    "https://arxiv.org/pdf/{id}",
    "https://arxiv.org/pdf/{id}v2.pdf",
    "https://arxiv.org/pdf/{id}.pdf",
    "https://export.arxiv.org/abs/{id}",
    "https://www.arxiv.org/abs/{id}/",
    "arxiv.org/abs/{id}",
    "https://arxiv.org/abs/{id}?context=cs",
    "https://arxiv.org/html/{id}v1",
    "https://huggingface.co/papers/{id}",
    "huggingface.co/papers/{id}#community",
    "<https://arxiv.org/abs/{id}>",
    "  HTTPS://ARXIV.ORG/ABS/{id}  ",
]


async def sample_and_real_ids(storage: Storage) -> None:
    await ingest_sample(storage)
    dump = api_dump(real_titles() + OLD_STYLE)
    report = await ingest_bytes(storage, dump, "api.json", today=dt.date(2026, 11, 26))
    assert report.error is None


@pytest.fixture
async def papers_with_ids(backend_copy) -> AsyncIterator[Storage]:
    async with backend_copy(sample_and_real_ids) as store:
        yield store


async def test_every_real_id_in_any_pasted_form_opens_its_paper(papers_with_ids) -> None:
    service = SearchService(papers_with_ids, load_default_topics())
    stored = {title: pid for pid, title in await papers_with_ids.all_titles()}
    wrong = []
    for (arxiv_id, title), form in zip(real_titles(), itertools.cycle(FORMS), strict=False):
        pasted = form.format(id=arxiv_id)
        found = await service.open_paper(pasted)
        if found.paper is None or found.paper.arxiv_id != arxiv_id or found.arxiv_id != arxiv_id:
            wrong.append((pasted, title, found))
        elif title in stored and found.paper.id != stored[title]:
            wrong.append((pasted, title, found.paper.title))
    assert wrong == []


OLD_FORMS = [
    ("hep-th/9711200", "hep-th/9711200"),
    ("arXiv:hep-th/9711200v3", "hep-th/9711200"),
    ("https://arxiv.org/abs/hep-th/9711200", "hep-th/9711200"),
    ("https://arxiv.org/pdf/hep-th/9711200v3.pdf", "hep-th/9711200"),
    ("HEP-TH/9711200", "hep-th/9711200"),
    ("math/0211159", "math/0211159"),
]


async def test_old_style_ids_open_their_paper(papers_with_ids) -> None:
    service = SearchService(papers_with_ids, load_default_topics())
    for pasted, arxiv_id in OLD_FORMS:
        found = await service.open_paper(pasted)
        assert found.paper is not None, pasted
        assert (found.paper.arxiv_id, found.paper.title) == (arxiv_id, dict(OLD_STYLE)[arxiv_id])


async def test_a_well_formed_id_not_stored_says_so(papers_with_ids) -> None:
    """Not a keyword search for the digits: nothing, and which id was asked for."""
    service = SearchService(papers_with_ids, load_default_topics())
    for pasted in ["2205.99999", "arXiv:2205.99999v2", "https://huggingface.co/papers/2205.99999"]:
        found = await service.open_paper(pasted)
        assert found.paper is None and found.arxiv_id == "2205.99999", pasted
        assert await service.title_choices(pasted) == []
    found = await service.open_paper("hep-th/9901001")
    assert found.paper is None and found.arxiv_id == "hep-th/9901001"


async def test_text_around_an_id_is_a_title_search(papers_with_ids) -> None:
    service = SearchService(papers_with_ids, load_default_topics())
    assert await service.arxiv_paper("2205.01068 results") is None
    assert await service.arxiv_paper("see https://arxiv.org/abs/2205.01068") is None
    named = await service.arxiv_paper("https://arxiv.org/abs/2205.01068")
    assert named is not None and named.paper is not None
    assert named.paper.title == "OPT: Open Pre-trained Transformer Language Models"
    # Autocomplete offers the paper a pasted link names, as its one choice.
    [(pid, title)] = await service.title_choices("https://huggingface.co/papers/2205.01068")
    assert pid == named.paper.id and title == named.paper.title
