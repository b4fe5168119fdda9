"""Dedupe on the repeats real dumps produce, measured on labelled pairs
(tests/data/dedupe_pairs.json, built from the real papers of the sample dump).

Each pair goes through the real ingest as two dumps on two days, into a real database
of each backend; a pair is predicted "same" when it ends up as one paper. Precision and
recall over all pairs are printed and must reach the targets.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import textwrap
from pathlib import Path

import asyncpg

from bot.core.ingest import ingest_bytes
from bot.core.parse import parse_dump
from storage import Storage
from tests.conftest import SAMPLE_DUMP, TODAY, backend_of

PAIRS_FILE = Path(__file__).parent / "data" / "dedupe_pairs.json"
MIN_RECALL = 0.98
FIRST_DAY = dt.date(2026, 4, 1)
# Children first: the raw connection below does not enforce ON DELETE CASCADE.
PAPER_TABLES = (
    "title_variants",
    "paper_topics",
    "appearances",
    "paper_keys",
    "title_blocks",
    "papers",
    "dumps",
    "vocab",
)


def load_pairs() -> list[dict]:
    return json.loads(PAIRS_FILE.read_text(encoding="utf-8"))["pairs"]


def sample_abstracts() -> dict[str, str]:
    papers = parse_dump(SAMPLE_DUMP.read_bytes(), SAMPLE_DUMP.name).papers
    return {p.title: p.abstract for p in papers}


def revised(abstract: str, edits: list[dict]) -> str:
    for edit in edits:
        if "append" in edit:
            abstract = f"{abstract} {edit['append']}"
        elif "replace" in edit:
            old, new = edit["replace"]
            assert old in abstract, f"edit {old!r} does not apply"
            abstract = abstract.replace(old, new, 1)
        elif edit.get("rewrap"):
            abstract = textwrap.fill(abstract, 72)
        else:
            raise AssertionError(f"unknown edit {edit}")
    return abstract


def side(spec: dict, sample: dict[str, str], first_abstract: str = "") -> tuple[str, str]:
    """(title, abstract) of one side of a pair, as the data file describes it."""
    if "sample" in spec:
        return spec["sample"], sample[spec["sample"]]
    abstract = spec["abstract"]
    if isinstance(abstract, dict) and "of" in abstract:
        abstract = revised(first_abstract, abstract["edits"])
    elif isinstance(abstract, dict):
        abstract = sample[abstract["of_sample"]]
    return spec["title"], abstract


def page(day: dt.date, title: str, abstract: str) -> bytes:
    """A one-paper daily page, shaped like the saved Hugging Face pages."""
    return f"new\n\nSubscribe\n\n{day:%b} {day.day}\n\n{title}\n\n{abstract}\n".encode()


async def wipe_papers(store: Storage) -> None:
    """Empty the paper tables between pairs (each pair starts from an empty database)."""
    if backend_of(store) == "sqlite":
        conn = sqlite3.connect(store.path)
        try:
            for table in PAPER_TABLES:
                conn.execute(f"DELETE FROM {table}")
            conn.commit()
        finally:
            conn.close()
        return
    pg = await asyncpg.connect(store.url)
    try:
        for table in PAPER_TABLES:
            await pg.execute(f"DELETE FROM {table}")
    finally:
        await pg.close()


async def one_paper_after_both_days(store: Storage, pair: dict, sample: dict[str, str]) -> bool:
    await wipe_papers(store)
    first = side(pair["first"], sample)
    second = side(pair["second"], sample, first_abstract=first[1])
    for offset, (title, abstract) in enumerate((first, second)):
        day = FIRST_DAY + dt.timedelta(days=offset)
        report = await ingest_bytes(
            store, page(day, title, abstract), f"{day.isoformat()}.txt", today=TODAY
        )
        assert report.error is None and report.parsed == 1, (title, report.error)
        assert report.day == day
    return (await store.stats())["papers"] == 1


async def test_labelled_pairs_reach_the_precision_and_recall_targets(backend_storage) -> None:
    sample = sample_abstracts()
    pairs = load_pairs()
    assert len(pairs) >= 40
    wrong: list[str] = []
    true_pos = false_pos = positives = 0
    for pair in pairs:
        merged = await one_paper_after_both_days(backend_storage, pair, sample)
        same = pair["label"] == "same"
        positives += same
        true_pos += same and merged
        false_pos += merged and not same
        if merged != same:
            titles = (side(pair["first"], sample)[0], pair["second"].get("title"))
            wrong.append(f"{pair['label']} ({pair['kind']}): {titles}")
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 1.0
    recall = true_pos / positives
    print(
        f"\ndedupe pairs on {backend_of(backend_storage)}: {len(pairs)} pairs"
        f" ({positives} same, {len(pairs) - positives} different),"
        f" precision {precision:.3f}, recall {recall:.3f}"
    )
    for line in wrong:
        print(f"  wrong: {line}")
    assert precision == 1.0, wrong
    assert recall >= MIN_RECALL, wrong
