"""The synthetic arXiv snapshot (bench/snapshot_corpus.py) is in the real file's format.

The rules checked here were read off the public snapshot's own lines (and hold for
them): compact JSON with escaped non-ASCII, the fixed key order, 79-column greedy
wrapping with the abs page's field labels, two-space indents, ``created`` times like
``Mon, 2 Apr 2007 19:18:42 GMT``, old-style ids before April 2007 and five-digit numbers
from 2015.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.snapshot_corpus import SnapshotGenerator

ROOT = Path(__file__).resolve().parent.parent
KEYS = [
    "id", "submitter", "authors", "title", "comments", "journal-ref", "doi", "report-no",
    "categories", "license", "abstract", "versions", "update_date", "authors_parsed",
]  # fmt: skip
# arXiv's category list (archives retired in the 1990s included), as written in the
# snapshot's `categories` field.
REAL_CATEGORIES = set(
    re.findall(
        r"\S+",
        """acc-phys adap-org alg-geom ao-sci astro-ph astro-ph.CO astro-ph.EP astro-ph.GA
    astro-ph.HE astro-ph.IM astro-ph.SR atom-ph bayes-an chao-dyn chem-ph cmp-lg comp-gas
    cond-mat cond-mat.dis-nn cond-mat.mes-hall cond-mat.mtrl-sci cond-mat.other
    cond-mat.quant-gas cond-mat.soft cond-mat.stat-mech cond-mat.str-el cond-mat.supr-con
    cs.AI cs.AR cs.CC cs.CE cs.CG cs.CL cs.CR cs.CV cs.CY cs.DB cs.DC cs.DL cs.DM cs.DS
    cs.ET cs.FL cs.GL cs.GR cs.GT cs.HC cs.IR cs.IT cs.LG cs.LO cs.MA cs.MM cs.MS cs.NA
    cs.NE cs.NI cs.OH cs.OS cs.PF cs.PL cs.RO cs.SC cs.SD cs.SE cs.SI cs.SY dg-ga econ.EM
    econ.GN econ.TH eess.AS eess.IV eess.SP eess.SY funct-an gr-qc hep-ex hep-lat hep-ph
    hep-th math-ph math.AC math.AG math.AP math.AT math.CA math.CO math.CT math.CV
    math.DG math.DS math.FA math.GM math.GN math.GR math.GT math.HO math.IT math.KT
    math.LO math.MG math.MP math.NA math.NT math.OA math.OC math.PR math.QA math.RA
    math.RT math.SG math.SP math.ST mtrl-th nlin.AO nlin.CD nlin.CG nlin.PS nlin.SI
    nucl-ex nucl-th patt-sol physics.acc-ph physics.ao-ph physics.app-ph physics.atm-clus
    physics.atom-ph physics.bio-ph physics.chem-ph physics.class-ph physics.comp-ph
    physics.data-an physics.ed-ph physics.flu-dyn physics.gen-ph physics.geo-ph
    physics.hist-ph physics.ins-det physics.med-ph physics.optics physics.plasm-ph
    physics.pop-ph physics.soc-ph physics.space-ph plasm-ph q-alg q-bio.BM q-bio.CB
    q-bio.GN q-bio.MN q-bio.NC q-bio.OT q-bio.PE q-bio.QM q-bio.SC q-bio.TO q-fin.CP
    q-fin.EC q-fin.GN q-fin.MF q-fin.PM q-fin.PR q-fin.RM q-fin.ST q-fin.TR quant-ph
    solv-int stat.AP stat.CO stat.ME stat.ML stat.OT stat.TH supr-con""",
    )
)
CREATED = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([1-9]|[12]\d|3[01]) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$"
)
OLD_ID = re.compile(r"^([a-z-]+)/(\d\d)(\d\d)(\d{3})$")
NEW_ID = re.compile(r"^(\d\d)(\d\d)\.(\d{4,5})$")


def parse_created(text: str) -> dt.datetime:
    assert CREATED.match(text), text
    when = dt.datetime.strptime(text, "%a, %d %b %Y %H:%M:%S GMT")
    # strptime ignores a wrong weekday; rendering it back checks it
    assert f"{when:%a}, {when.day} {when:%b %Y %H:%M:%S} GMT" == text
    return when


def check_wrapped(text: str, label: int, indent: str) -> None:
    """Lines of at most 79 columns (the first after a field label of `label`
    characters), continuation lines starting with exactly `indent`, broken greedily."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        width = len(line) + (label if i == 0 else 0)
        assert width <= 79 or " " not in line.strip(), (text, line)  # or one long word
        if i > 0 and indent:
            assert line.startswith(indent) and not line.startswith(indent + " "), text
        if i + 1 < len(lines):
            following = lines[i + 1].strip().split(" ")[0]
            if lines[i + 1].startswith("  ") and not indent:
                continue  # a new paragraph, not a wrap
            assert width + 1 + len(following) > 79, f"not greedy: {text!r}"


def check_abstract(text: str) -> None:
    assert text.startswith("  ") and not text.startswith("   "), text
    assert text.endswith("\n") and not text.endswith("\n\n"), text
    check_wrapped(text[:-1], 0, "")


def check_record(line: str) -> dict:
    record = json.loads(line)
    assert list(record) == KEYS
    assert json.dumps(record, separators=(",", ":")) == line  # compact, ASCII-escaped
    for key in ("id", "submitter", "authors", "title", "categories", "abstract"):
        assert isinstance(record[key], str) and record[key]
    for key in ("comments", "journal-ref", "doi", "report-no", "license"):
        assert record[key] is None or (isinstance(record[key], str) and record[key])
    check_wrapped(record["title"], len("Title: "), "  ")
    check_wrapped(record["authors"], len("Authors: "), "  ")
    if record["comments"]:
        check_wrapped(record["comments"], len("Comments: "), "  ")
    check_abstract(record["abstract"])
    versions = record["versions"]
    assert [v["version"] for v in versions] == [f"v{i + 1}" for i in range(len(versions))]
    assert all(list(v) == ["version", "created"] for v in versions)
    times = [parse_created(v["created"]) for v in versions]
    assert times == sorted(times)
    updated = dt.date.fromisoformat(record["update_date"])
    assert updated >= times[0].date()
    categories = record["categories"].split(" ")
    assert set(categories) <= REAL_CATEGORIES, categories
    assert len(set(categories)) == len(categories)
    for entry in record["authors_parsed"]:
        assert len(entry) in (3, 4) and all(isinstance(part, str) for part in entry)
        assert entry[0]
    # An id carries the month it was announced: its first version's month, or the next
    # one for a paper submitted on a month's last days (0704.0002 is from 31 Mar 2007).
    first = times[0]
    following = first + dt.timedelta(days=7)
    months = {f"{d.year % 100:02d}{d.month:02d}" for d in (first, following)}
    old = OLD_ID.match(record["id"])
    if old:
        assert first.date() < dt.date(2007, 4, 1)
        assert old[2] + old[3] in months
        assert old[1] == categories[0].split(".")[0] or old[1] in REAL_CATEGORIES
    else:
        new = NEW_ID.match(record["id"])
        assert new, record["id"]
        assert following.date() >= dt.date(2007, 4, 1)
        assert new[1] + new[2] in months
        assert len(new[3]) == (5 if new[1] >= "15" else 4)
    return record


def generate(tmp_path: Path, name: str, *args: str) -> tuple[bytes, str]:
    out = tmp_path / name
    done = subprocess.run(
        [sys.executable, "-m", "bench.snapshot_corpus", "--out", str(out), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return out.read_bytes(), done.stderr


def test_every_line_is_a_snapshot_record() -> None:
    generator = SnapshotGenerator(6000, seed=3)
    records = [check_record(line.rstrip("\n")) for line in generator.lines()]
    assert len(records) == 6000
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids)
    firsts = [parse_created(r["versions"][0]["created"]) for r in records]
    assert firsts == sorted(firsts)  # in order of first-version date
    assert firsts[0].year < 1995 and firsts[-1].year == 2024
    new_numbers = [(i[:4], i[5:]) for i in ids if NEW_ID.match(i)]
    assert new_numbers == sorted(new_numbers)  # ids increase with the date
    assert any(OLD_ID.match(i) for i in ids) and any(len(i) == 10 for i in ids)
    # most papers are recent, as on arXiv
    assert sum(f.year >= 2015 for f in firsts) > len(firsts) / 2


def test_fields_are_null_and_wrapped_as_often_as_in_the_real_file() -> None:
    records = [json.loads(line) for line in SnapshotGenerator(4000, seed=5).lines()]

    def share(test) -> float:  # type: ignore[no-untyped-def]
        return sum(1 for r in records if test(r)) / len(records)

    assert 0.2 < share(lambda r: r["comments"] is None) < 0.5
    assert 0.6 < share(lambda r: r["journal-ref"] is None) < 0.9
    assert 0.6 < share(lambda r: r["doi"] is None) < 0.9
    assert 0.85 < share(lambda r: r["report-no"] is None) < 0.99
    assert 0.02 < share(lambda r: r["license"] is None) < 0.6
    assert 0.3 < share(lambda r: "\n  " in r["title"]) < 0.7  # long titles wrap
    assert 0.05 < share(lambda r: "\n  " in r["abstract"].strip(" ")) < 0.3  # paragraphs
    assert 0.3 < share(lambda r: len(r["versions"]) > 1) < 0.6
    assert 0.4 < share(lambda r: " " in r["categories"]) < 0.7  # cross-lists
    assert share(lambda r: "\\" in r["authors"]) > 0.01  # TeX accents
    assert share(lambda r: any(len(a) == 4 for a in r["authors_parsed"])) > 0.01
    cs = [r for r in records if r["categories"].startswith("cs.")]
    assert all(r["versions"][0]["created"][-17:-13] >= "1998" for r in cs)
    pairs = [r["categories"].split() for r in records if "cs.IT" in r["categories"]]
    assert pairs and all("math.IT" in p for p in pairs)  # aliases are listed together


def test_same_seed_same_bytes_for_any_worker_count(tmp_path: Path) -> None:
    one, err = generate(tmp_path, "a.jsonl", "--records", "5000", "--seed", "7")
    again, _ = generate(tmp_path, "b.jsonl", "--records", "5000", "--seed", "7")
    parallel, _ = generate(
        tmp_path, "c.jsonl", "--records", "5000", "--seed", "7", "--workers", "2"
    )
    other, _ = generate(tmp_path, "d.jsonl", "--records", "5000", "--seed", "8")
    assert one == again == parallel
    assert one != other
    assert one.count(b"\n") == 5000 and one.endswith(b"\n")
    assert "wrote 5,000 records (0 damaged)" in err


def test_years_can_be_limited() -> None:
    lines = SnapshotGenerator(500, seed=1, first_year=2020, last_year=2021).lines()
    years = {check_record(line.rstrip("\n"))["versions"][0]["created"][-17:-13] for line in lines}
    assert years == {"2020", "2021"}


def bad_kind(line: str) -> str | None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return "broken line"
    if not isinstance(record, dict):
        return "not an object"
    if "title" not in record:
        return "no title"
    if not record["title"]:
        return "empty title"
    if not record["versions"]:
        return "no versions"
    check_record(line)
    return None


def test_bad_fraction_damages_that_share_of_lines(tmp_path: Path) -> None:
    raw, err = generate(
        tmp_path, "bad.jsonl", "--records", "4000", "--seed", "2", "--bad-fraction", "0.05"
    )
    kinds = [bad_kind(line) for line in raw.decode("ascii").splitlines()]
    assert len(kinds) == 4000
    bad = [k for k in kinds if k]
    assert 120 < len(bad) < 280
    assert set(bad) == {"broken line", "not an object", "no title", "empty title", "no versions"}
    assert f"({len(bad):,} damaged)" in err
    clean, _ = generate(tmp_path, "clean.jsonl", "--records", "300", "--seed", "2")
    assert not any(bad_kind(line) for line in clean.decode("ascii").splitlines())


@pytest.mark.parametrize(
    "args", [["--bad-fraction", "2"], ["--records", "-1"], ["--first-year", "1980"]]
)
def test_bad_options_give_one_line(tmp_path: Path, args: list[str]) -> None:
    argv = ["--records", "10", *args] if "--records" not in args else args
    done = subprocess.run(
        [sys.executable, "-m", "bench.snapshot_corpus", "--out", str(tmp_path / "x"), *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
