"""Reading the arXiv metadata snapshot: real records (the first lines of the public
file, and 2016 OAI records of cs papers in the snapshot's shape, with old-style ids)
into papers; damaged records into a reason; the import's filters."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bot.core.snapshot import (
    BadReason,
    BadRecord,
    SnapshotFilter,
    SnapshotPaper,
    parse_category_globs,
    parse_record,
    parse_since,
    rfc2822_day,
)

DATA = Path(__file__).resolve().parent / "data" / "snapshot"
FIRST = (DATA / "snapshot_first100.jsonl").read_text(encoding="utf-8").splitlines()
OLD_STYLE = (DATA / "converted_oai_cs.jsonl").read_text(encoding="utf-8").splitlines()


def paper(line: str) -> SnapshotPaper:
    found = parse_record(line)
    assert isinstance(found, SnapshotPaper), found
    return found


def test_every_real_record_is_a_paper() -> None:
    assert all(isinstance(parse_record(line), SnapshotPaper) for line in FIRST + OLD_STYLE)


def test_a_real_record_reads_as_a_paper() -> None:
    first = paper(FIRST[0])
    assert first.arxiv_id == "0704.0001"
    # The snapshot wraps titles and indents abstracts: collapsed to single spaces.
    assert first.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert first.abstract.startswith("A fully differential calculation in perturbative")
    assert "\n" not in first.abstract and "  " not in first.abstract
    # authors_parsed ([family, given, suffix]), accents already resolved there.
    assert first.authors == ("C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan")
    assert first.categories == ("hep-ph",)
    assert first.day == dt.date(2007, 4, 2)  # "Mon, 2 Apr 2007 19:18:42 GMT"


def test_the_day_is_the_first_versions_even_when_listed_later() -> None:
    record = json.loads(FIRST[0])
    assert len(record["versions"]) == 2  # v1 2007-04-02, v2 2007-07-24
    record["versions"].reverse()
    assert paper(json.dumps(record)).day == dt.date(2007, 4, 2)


def test_old_style_ids_and_several_categories() -> None:
    found = {p.arxiv_id: p for p in map(paper, OLD_STYLE)}
    assert "cs/0611147" in found and "quant-ph/0508222" not in found
    old = [i for i in found if "/" in i]
    assert len(old) >= 30 and all(i.split("/")[0] == i.split("/")[0].lower() for i in old)
    crossed = paper(next(line for line in FIRST if '"0704.0002"' in line))
    assert crossed.categories == ("math.CO", "cs.CG")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda r: json.dumps(r)[:300], BadReason.BROKEN_LINE),
        (lambda r: json.dumps([r]), BadReason.NOT_A_RECORD),
        (lambda r: json.dumps({**r, "title": None}), BadReason.MISSING_TITLE),
        (lambda r: json.dumps({**r, "title": " \n "}), BadReason.MISSING_TITLE),
        (lambda r: json.dumps({k: v for k, v in r.items() if k != "id"}), BadReason.MISSING_ID),
        (lambda r: json.dumps({**r, "id": "not an id"}), BadReason.BAD_ID),
        (lambda r: json.dumps({**r, "versions": []}), BadReason.BAD_DATE),
        (
            lambda r: json.dumps({**r, "versions": [{"version": "v1", "created": "yesterday"}]}),
            BadReason.BAD_DATE,
        ),
    ],
)
def test_damaged_records_give_their_reason(change, reason) -> None:
    assert parse_record(change(json.loads(FIRST[3]))) == BadRecord(reason)


def test_rfc2822_days() -> None:
    assert rfc2822_day("Mon, 2 Apr 2007 19:18:42 GMT") == dt.date(2007, 4, 2)
    # Another zone: the UTC day.
    assert rfc2822_day("Mon, 2 Apr 2007 23:30:00 -0200") == dt.date(2007, 4, 3)
    assert rfc2822_day("Mon, 31 Feb 2007 10:00:00 GMT") is None


def test_category_globs_match_any_category() -> None:
    cs_or_ml = parse_category_globs("cs.*,stat.ML")
    assert cs_or_ml.accepts(("math.CO", "cs.CG"))
    assert cs_or_ml.accepts(("stat.ML",))
    assert not cs_or_ml.accepts(("stat.ME", "math.ST"))
    assert parse_category_globs("hep-th").accepts(("hep-th",))
    assert parse_category_globs("cs").accepts(("cs.LG",))  # a bare archive takes all of it
    assert parse_category_globs("cs.lg").accepts(("cs.LG",))  # typed in any case


@pytest.mark.parametrize("text", ["", "cs.*,,", "cs.[AI", "foo.*", "cs/AI", "cs.*;rm"])
def test_bad_globs_are_refused_with_a_reason(text) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_category_globs(text)


def test_since_takes_a_year_or_a_day() -> None:
    assert parse_since("2020") == dt.date(2020, 1, 1)
    assert parse_since("2020-06-01") == dt.date(2020, 6, 1)
    for bad in ("20", "2020-13-01", "June 2020", "2020-6-1"):
        with pytest.raises(ValueError, match="not a year or a date"):
            parse_since(bad)


def test_filter_by_day_and_category() -> None:
    papers = [paper(line) for line in FIRST]
    wanted = SnapshotFilter(parse_category_globs("cs.*"), parse_since("2007-04-01"))
    kept = [p.arxiv_id for p in papers if wanted.accepts(p)]
    # 0704.0002 (cs.CG) and 0704.0062 (cs.DS) were first announced on 2007-03-31.
    assert kept == ["0704.0046", "0704.0047", "0704.0050", "0704.0090", "0704.0098"]
