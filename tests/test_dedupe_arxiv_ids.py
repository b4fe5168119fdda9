"""Two different arXiv ids are two papers, even when their normalised titles are the
same: generic titles recur on arXiv ("P is not equal to NP" is cs/0611147 and
0810.5056, two papers by different authors). Edited titles with the same id, or with no
id at all, still merge."""

from __future__ import annotations

import datetime as dt
import json

from bot.core.ingest import ingest_bytes
from tests.cli_process import rows

# Real papers (arXiv metadata, CC0) that share a title with another paper.
P_NOT_NP = [
    ("cs/0611147", "P is not equal to NP", "Sten-Ake Tarnlund"),
    ("0810.5056", "P is not equal to NP", "Raju Renjit Grover"),
]
DOES_P_NP = [("cs/0208018", "Does P = NP?", "Jan Kalas"), ("0705.1442", "Does P=NP?", "K. G.")]


def hf_dump(papers: list[tuple[str, str, str]], day: str, abstract: str = "") -> bytes:
    """A Hugging Face daily-papers JSON dump listing `papers` (id, title, author)."""
    return json.dumps(
        [
            {
                "paper": {
                    "id": arxiv_id,
                    "title": title,
                    "summary": abstract or f"We study {title} ({arxiv_id}).",
                    "authors": [{"name": author}],
                    "publishedAt": f"{day}T00:00:00.000Z",
                    "submittedOnDailyAt": f"{day}T01:00:00.000Z",
                },
                "title": title,
                "publishedAt": f"{day}T00:00:00.000Z",
            }
            for arxiv_id, title, author in papers
        ]
    ).encode()


async def ingest(storage, raw: bytes, name: str):
    report = await ingest_bytes(storage, raw, name, today=dt.date(2026, 5, 1))
    assert report.error is None, report.error
    return report


def stored(storage) -> list[tuple[str, str]]:
    return rows(storage.path, "SELECT arxiv_id, title FROM papers ORDER BY arxiv_id")


async def test_same_title_different_ids_on_two_days_are_two_papers(storage) -> None:
    await ingest(storage, hf_dump(P_NOT_NP[:1], "2026-04-29"), "2026-04-29.json")
    report = await ingest(storage, hf_dump(P_NOT_NP[1:], "2026-04-30"), "2026-04-30.json")
    assert (report.new, report.known, report.merged) == (1, 0, 0)
    assert stored(storage) == [(i, t) for i, t, _ in sorted(P_NOT_NP)]


async def test_same_title_different_ids_in_one_dump_are_two_papers(storage) -> None:
    report = await ingest(storage, hf_dump(P_NOT_NP + DOES_P_NP, "2026-04-30"), "d.json")
    assert (report.new, report.duplicates_in_file, report.merged) == (4, 0, 0)
    assert len(stored(storage)) == 4


async def test_near_duplicate_titles_with_different_ids_stay_apart(storage) -> None:
    await ingest(storage, hf_dump(DOES_P_NP[:1], "2026-04-29"), "2026-04-29.json")
    report = await ingest(storage, hf_dump(DOES_P_NP[1:], "2026-04-30"), "2026-04-30.json")
    assert (report.new, report.merged) == (1, 0)


async def test_an_edited_title_under_the_same_id_still_merges(storage) -> None:
    await ingest(storage, hf_dump(DOES_P_NP[:1], "2026-04-29"), "2026-04-29.json")
    edited = [("cs/0208018", "Does P = NP ?", "Jan Kalas")]
    report = await ingest(storage, hf_dump(edited, "2026-04-30"), "2026-04-30.json")
    assert report.new == 0
    assert len(stored(storage)) == 1
