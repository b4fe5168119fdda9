"""Real papers of tests/data/relevance as Hugging Face daily_papers JSON dumps, one per
real day they were listed on: real titles, abstracts, authors and upvotes."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import json
from collections import defaultdict
from pathlib import Path

from storage.sqlite.search_index import IndexedPaper, SearchIndex

PAPERS = Path(__file__).parent / "data" / "relevance" / "papers.jsonl.gz"


@functools.cache
def real_papers() -> tuple[dict, ...]:
    with gzip.open(PAPERS, "rt", encoding="utf-8") as handle:
        return tuple(json.loads(line) for line in handle)


def real_papers_index(folder: Path) -> SearchIndex:
    """A tantivy index of the 4,787 real papers, each last seen on the day Hugging Face
    listed it."""
    index = SearchIndex(folder)
    index.apply(
        [
            IndexedPaper(
                id=n,
                title=row["title"],
                abstract=row["abstract"],
                topics=(),
                name=None,
                last_seen=dt.date.fromisoformat(row["day"]),
            )
            for n, row in enumerate(real_papers(), start=1)
        ],
        new=True,
    )
    return index


def papers_by_day() -> dict[str, list[dict]]:
    days: dict[str, list[dict]] = defaultdict(list)
    for paper in real_papers():
        days[paper["day"]].append(paper)
    return dict(sorted(days.items()))


def hf_dump(papers: list[dict]) -> bytes:
    """The papers as the daily_papers API lists them."""
    items = [
        {
            "title": p["title"],
            "paper": {
                "id": p["id"],
                "title": p["title"],
                "summary": p["abstract"],
                "authors": [{"name": a} for a in p["authors"]],
                "upvotes": p["upvotes"],
            },
        }
        for p in papers
    ]
    return json.dumps(items).encode()
