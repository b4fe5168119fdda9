"""`paperbot export-site DIR`: the real command as a subprocess over a real SQLite store,
and the site it writes checked as a browser and a feed reader would read it."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

from tests.cli_process import clean_environment, paperbot
from tests.database_copies import copy_database
from tests.site_checks import check_site, parse_html, text_of
from tests.site_data import (
    EARLY_DAY,
    HOSTILE_ABSTRACT,
    HOSTILE_AUTHOR,
    HOSTILE_TITLE,
    MIDDLE_DAY,
    SAMPLE_DAY,
    write_dumps,
)

SAMPLE_PAPERS = 98


@pytest.fixture(scope="module")
def ingested(tmp_path_factory) -> Path:
    """The three dumps, ingested once by the real command."""
    folder = tmp_path_factory.mktemp("ingested")
    db = folder / "papers.db"
    for path, day in write_dumps(folder / "in"):
        done = paperbot(folder, "ingest", "--db", str(db), "--date", str(day), str(path))
        assert done.returncode == 0, done.stderr
    return db


@pytest.fixture
def db(tmp_path, ingested) -> Path:
    """A copy of `ingested` of this test's own."""
    return copy_database(ingested, tmp_path / "papers.db")


def export(tmp_path: Path, db: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return paperbot(tmp_path, "export-site", "--db", str(db), str(out), *extra)


def test_the_site_is_valid_html_and_atom_and_every_link_inside_it_resolves(tmp_path, db) -> None:
    out = tmp_path / "site"
    done = export(tmp_path, db, out)
    assert done.returncode == 0, done.stderr
    papers = SAMPLE_PAPERS + 7 + 4  # the middle day's first paper is the early day's
    assert done.stdout.splitlines() == [
        f"exported 3 days, {papers} papers and 23 feeds to {out}: "
        f"{1 + 1 + 3 + papers + 23} files written, 0 unchanged"
    ]
    assert done.stderr == ""  # no progress lines when stderr is not a terminal
    check = check_site(out)
    assert check.pages == 1 + 3 + papers
    assert check.feeds == 1 + 22  # everything, and one per built-in topic
    assert check.feed_entries > 100


def test_the_index_lists_the_days_newest_first_and_each_day_its_papers(tmp_path, db) -> None:
    out = tmp_path / "site"
    assert export(tmp_path, db, out).returncode == 0
    index = parse_html((out / "index.html").read_bytes())
    days = [a.get("href") for a in index.findall(".//ul[@class='days']/li/a")]
    assert days == [f"days/{d.isoformat()}.html" for d in (SAMPLE_DAY, MIDDLE_DAY, EARLY_DAY)]
    counts = [text_of(s) for s in index.findall(".//ul[@class='days']/li/span")]
    assert counts == ["98 papers", "6 papers", "6 papers"]

    sample_titles = [
        " ".join(line.split())
        for line in Path("bot/data/sample_dump.txt").read_text(encoding="utf-8").splitlines()
    ]
    day = parse_html((out / "days" / f"{SAMPLE_DAY.isoformat()}.html").read_bytes())
    shown = [text_of(h) for h in day.findall(".//li[@class='paper']/h2")]
    assert len(shown) == SAMPLE_PAPERS
    assert all(title in sample_titles for title in shown)  # each a real line of the dump
    middle = parse_html((out / "days" / f"{MIDDLE_DAY.isoformat()}.html").read_bytes())
    nav = {a.get("rel"): a.get("href") for a in middle.findall(".//nav[@class='days']/a")}
    assert nav == {
        "next": f"{SAMPLE_DAY.isoformat()}.html",
        "prev": f"{EARLY_DAY.isoformat()}.html",
    }


def paper_page_titled(out: Path, title: str) -> tuple[Path, object]:
    for path in sorted((out / "papers").glob("*.html")):
        tree = parse_html(path.read_bytes())
        if text_of(tree.find(".//h1")) == title:
            return path, tree
    raise AssertionError(f"no page for {title!r}")


def test_a_paper_page_shows_its_links_topics_and_every_day_it_was_seen(tmp_path, db) -> None:
    from tests.real_papers import real_titles

    arxiv_id, title = real_titles()[0]
    out = tmp_path / "site"
    assert export(tmp_path, db, out).returncode == 0
    _, tree = paper_page_titled(out, title)
    links = [a.get("href") for a in tree.findall(".//p[@class='meta']/a")]
    assert links == [
        f"https://arxiv.org/abs/{arxiv_id}",
        f"https://arxiv.org/pdf/{arxiv_id}",
        f"https://huggingface.co/papers/{arxiv_id}",
    ]
    facts = dict(zip(tree.findall(".//dt"), tree.findall(".//dd"), strict=True))
    by_name = {text_of(k): v for k, v in facts.items()}
    seen = [a.get("href") for a in by_name["Seen on"].findall("a")]
    assert seen == [f"../days/{d.isoformat()}.html" for d in (EARLY_DAY, MIDDLE_DAY)]
    assert text_of(by_name["Upvotes"]) == "7"  # the newest dump's count
    assert text_of(by_name["Author"]) == "Ada Lovelace"


def test_a_hostile_title_abstract_and_author_show_as_text(tmp_path, db) -> None:
    out = tmp_path / "site"
    assert export(tmp_path, db, out).returncode == 0
    path, tree = paper_page_titled(out, HOSTILE_TITLE)
    assert tree.findall(".//script") == [] and tree.findall(".//img") == []
    assert tree.findall(".//h1/b") == []  # the <b> is text, not markup
    assert text_of(tree.find(".//p[@class='abstract']")) == HOSTILE_ABSTRACT
    assert HOSTILE_AUTHOR in text_of(tree.find(".//dl"))
    assert "<script>" not in path.read_text(encoding="utf-8")
    day = parse_html((out / "days" / f"{MIDDLE_DAY.isoformat()}.html").read_bytes())
    assert day.findall(".//script") == []
    assert HOSTILE_TITLE in [text_of(h) for h in day.findall(".//li[@class='paper']/h2")]
    feed = feedparser.parse((out / "feeds" / "all.atom").read_bytes())
    assert not feed.bozo
    entry = next(e for e in feed.entries if e.title == HOSTILE_TITLE)
    assert entry.title_detail.type == "text/plain"
    assert entry.summary == HOSTILE_ABSTRACT
    assert [a.name for a in entry.authors] == [HOSTILE_AUTHOR, "Bob"]


def test_the_feeds_carry_ids_dates_authors_and_links(tmp_path, db) -> None:
    out = tmp_path / "site"
    assert export(tmp_path, db, out).returncode == 0
    feed = feedparser.parse((out / "feeds" / "all.atom").read_bytes())
    assert feed.version == "atom10" and not feed.bozo
    assert feed.feed.updated == f"{SAMPLE_DAY.isoformat()}T00:00:00Z"
    assert len(feed.entries) == 100  # the newest hundred
    ids = [e.id for e in feed.entries]
    assert len(set(ids)) == len(ids) and all(i.startswith("urn:uuid:") for i in ids)
    # Newest day first: the sample's 98, then the middle day's first two.
    assert {e.updated for e in feed.entries[:98]} == {f"{SAMPLE_DAY.isoformat()}T00:00:00Z"}
    assert feed.entries[0].link == "../papers/" + feed.entries[0].link.rsplit("/", 1)[1]
    authors = {a.name for e in feed.entries for a in e.get("authors", [])}
    assert {"Ada Lovelace", HOSTILE_AUTHOR} <= authors  # the sample's text dump has none

    topic = feedparser.parse((out / "feeds" / "topic" / "llm.atom").read_bytes())
    assert not topic.bozo and topic.entries
    assert all("llm" in [t.term for t in e.tags] for e in topic.entries)
    assert topic.feed.title == "paperbot: Large language models"


def test_a_base_url_makes_the_feed_links_absolute(tmp_path, db) -> None:
    out = tmp_path / "site"
    base = "https://someone.github.io/papers/"
    assert export(tmp_path, db, out, "--base-url", base).returncode == 0
    feed = feedparser.parse((out / "feeds" / "topic" / "llm.atom").read_bytes())
    assert not feed.bozo
    assert all(e.link.startswith(base + "papers/") for e in feed.entries)
    selves = [link.href for link in feed.feed.links if link.rel == "self"]
    assert selves == [base + "feeds/topic/llm.atom"]
    bad = export(tmp_path, db, out, "--base-url", "someone.github.io")
    assert bad.returncode == 2 and "not an http(s) address" in bad.stderr


def test_exporting_again_changes_nothing_and_removes_only_its_own_stale_files(tmp_path, db) -> None:
    out = tmp_path / "site"
    assert export(tmp_path, db, out).returncode == 0
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    # A file of the publisher's own, and a page an earlier export wrote that is gone now.
    (out / "CNAME").write_text("papers.example.org\n")
    (out / "papers" / "999999.html").write_text("old")
    manifest = out / ".paperbot-site"
    manifest.write_text(manifest.read_text() + "papers/999999.html\n")

    again = export(tmp_path, db, out)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().endswith("0 files written, 137 unchanged, 1 removed")
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    assert (out / "CNAME").read_text() == "papers.example.org\n"
    assert not (out / "papers" / "999999.html").exists()
    del after[out / "CNAME"]
    # The manifest this test edited is written back as it was; the rest is untouched.
    assert after.pop(manifest)[0] == before.pop(manifest)[0]
    assert after == before  # same bytes, and not even rewritten


def test_a_folder_that_cannot_take_the_site_is_one_line_and_exit_1(tmp_path, db) -> None:
    a_file = tmp_path / "taken.txt"
    a_file.write_text("mine")
    for out, problem in (
        (a_file, f"{a_file} is a file, not a folder"),
        (a_file / "site", f"cannot write to {a_file / 'site'}: Not a directory"),
    ):
        done = export(tmp_path, db, out)
        assert done.returncode == 1
        assert done.stderr == f"paperbot: {problem}\n"
        assert done.stdout == ""
    assert a_file.read_text() == "mine"
    missing = export(tmp_path, tmp_path / "none.db", tmp_path / "site")
    assert missing.returncode == 1 and "no database at" in missing.stderr
    assert not (tmp_path / "site").exists() and not (tmp_path / "none.db").exists()


def test_progress_shows_on_a_terminal_only(tmp_path, db) -> None:
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "export-site", "--db", str(db), "site"],
            cwd=tmp_path,
            env=clean_environment(),
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            timeout=120,
        )
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: everything is read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0
    assert b"exporting the site: day 1 of 3" in shown
    assert b"exporting the site: day 3 of 3" in shown
    assert done.stdout.startswith("exported 3 days")


def test_the_checks_catch_a_parse_error_a_script_and_a_dangling_link(tmp_path) -> None:
    """The validator is strict: otherwise the tests above would prove nothing."""
    import html5lib.html5parser
    import pytest

    with pytest.raises(html5lib.html5parser.ParseError):
        parse_html(b"<!DOCTYPE html><html lang=en><title>t</title><p>x</div>")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><h1>t</h1>'
        '<a href="days/nowhere.html">x</a><script>alert(1)</script></body></html>'
    )
    with pytest.raises(AssertionError) as failed:
        check_site(site)
    assert "days/nowhere.html leads nowhere" in str(failed.value)
    assert "has a script element" in str(failed.value)


def test_a_real_hf_day_shows_each_papers_ai_summary_code_and_project_links(tmp_path) -> None:
    """Every paper of a real `daily_papers` day: its page shows the summary, the code
    link with its stars and the project page exactly as the JSON gave them."""
    import json

    day_file = Path("tests/data/hf/2026-08-17.json")
    db = tmp_path / "papers.db"
    done = paperbot(tmp_path, "ingest", "--db", str(db), str(day_file.resolve()))
    assert done.returncode == 0, done.stderr
    out = tmp_path / "site"
    assert export(tmp_path, db, out).returncode == 0
    check_site(out)
    pages = {}
    for path in (out / "papers").glob("*.html"):
        tree = parse_html(path.read_bytes())
        pages[text_of(tree.find(".//h1"))] = tree
    checked = 0
    for item in json.loads(day_file.read_text(encoding="utf-8")):
        paper = item["paper"]
        tree = pages[" ".join(paper["title"].split())]
        summary = tree.find(".//p[@class='tldr']")
        if paper.get("ai_summary"):
            assert " ".join(paper["ai_summary"].split()) in text_of(summary)
        else:
            assert summary is None
        links = {text_of(a): a.get("href") for a in tree.findall(".//p[@class='meta']/a")}
        if paper.get("githubRepo"):
            stars = paper.get("githubStars")
            label = f"Code ★ {stars:,}" if stars else "Code"
            assert links[label] == paper["githubRepo"]
            checked += 1
        if paper.get("projectPage"):
            assert links["Project"] == paper["projectPage"]
    assert checked >= 3
