"""arXiv's listings, parsed from real files: the announcement feed (rss.arxiv.org) and
the API's Atom answer (export.arxiv.org/api/query). tests/data/arxiv/ holds real
responses as published (see its README.md) and two made from them: a day of `cross`,
`replace` and `replace-cross` announcements, and an API error answer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.core.models import DumpError, NotADump
from bot.core.parse import parse_dump

ARXIV = Path(__file__).resolve().parent / "data" / "arxiv"


def parsed(name: str):
    return parse_dump((ARXIV / name).read_bytes(), name)


def test_the_announcement_feed_gives_ids_authors_categories_and_its_day() -> None:
    dump = parsed("rss_cs.CL_2026-04-27.xml")
    assert dump.format == "arxiv-rss"
    assert dump.feed_day == dt.date(2026, 4, 27)  # pubDate "Mon, 27 Apr 2026 ... -0400"
    assert [p.arxiv_id for p in dump.papers] == ["2604.22002", "2604.22027", "2604.22038"]
    first, second, _ = dump.papers
    assert first.title.startswith("When Cow Urine Cures Constipation on YouTube")
    # One comma-separated dc:creator, with a doubled space before "Deepti".
    assert first.authors == (
        "Anamta Khan",
        "Ratna Kandala",
        "Deepti",
        "Sheza Munir",
        "Joyojeet Pal",
    )
    # The "arXiv:2604.22002v1 Announce Type: new / Abstract:" preamble is not abstract.
    assert first.abstract.startswith("Social media platforms have become primary channels")
    assert "Announce Type" not in first.abstract
    assert first.announce == "new" and not first.replacement
    assert second.categories == ("cs.CL", "cs.AI", "cs.LG")  # the primary one first
    assert [p.position for p in dump.papers] == [1, 2, 3]


def test_cross_and_replace_announcements_are_told_apart() -> None:
    dump = parsed("rss_cs.AI_2026-04-28_cross_and_replace.xml")
    assert dump.feed_day == dt.date(2026, 4, 28)
    kinds = [(p.arxiv_id, p.announce, p.replacement) for p in dump.papers]
    assert kinds == [
        ("2604.21935", "replace", True),
        ("2604.21952", "cross", False),
        ("2604.22027", "replace-cross", True),
    ]
    # A title wrapped over two lines is one line.
    assert dump.papers[0].title == (
        "Math Takes Two: A test for emergent mathematical reasoning in communication"
    )
    # A cross-listing keeps its own primary category first, not the feed's.
    assert dump.papers[1].categories[0] == "cs.LG"


def test_an_empty_sunday_feed_is_a_listing_of_nothing_not_an_error() -> None:
    dump = parsed("rss_cs_empty_sunday.xml")
    assert dump.papers == [] and dump.feed_day == dt.date(2026, 3, 29)
    assert "weekends and holidays" in dump.empty_note


def test_the_api_answer_gives_primary_category_versionless_ids_and_dates() -> None:
    dump = parsed("api_cs.LG_2026-04-30.xml")  # new style: https ids, Z timestamps
    assert dump.format == "arxiv-api" and len(dump.papers) == 20
    assert dump.feed_day == dt.date(2026, 4, 30)  # the feed's <updated>, 17:33:16Z
    tide = dump.papers[0]
    assert tide.arxiv_id == "2604.26951"  # <id>http://arxiv.org/abs/2604.26951v1</id>
    assert tide.categories[0] == "cs.CL"  # arxiv:primary_category, then the terms
    assert set(tide.categories) == {"cs.CL", "cs.AI", "cs.LG"}
    assert tide.published == dt.date(2026, 4, 29)
    assert tide.announce == "" and not tide.replacement


def test_the_old_api_style_with_wrapped_titles_and_offsets() -> None:
    dump = parsed("api_cs.RO_old_style.xml")  # -04:00 feed date, per-element namespaces
    assert dump.feed_day == dt.date(2025, 10, 17)
    first = dump.papers[0]
    assert first.title == (
        "RDD: Retrieval-Based Demonstration Decomposer for Planner Alignment in Long-Horizon Tasks"
    )
    assert first.abstract.startswith("To tackle long-horizon tasks")
    assert "\n" not in first.abstract
    assert first.categories[0] == "cs.RO"
    assert first.authors == ("Mingxuan Yan", "Yuping Wang", "Zechun Liu", "Jiachen Li")


def test_msc_codes_among_the_api_categories_are_not_categories() -> None:
    dump = parsed("api_einstein_old_ids.xml")
    every = {c for p in dump.papers for c in p.categories}
    assert every and all("." in c or c.isalpha() or "-" in c for c in every)
    assert not any(c[0].isdigit() for c in every)  # "53C25" and the like are dropped


def test_an_api_error_answer_is_refused_with_arxivs_message() -> None:
    with pytest.raises(DumpError, match=r"incorrect id format for 1234\.12345"):
        parsed("api_error_bad_id.xml")


def test_a_feed_with_a_dtd_is_not_read_whatever_its_entities() -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n'
        '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" version="2.0"><channel>'
        "<title>cs.CL updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.CL</link>"
        "<item><title>&c;</title><guid>oai:arXiv.org:2604.22002v1</guid></item>"
        "</channel></rss>\n"
    )
    with pytest.raises(NotADump, match="looks like an RSS feed"):
        parse_dump(bomb.encode(), "bomb.xml")


def test_a_feed_from_elsewhere_is_refused_with_what_it_is() -> None:
    blog = (
        '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>A blog</title>'
        "<link>https://blog.example.org/</link>"
        "<item><title>Post one</title><description>Some text</description></item>"
        "<item><title>Post two</title><description>More text</description></item>"
        "</channel></rss>\n"
    )
    with pytest.raises(NotADump) as refused:
        parse_dump(blog.encode(), "feed.xml")
    assert str(refused.value) == (
        "looks like an RSS feed from blog.example.org, not an arXiv listing or a paper dump"
    )


def test_a_cut_short_arxiv_feed_says_so() -> None:
    text = (ARXIV / "rss_cs.CL_2026-04-27.xml").read_text(encoding="utf-8")
    with pytest.raises(DumpError, match="cut short"):
        parse_dump(text[: len(text) // 2].encode(), "cs.CL.xml")
