"""A blocking key shared by many stored papers (a stock title opening, common once the
arXiv snapshot is imported) gives the dedupe step only its newest BLOCK_CANDIDATES
papers: a daily dump's cost stays bounded as the corpus grows, and a re-listed recent
paper is still found."""

from __future__ import annotations

import datetime as dt
import json

from bot.core.ingest import ingest_bytes
from bot.core.parse import parse_dump
from storage.rows import BLOCK_CANDIDATES

OPENING = "Towards Understanding the Role of "


def retitled_dump(sample_bytes: bytes) -> tuple[bytes, list[str]]:
    """The sample's 98 real papers as an HF JSON dump, every title given one opening."""
    papers = parse_dump(sample_bytes, "sample.txt").papers
    titles = [OPENING + p.title for p in papers]
    items = [
        {"paper": {"title": t, "summary": p.abstract}} for t, p in zip(titles, papers, strict=True)
    ]
    return json.dumps(items).encode(), titles


async def test_a_common_block_yields_only_its_newest_papers(backend_storage, sample_bytes) -> None:
    raw, titles = retitled_dump(sample_bytes)
    day = dt.date(2026, 3, 14)
    report = await ingest_bytes(backend_storage, raw, "2026-03-14.json", cli_date=day, today=day)
    assert report.new == len(titles) > BLOCK_CANDIDATES
    async with backend_storage.ingest_transaction() as tx:
        found = await tx.papers_by_blocks(["p:towardsunderstan"])
    assert len(found) == BLOCK_CANDIDATES
    ids = sorted(p.id for p in found)
    async with backend_storage.ingest_transaction() as tx:
        every = await tx.papers_by_keys([f"t:{p.key}" for p in found])
    assert ids == sorted({p.id for p in every.values()})
    newest = sorted(p.id for p in (await backend_storage.get_papers(list(range(1, 200)))))
    assert ids == newest[-BLOCK_CANDIDATES:]

    # The newest paper, re-listed the next day with a typo fixed, is still merged.
    fixed = titles[-1].replace("Understanding", "Understandnig")
    again = json.dumps([{"paper": {"title": fixed, "summary": ""}}]).encode()
    later = day + dt.timedelta(days=1)
    report = await ingest_bytes(
        backend_storage, again, "2026-03-15.json", cli_date=later, today=later
    )
    assert (report.new, report.merged) == (0, 1)
