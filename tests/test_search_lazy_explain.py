"""/search explains only the page it shows; later pages are explained when paged to,
and every page reads exactly as if every hit had been explained at once."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from bot.core import rank
from bot.core.topics import load_default_topics
from bot.services import search as search_module
from bot.services.search import SearchService
from tests.discord_harness import bot_against_fake, settle

MANY = "language model"  # 50+ hits in the sample: ten pages of five
FETCHED = 50


@pytest.fixture
def explained_papers(monkeypatch) -> list[int]:
    """The ids of the papers the search service explains, in order: the real `explain`,
    counted."""
    seen: list[int] = []
    real = rank.explain

    def counting(paper, query):
        seen.append(paper.id)
        return real(paper, query)

    monkeypatch.setattr(search_module, "explain", counting)
    return seen


async def test_a_search_explains_only_the_hits_asked_for(sample_storage, explained_papers):
    service = SearchService(sample_storage, load_default_topics())

    everything = await service.search(MANY, limit=FETCHED)
    assert len(everything.hits) == FETCHED
    assert len(explained_papers) == FETCHED
    assert all(hit.why for hit in everything.hits)

    explained_papers.clear()
    first_page = await service.search(MANY, limit=FETCHED, explain_first=5)
    assert explained_papers == [hit.paper.id for hit in first_page.hits[:5]]
    assert [h.paper.id for h in first_page.hits] == [h.paper.id for h in everything.hits]
    assert [h.why for h in first_page.hits[:5]] == [h.why for h in everything.hits[:5]]

    # Paging on explains the next five only, once, and they read as if explained at once.
    explained_papers.clear()
    two_pages = first_page.explained_to(10)
    assert explained_papers == [hit.paper.id for hit in everything.hits[5:10]]
    assert two_pages.explained_to(10) is two_pages
    assert two_pages.explained_to(5) is two_pages
    assert [h.why for h in two_pages.hits[:10]] == [h.why for h in everything.hits[:10]]

    explained_papers.clear()
    all_pages = two_pages.explained_to(FETCHED + 5)
    assert len(explained_papers) == FETCHED - 10
    assert all_pages.hits == everything.hits
    assert all_pages.explained is None


def page_text(reply) -> tuple[str, list[dict], list[dict]]:
    """What a member sees of one results page: the header, the embeds, the menu."""
    menus = [c for row in reply.components for c in row.get("components", []) if c["type"] == 3]
    return reply.content, [dict(e) for e in reply.embeds], [dict(o) for o in menus[0]["options"]]


def next_button(reply) -> dict | None:
    for row in reply.components:
        for c in row.get("components", []):
            if c["type"] == 2 and c.get("label", "").startswith("Next"):
                return None if c.get("disabled") else c
    return None


async def every_page(fake, ids, explained: list[int]) -> tuple[list[Any], list[int]]:
    """Every page of one /search, Next by Next; and how many hits had been explained
    when each was shown."""
    reply = await fake.invoke(ids.guild, ids.channel, ids.user, "search", {"query": MANY})
    pages, counts = [page_text(reply)], [len(explained)]
    while (button := next_button(reply)) is not None:
        await fake.click(reply, ids.user, button["custom_id"])
        pages.append(page_text(reply))
        counts.append(len(explained))
    return pages, counts


async def test_every_page_reads_as_if_every_hit_was_explained(
    tmp_path, caplog, monkeypatch, explained_papers
) -> None:
    caplog.set_level(logging.WARNING)
    async with bot_against_fake(tmp_path, extensions=("cogs.search",)) as (fake, bot, ids):
        lazily, counts = await every_page(fake, ids, explained_papers)
        assert len(lazily) == FETCHED // 5
        # The reply explained its own page; each page turn explained the next five.
        assert counts == list(range(5, FETCHED + 1, 5))

        explained_papers.clear()
        service = bot.services.search
        real_search = service.search

        async def explaining_everything(*args: Any, **kwargs: Any):
            kwargs["explain_first"] = None
            return await real_search(*args, **kwargs)

        monkeypatch.setattr(service, "search", explaining_everything)
        at_once, counts = await every_page(fake, ids, explained_papers)
        assert counts == [FETCHED] * len(at_once)
        await settle()
        assert fake.payload_problems == []

    assert lazily == at_once
    assert all(any("Why" in str(e) for e in embeds) for _, embeds, _ in lazily)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_quick_clicks_still_show_every_reason(tmp_path, caplog, monkeypatch) -> None:
    """Next pressed several times before the bot answers the first: each turn explains
    off the event loop while the next arrives (the first turn's explaining made slow, so
    it ends after the later ones), and the page finally shown has every hit's reasons,
    as if every hit had been explained at once."""
    caplog.set_level(logging.WARNING)
    async with bot_against_fake(tmp_path, extensions=("cogs.search",)) as (fake, bot, ids):
        reply = await fake.invoke(ids.guild, ids.channel, ids.user, "search", {"query": MANY})
        real = rank.explain
        slow: set[int] = set()

        def slow_on_page_two(paper, query):
            if paper.id in slow:
                time.sleep(0.05)
            return real(paper, query)

        monkeypatch.setattr(search_module, "explain", slow_on_page_two)
        slow.update(
            hit.paper.id for hit in (await bot.services.search.search(MANY, limit=50)).hits[5:10]
        )
        next_id = next_button(reply)["custom_id"]
        clicks = [fake.click(reply, ids.user, next_id) for _ in range(4)]
        await asyncio.gather(*clicks)
        await settle()
        shown = page_text(reply)

        service = bot.services.search
        real_search = service.search

        async def explaining_everything(*args: Any, **kwargs: Any):
            kwargs["explain_first"] = None
            return await real_search(*args, **kwargs)

        monkeypatch.setattr(service, "search", explaining_everything)
        at_once, _ = await every_page(fake, ids, [])
        await settle()

    assert shown[0].startswith("Results 21–25 of")
    assert shown in at_once
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
