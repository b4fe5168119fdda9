"""A small store for the site tests, from real data: the bundled sample (a text dump of
98 papers, Sat 14 Mar 2026) and real arXiv papers as Hugging Face JSON dumps of two
earlier days, one paper listed on both, and one whose title and abstract are hostile HTML."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tests.real_papers import real_titles

SAMPLE = Path(__file__).resolve().parent.parent / "bot" / "data" / "sample_dump.txt"
SAMPLE_DAY = dt.date(2026, 3, 14)
EARLY_DAY = dt.date(2026, 3, 10)
MIDDLE_DAY = dt.date(2026, 3, 12)
HOSTILE_TITLE = '<script>alert("pwned")</script> Attention & <b>Bold</b> Claims'
HOSTILE_ABSTRACT = "We show </p><img src=x onerror=alert(1)> that &amp; stays text."
HOSTILE_AUTHOR = "Eve <i>Mallory</i>"


def _item(arxiv_id: str, title: str, day: dt.date, **extra: object) -> dict:
    paper = {
        "id": arxiv_id,
        "title": title,
        "summary": extra.pop("summary", f"A study of {title.lower()}."),
        "authors": [{"name": name} for name in extra.pop("authors", ("Ada Lovelace",))],
        "upvotes": extra.pop("upvotes", 3),
        "submittedOnDailyAt": f"{day.isoformat()}T00:00:00Z",
    }
    return {"paper": paper}


def write_dumps(folder: Path) -> list[tuple[Path, dt.date]]:
    """The three dumps, in ingest order, with their days (the sample's date line has no
    year: its day is given, as `paperbot ingest --date` does)."""
    papers = real_titles()
    early = [_item(i, t, EARLY_DAY) for i, t in papers[:6]]
    hostile = _item(
        "2403.99999",
        HOSTILE_TITLE,
        MIDDLE_DAY,
        summary=HOSTILE_ABSTRACT,
        authors=(HOSTILE_AUTHOR, "Bob"),
        upvotes=0,
    )
    # The middle day lists the early day's first paper again: seen on two days.
    middle = [hostile, *(_item(i, t, MIDDLE_DAY, upvotes=7) for i, t in [papers[0], *papers[6:10]])]
    folder.mkdir(parents=True, exist_ok=True)
    dumps = []
    for day, items in ((EARLY_DAY, early), (MIDDLE_DAY, middle)):
        path = folder / f"{day.isoformat()}.json"
        path.write_text(json.dumps(items), encoding="utf-8")
        dumps.append((path, day))
    return [*dumps, (SAMPLE, SAMPLE_DAY)]
