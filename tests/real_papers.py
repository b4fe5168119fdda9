"""Real papers with arXiv ids, as a Hugging Face daily_papers JSON dump: the larger real
set beside the bundled sample (whose text dump carries no ids)."""

from __future__ import annotations

import json
from pathlib import Path

REAL_TITLES = Path(__file__).parent / "data" / "arxiv_titles.json"
# Old-style ids (before April 2007), which the JSON API never gives but people paste.
OLD_STYLE = [
    ("hep-th/9711200", "The Large N Limit of Superconformal Field Theories and Supergravity"),
    ("math/0211159", "The entropy formula for the Ricci flow and its geometric applications"),
]


def real_titles() -> list[tuple[str, str]]:
    """(arXiv id, title) of 742 real papers."""
    return [(i, t) for i, t in json.loads(REAL_TITLES.read_text(encoding="utf-8"))["papers"]]


def api_dump(papers: list[tuple[str, str]], day: str = "2026-03-10") -> bytes:
    """The papers as a Hugging Face daily_papers JSON dump of `day`."""
    items = [
        {"paper": {"id": i, "title": t, "summary": "", "submittedOnDailyAt": f"{day}T00:00:00Z"}}
        for i, t in papers
    ]
    return json.dumps(items).encode()
