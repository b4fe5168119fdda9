"""Ingesting arXiv listings with the real `paperbot ingest`: categories stored with the
primary one first, a replacement updates the paper without listing it anew, an empty
weekend feed stores nothing, and a paper listed by Hugging Face and by arXiv is one
paper carrying both sources."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.cli_process import one_line, paperbot, rows

ARXIV = Path(__file__).resolve().parent / "data" / "arxiv"


def ingest(tmp_path: Path, *names: str) -> list[str]:
    """Ingest the fixtures `names` in order; the stdout lines."""
    lines: list[str] = []
    for name in names:
        done = paperbot(tmp_path, "ingest", str(ARXIV / name), "--db", str(tmp_path / "p.db"))
        assert done.returncode == 0, done.stderr
        lines += done.stdout.strip().splitlines()
    return lines


def listed_on(db: Path, day: str) -> list[str]:
    found = rows(
        db,
        "SELECT p.arxiv_id FROM appearances a JOIN papers p ON p.id = a.paper_id"
        f" WHERE a.day = '{day}' ORDER BY a.position",
    )
    return [arxiv_id for (arxiv_id,) in found]


def test_categories_are_stored_primary_first(tmp_path) -> None:
    ingest(tmp_path, "rss_cs.CL_2026-04-27.xml")
    found = rows(
        tmp_path / "p.db",
        "SELECT c.category FROM paper_categories c JOIN papers p ON p.id = c.paper_id"
        " WHERE p.arxiv_id = '2604.22027' ORDER BY c.position",
    )
    assert [c for (c,) in found] == ["cs.CL", "cs.AI", "cs.LG"]
    assert rows(tmp_path / "p.db", "SELECT format, paper_source, day FROM dumps") == [
        ("arxiv-rss", "arxiv", "2026-04-27")
    ]


def test_a_replacement_updates_the_paper_and_is_not_listed_as_new(tmp_path) -> None:
    db = tmp_path / "p.db"
    ingest(tmp_path, "rss_cs.AI_2026-04-27.xml", "rss_cs.CL_2026-04-27.xml")
    [line] = ingest(tmp_path, "rss_cs.AI_2026-04-28_cross_and_replace.xml")
    # 2604.21935 and 2604.22027 are replacements of stored papers; the cross-listing of
    # 2604.21952 (announced in cs.LG, not ingested here) is the day's one new paper.
    assert "3 papers — 1 new" in line and "2 updated by arXiv replacements" in line
    assert listed_on(db, "2026-04-28") == ["2604.21952"]
    assert "2604.21935" in listed_on(db, "2026-04-27")
    seen = rows(db, "SELECT first_seen, last_seen FROM papers WHERE arxiv_id = '2604.21935'")
    assert seen == [("2026-04-27", "2026-04-27")]  # a replacement is not a sighting
    assert rows(db, "SELECT count(*) FROM papers") == [(7,)]


def test_a_replacement_of_an_unknown_paper_is_left_out_with_a_warning(tmp_path) -> None:
    lines = ingest(tmp_path, "rss_cs.AI_2026-04-28_cross_and_replace.xml")
    assert "3 papers — 1 new" in lines[0]
    assert lines[1].strip() == (
        "warning: 2 replacements of papers not stored here left out"
        " (a replacement updates a stored paper; it is not a new one)"
    )
    assert listed_on(tmp_path / "p.db", "2026-04-28") == ["2604.21952"]
    assert rows(tmp_path / "p.db", "SELECT count(*) FROM papers") == [(1,)]


def test_an_empty_weekend_feed_stores_nothing_and_is_not_an_error(tmp_path) -> None:
    ingest(tmp_path, "rss_cs.AI_2026-04-27.xml")
    [line, note] = ingest(tmp_path, "rss_cs_empty_sunday.xml")
    assert "0 papers" in line
    assert "arXiv announces nothing on weekends and holidays" in note
    db = tmp_path / "p.db"
    # No day without papers: a digest goes on showing the last real day, as when no
    # dump came at all.
    assert rows(db, "SELECT DISTINCT day FROM appearances") == [("2026-04-27",)]
    assert rows(db, "SELECT count(*) FROM dumps") == [(1,)]


def test_an_api_error_answer_is_one_line_and_stores_nothing(tmp_path) -> None:
    done = paperbot(
        tmp_path, "ingest", str(ARXIV / "api_error_bad_id.xml"), "--db", str(tmp_path / "p.db")
    )
    assert done.returncode == 1
    assert one_line(done.stderr).endswith(
        "api_error_bad_id.xml: the arXiv API answered with an error:"
        " incorrect id format for 1234.12345"
    )


def test_a_paper_from_hugging_face_and_from_arxiv_is_one_paper_with_both_sources(
    tmp_path,
) -> None:
    db = tmp_path / "p.db"
    # The two papers of HF's 2026-04-30 list that are also in arXiv's API answer of the
    # same day (copied from the real files).
    ingest(tmp_path, "hf_2026-04-30_two_papers.json", "api_cs.LG_2026-04-30.xml")
    assert rows(db, "SELECT count(*) FROM papers") == [(20,)]  # not 22
    both = rows(
        db,
        "SELECT p.arxiv_id, group_concat(d.paper_source) FROM ("
        " SELECT DISTINCT l.paper_id, d.paper_source FROM dump_papers l"
        " JOIN dumps d ON d.id = l.dump_id ORDER BY d.paper_source) d"
        " JOIN papers p ON p.id = d.paper_id GROUP BY p.id HAVING count(*) = 2"
        " ORDER BY p.arxiv_id",
    )
    assert both == [("2604.26904", "arxiv,hf"), ("2604.26951", "arxiv,hf")]
    # HF's upvotes stay; arXiv brings the categories HF's JSON does not carry.
    tide = rows(
        db,
        "SELECT p.upvotes, (SELECT category FROM paper_categories c WHERE c.paper_id = p.id"
        " AND position = 0) FROM papers p WHERE arxiv_id = '2604.26951'",
    )
    assert tide[0][0] is not None and tide[0][1] == "cs.CL"


def test_a_folder_of_feeds_ingests_each_in_day_order(tmp_path) -> None:
    folder = tmp_path / "dumps"
    folder.mkdir()
    for name in ("rss_cs.AI_2026-04-27.xml", "rss_cs.AI_2026-04-28_cross_and_replace.xml"):
        shutil.copy(ARXIV / name, folder / name)
    done = paperbot(tmp_path, "ingest", str(folder), "--db", str(tmp_path / "p.db"))
    assert done.returncode == 0, done.stderr
    assert listed_on(tmp_path / "p.db", "2026-04-28") == ["2604.21952"]
