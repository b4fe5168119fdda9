"""The Hugging Face JSON, both shapes, read from real saved days: titles, days, and every
field beyond the text (HF's AI summary and keywords, code and project links, the
organization, comments)."""

from __future__ import annotations

import ast
import datetime as dt
import json

import pytest

from bot.core.dumpdate import resolve_dump_day
from bot.core.hf_extras import HfExtras, web_url
from bot.core.parse import parse_dump
from tests.hf_days import (
    ALL_DAYS,
    OBJECT_DAYS,
    REPR_DAYS,
    SHAPE_2024,
    TODAY_SHAPE,
    day_bytes,
    day_items,
)

FAR_FUTURE = dt.date(2030, 1, 1)


@pytest.mark.parametrize("day", ALL_DAYS)
def test_every_real_day_parses_with_one_line_titles(day: str) -> None:
    parsed = parse_dump(day_bytes(day), f"{day}.json")
    assert parsed.skipped == [] and parsed.papers
    for paper in parsed.papers:
        assert paper.title == " ".join(paper.title.split())  # arXiv's wraps are gone
        assert paper.arxiv_id and paper.upvotes is not None and paper.abstract
    assert resolve_dump_day(parsed, f"{day}.json", None, FAR_FUTURE) == (
        dt.date.fromisoformat(day),
        "file name",
    )


@pytest.mark.parametrize("day", OBJECT_DAYS)
def test_every_item_becomes_a_paper_in_file_order(day: str) -> None:
    items = day_items(day)
    parsed = parse_dump(day_bytes(day), "dump.json")
    assert [p.arxiv_id for p in parsed.papers] == [i["paper"]["id"] for i in items]
    assert [p.upvotes for p in parsed.papers] == [i["paper"]["upvotes"] for i in items]
    assert [p.hf.num_comments for p in parsed.papers] == [i["numComments"] for i in items]


def test_the_2024_shape_wrapped_titles_and_no_submission_day() -> None:
    items = day_items(SHAPE_2024)
    assert all("submittedOnDailyAt" not in i["paper"] and "mediaUrl" in i for i in items)
    wrapped = [i for i in items if "\n" in i["paper"]["title"]]
    assert len(wrapped) >= 5
    parsed = parse_dump(day_bytes(SHAPE_2024), "dump.json")
    by_id = {p.arxiv_id: p for p in parsed.papers}
    for item in wrapped:
        # The top-level title is the clean one (the paper's may also differ by LaTeX).
        assert "\n" not in item["title"]
        assert by_id[item["paper"]["id"]].title == " ".join(item["title"].split())
    # No extras in 2024 but the comment count; the day comes from the file name.
    assert {p.hf.ai_summary for p in parsed.papers} == {""}
    assert all(p.hf.github_repo is None for p in parsed.papers)
    assert parsed.json_days == []
    assert resolve_dump_day(parsed, "dump.json", None, FAR_FUTURE)[1] == "today"


def test_todays_shape_carries_summary_keywords_links_and_organization() -> None:
    parsed = parse_dump(day_bytes(TODAY_SHAPE), "dump.json")
    assert resolve_dump_day(parsed, "dump.json", None, FAR_FUTURE) == (
        dt.date(2026, 6, 16),
        "json",
    )
    first = parsed.papers[0]
    assert first.arxiv_id == "2606.14777" and first.upvotes == 150
    assert first.hf.ai_summary.startswith("A vision-language model operates continuously")
    assert first.hf.ai_keywords[:2] == ("vision-language model", "real-time interaction")
    assert first.hf.github_repo == "https://github.com/jd-opensource/JoyAI-VL-Interaction"
    assert first.hf.github_stars == 100
    assert first.hf.project_page == (
        "https://joyai-vl-video-future-academy-jd.github.io/JoyAI-VL-Interaction/"
    )
    assert first.hf.organization == "JD.com Open Source"
    assert first.hf.num_comments == 1


def test_optional_fields_of_todays_shape_are_simply_absent() -> None:
    items = day_items(TODAY_SHAPE)
    parsed = parse_dump(day_bytes(TODAY_SHAPE), "dump.json")
    fields = {
        "githubRepo": "github_repo",
        "projectPage": "project_page",
        "githubStars": "github_stars",
        "ai_summary": "ai_summary",
    }
    for raw, name in fields.items():
        absent = [p for i, p in zip(items, parsed.papers, strict=True) if raw not in i["paper"]]
        present = [p for i, p in zip(items, parsed.papers, strict=True) if raw in i["paper"]]
        assert absent and present, raw  # the day has both kinds
        assert all(getattr(p.hf, name) in (None, "") for p in absent)
        assert all(getattr(p.hf, name) not in (None, "") for p in present)
    no_org = [p for i, p in zip(items, parsed.papers, strict=True) if "organization" not in i]
    assert no_org and all(p.hf.organization == "" for p in no_org)


@pytest.mark.parametrize("day", REPR_DAYS)
def test_days_saved_as_python_reprs_read_as_their_objects(day: str) -> None:
    data = json.loads(day_bytes(day))
    strings = data["data"] if isinstance(data, dict) else data
    objects = [ast.literal_eval(s) for s in strings]
    parsed = parse_dump(day_bytes(day), "dump.json")
    assert [p.arxiv_id for p in parsed.papers] == [o["paper"]["id"] for o in objects]
    assert [p.upvotes for p in parsed.papers] == [o["paper"]["upvotes"] for o in objects]


def test_a_repr_string_is_evaluated_as_a_literal_never_run() -> None:
    item = "{'paper': {'id': '2401.00001', 'title': __import__('os').getcwd()}}"
    good = repr({"paper": {"id": "2401.00002", "title": "Kept", "summary": "An abstract."}})
    parsed = parse_dump(json.dumps([item, good]).encode(), "dump.json")
    assert [p.title for p in parsed.papers] == ["Kept"]
    assert parsed.skipped[0].reason == "JSON item is not an object"


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "/relative/path",
        "https://example.com/a b",
        "https://example.com/a)(b",
        "https://example.com/[x]",
        "ftp://example.com/x",
        "https://" + "a" * 600,
        17,
        None,
        ["https://github.com/a/b"],
    ],
)
def test_links_are_kept_only_when_they_are_web_addresses(value: object) -> None:
    assert web_url(value) is None
    item = {"title": "T", "summary": "S.", "paper": {"githubRepo": value, "projectPage": value}}
    (paper,) = parse_dump(json.dumps([item]).encode(), "dump.json").papers
    assert paper.hf.github_repo is None and paper.hf.project_page is None


def test_wrong_types_mean_absent_never_a_crash() -> None:
    item = {
        "title": "T",
        "summary": "S.",
        "numComments": -3,
        "organization": "not an object",
        "paper": {
            "ai_summary": ["a list"],
            "ai_keywords": "one string",
            "githubStars": True,
            "organization": {"fullname": 5, "name": "  Fallback   Org  "},
        },
    }
    (paper,) = parse_dump(json.dumps([item]).encode(), "dump.json").papers
    assert paper.hf == HfExtras(organization="Fallback Org")
    assert not HfExtras() and paper.hf
