"""The HF JSON's extras in storage (both backends): stored, read back, searchable by
keyword, copied by `migrate-db`; and a later fetch of a stored day updating it."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

from bot.core.digest_order import DigestOrder
from bot.core.hf_extras import HfExtras
from bot.core.ingest import ingest_bytes
from bot.core.models import ParsedQuery, StoredPaper
from bot.core.parse import parse_dump
from bot.core.rank import explain
from bot.core.subscriptions import ChannelSubscription
from bot.core.text import words
from storage import open_storage
from storage.migrate import copy_database
from tests.hf_days import TODAY_SHAPE, day_bytes, day_items

DAY = dt.date.fromisoformat(TODAY_SHAPE)
TODAY = dt.date(2026, 8, 30)
FILE = f"{TODAY_SHAPE}.json"


async def test_every_extra_is_stored_and_read_back(backend_storage) -> None:
    report = await ingest_bytes(backend_storage, day_bytes(TODAY_SHAPE), FILE, today=TODAY)
    assert report.error is None and report.new == len(day_items(TODAY_SHAPE))
    parsed = {p.arxiv_id: p for p in parse_dump(day_bytes(TODAY_SHAPE), FILE).papers}
    stored = await backend_storage.papers_on_day(DAY)
    assert len(stored) == len(parsed)
    for paper in stored:
        assert paper.hf == parsed[paper.arxiv_id].hf
        assert paper.day_upvotes == paper.upvotes == parsed[paper.arxiv_id].upvotes


def _keyword_only_words() -> dict[str, str]:
    """Keyword words found in no title or abstract of the day -> the paper's arXiv id."""
    items = day_items(TODAY_SHAPE)
    text = {w for i in items for w in words(i["title"] + " " + i["paper"]["summary"])}
    found: dict[str, str] = {}
    for item in items:
        for keyword in item["paper"].get("ai_keywords", []):
            for word in words(keyword):
                if word not in text and len(word) > 3:
                    found.setdefault(word, item["paper"]["id"])
    return found


async def test_ai_keywords_are_searchable(backend_storage) -> None:
    await ingest_bytes(backend_storage, day_bytes(TODAY_SHAPE), FILE, today=TODAY)
    by_id = {p.arxiv_id: p for p in await backend_storage.papers_on_day(DAY)}
    # Words only the keywords hold, in any spelling search would match.
    only_in_keywords = {
        word: arxiv_id
        for word, arxiv_id in _keyword_only_words().items()
        if explain(replace(by_id[arxiv_id], hf=HfExtras()), ParsedQuery(terms=(word,))) == []
    }
    assert len(only_in_keywords) >= 3
    for word, arxiv_id in only_in_keywords.items():
        query = ParsedQuery(terms=(word,))
        ranked = await backend_storage.text_search(
            query, match_all=True, topic=None, since=None, limit=10
        )
        papers = await backend_storage.get_papers([pid for pid, _ in ranked])
        assert arxiv_id in [p.arxiv_id for p in papers], word
        assert explain(by_id[arxiv_id], query) == [f"keywords: {word}"]


async def test_migrate_db_copies_the_extras_and_a_digests_order(tmp_path, backend_storage):
    source = await open_storage(tmp_path / "source.db")
    try:
        await ingest_bytes(source, day_bytes(TODAY_SHAPE), FILE, today=TODAY)
        sub = ChannelSubscription(7, 3, "08:00", "UTC", (), 10, order=DigestOrder.DUMP)
        await source.upsert_channel_subscription(sub)
        await copy_database(source, backend_storage)

        def mine(papers: list[StoredPaper]) -> list[tuple]:
            return [(p.arxiv_id, p.hf, p.upvotes, p.day_upvotes, p.position) for p in papers]

        copied = mine(await backend_storage.papers_on_day(DAY))
        assert copied == mine(await source.papers_on_day(DAY))
        assert sum(bool(hf) for _, hf, *_ in copied) == len(copied)
        assert (await backend_storage.channel_subscription(7)).order is DigestOrder.DUMP
    finally:
        await source.close()
    # The copy's search index holds the keywords too.
    word, arxiv_id = next(iter(_keyword_only_words().items()))
    ranked = await backend_storage.text_search(
        ParsedQuery(terms=(word,)), match_all=True, topic=None, since=None, limit=10
    )
    assert arxiv_id in [
        p.arxiv_id for p in await backend_storage.get_papers([i for i, _ in ranked])
    ]


def early_fetch(tmp_path: Path) -> Path:
    """The day as an early fetch would have seen it, made from the real day: its first
    three papers with a tenth of their upvotes, and the first without its code link
    and AI summary (added later in the day)."""
    items = day_items(TODAY_SHAPE)[:3]
    for item in items:
        item["paper"]["upvotes"] //= 10
    for key in ("githubRepo", "githubStars", "ai_summary"):
        items[0]["paper"].pop(key, None)
    path = tmp_path / f"{TODAY_SHAPE}-early.json"
    path.write_text(json.dumps(items, indent=2))
    return path


async def test_a_later_fetch_of_a_day_updates_it_in_place(tmp_path, backend_storage) -> None:
    store = backend_storage
    early = early_fetch(tmp_path)
    first = await ingest_bytes(store, early.read_bytes(), early.name, today=TODAY)
    assert (first.new, first.day_update) == (3, False)
    before = {p.arxiv_id: p for p in await store.papers_on_day(DAY)}
    assert before["2606.14777"].hf.github_repo is None

    full = await ingest_bytes(store, day_bytes(TODAY_SHAPE), FILE, today=TODAY)
    items = day_items(TODAY_SHAPE)
    assert full.day == DAY and full.day_update and not full.already_ingested
    assert (full.new, full.known, full.added) == (len(items) - 3, 3, len(items) - 3)
    assert full.changed == {"upvotes": 3, "links": 1, "summaries": 1}
    # No duplicates; the day lists every paper once, in the later fetch's order, with
    # its latest upvotes and links.
    stats = await store.stats()
    assert (stats["papers"], stats["dumps"], stats["days"]) == (len(items), 2, 1)
    day = await store.papers_on_day(DAY)
    assert [p.arxiv_id for p in day] == [i["paper"]["id"] for i in items]
    assert [p.day_upvotes for p in day] == [i["paper"]["upvotes"] for i in items]
    assert day[0].hf.github_repo == items[0]["paper"]["githubRepo"]
    assert day[0].hf.ai_summary.startswith("A vision-language model")

    # The same bytes again change nothing; the same content saved differently is a
    # later fetch that changes nothing.
    again = await ingest_bytes(store, day_bytes(TODAY_SHAPE), FILE, today=TODAY)
    assert again.already_ingested and not again.day_update
    resaved = json.dumps(items).encode()
    same = await ingest_bytes(store, resaved, f"{TODAY_SHAPE}-resaved.json", today=TODAY)
    assert same.day_update and (same.added, same.changed) == (0, {})
    assert [p.arxiv_id for p in await store.papers_on_day(DAY)] == [i["paper"]["id"] for i in items]
