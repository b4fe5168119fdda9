"""`paperbot ingest` ingests dumps only. A file that is not a dump (an RSS or Atom feed,
a web page, a Markdown README or essay, another program's JSON) is refused with its
reason and nothing stored; in a folder it is skipped and counted, never a failure, and
so are the database's own files, so ingesting the data folder itself just works. The
check is in the core parser: the CLI, /ingest and the folder watcher all get it."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import re
import shutil
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from bot.cli.settings import Settings
from bot.core.parse import parse_dump
from bot.core.sniff import MARKUP_SHARE, markup_refusal
from bot.core.topics import load_default_topics
from bot.services.ingest_job import IngestJob
from bot.services.topics import TopicCatalog
from tests.cli_process import one_line, paperbot, rows
from tests.conftest import SAMPLE_DUMP, TODAY
from tests.discord_harness import bot_against_fake
from tests.reliability.dumps import sample_pairs, write_dump_folder


def news_rss(pairs: list[tuple[str, str]]) -> str:
    """A news site's RSS feed whose items are real papers' titles and abstracts: XML
    paperbot does not read (arXiv's own feeds are read: tests/test_parse_arxiv.py)."""
    items = "\n".join(
        f"""<item>
 <title>{escape(title)}</title>
 <link>https://news.example.org/{number}</link>
 <description>{escape(abstract)}</description>
 <pubDate>Thu, 14 Mar 2024 00:00:00 -0400</pubDate>
 <dc:creator>Ada Lovelace, Alan Turing</dc:creator>
</item>"""
        for number, (title, abstract) in enumerate(pairs)
    )
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0">
 <channel>
 <title>Research news</title>
 <link>https://news.example.org/</link>
 <description>Papers we read this week.</description>
{items}
 </channel>
</rss>
"""


def news_atom(pairs: list[tuple[str, str]]) -> str:
    """The same as an Atom feed, no XML declaration."""
    entries = "\n".join(
        f"""  <entry>
    <id>tag:news.example.org,2024:{n}</id>
    <title>{escape(title)}</title>
    <summary>{escape(abstract)}</summary>
    <author><name>Ada Lovelace</name></author>
  </entry>"""
        for n, (title, abstract) in enumerate(pairs)
    )
    return f"""<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Research news</title>
{entries}
</feed>
"""


def setext(markdown: str) -> str:
    """The same document with its headings underlined (=== and ---) instead of #-marked."""
    return re.sub(
        r"^(#+) (.*)$",
        lambda m: f"{m[2]}\n{('=' if len(m[1]) == 1 else '-') * len(m[2])}",
        markdown,
        flags=re.MULTILINE,
    )


def papers_page_html(pairs: list[tuple[str, str]]) -> str:
    """The daily-papers page saved as HTML ("Save page as") instead of as text."""
    cards = "\n".join(
        f"<article>\n<h3>{escape(title)}</h3>\n<p>{escape(abstract)}</p>\n</article>"
        for title, abstract in pairs
    )
    return (
        "<!DOCTYPE html>\n<html lang=en>\n<head>\n<title>Daily Papers - Hugging Face</title>\n"
        f"</head>\n<body>\n<main>\n{cards}\n</main>\n</body>\n</html>\n"
    )


PAIRS = sample_pairs()[:32]
DATA = Path(__file__).resolve().parent / "data"
# A project README: headings, code blocks, tables, lists.
README = (DATA / "markdown_readme.md").read_text(encoding="utf-8")
# An essay: a few headings between paragraphs of prose (no code, no tables). Markup makes
# up few of its lines, but read as a dump its headings became "papers" and its prose
# their abstracts; its headings mark it as Markdown.
ESSAY = (DATA / "markdown_essay.md").read_text(encoding="utf-8")
MARKDOWN = "looks like a Markdown document"
NEWS_FEED = "looks like an RSS feed from news.example.org, not an arXiv listing or a paper dump"
NOT_DUMPS = {
    "feed.xml": (news_rss(PAIRS), NEWS_FEED),
    "feed.txt": (news_rss(PAIRS), NEWS_FEED),
    "query.txt": (
        news_atom(PAIRS),
        "looks like an Atom feed, not an arXiv listing or a paper dump",
    ),
    "page.txt": (papers_page_html(PAIRS), "looks like an HTML web page, not a paper dump"),
    "README.md": (README, MARKDOWN),
    "essay.md": (ESSAY, MARKDOWN),
    "essay.txt": (setext(ESSAY), MARKDOWN),
    "links.json": (
        json.dumps(
            [{"title": t, "url": f"https://example.org/{n}"} for n, (t, _) in enumerate(PAIRS)]
        ),
        "not Hugging Face daily_papers output",
    ),
}


def stored(db: Path) -> tuple[int, int]:
    return rows(db, "SELECT (SELECT count(*) FROM papers), (SELECT count(*) FROM dumps)")[0]


@pytest.mark.parametrize("name", list(NOT_DUMPS))
def test_a_file_that_is_not_a_dump_is_refused_and_nothing_stored(tmp_path, name: str) -> None:
    text, reason = NOT_DUMPS[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    db = tmp_path / "papers.db"
    done = paperbot(tmp_path, "ingest", str(path), "--db", str(db))
    assert done.returncode == 1
    assert one_line(done.stderr).startswith(f"paperbot: {path}: "), done.stderr
    assert reason in done.stderr
    assert stored(db) == (0, 0)


def test_markdown_is_known_by_its_markup_or_by_its_headings() -> None:
    """The README is mostly markup lines; the essay's few headings are far from a fifth
    of its lines, and still mark it, underlined or #-marked."""
    for document, markup_share in ((README, True), (ESSAY, False), (setext(ESSAY), False)):
        lines = [line for line in document.splitlines() if line.strip()]
        markup = [line for line in lines if re.match(r"#|```|\||[=-]+$", line)]
        assert (len(markup) >= MARKUP_SHARE * len(lines)) is markup_share
        assert markup_refusal(document).startswith(MARKDOWN)


def test_a_dump_with_a_few_headings_is_still_a_dump() -> None:
    """Three headings pasted among a day's 200 paragraphs do not make it a document:
    its 98 papers are read, and the headings are named in warnings."""
    paragraphs = SAMPLE_DUMP.read_text(encoding="utf-8").split("\n\n")
    for at in (125, 65, 5):  # each before a paper's title
        paragraphs.insert(at, f"## Section {at}")
    dump = parse_dump("\n\n".join(paragraphs).encode(), "2026-03-14.txt")
    assert len([paper for paper in dump.papers if paper.abstract]) == 98
    assert sum("## Section" in warning for warning in dump.warnings) == 3


def test_a_folder_skips_what_is_not_a_dump_and_exits_0(tmp_path) -> None:
    folder = tmp_path / "dumps"
    write_dump_folder(folder, days=2, per_day=20)
    for name, (text, _) in NOT_DUMPS.items():
        (folder / name).write_text(text, encoding="utf-8")
    db = tmp_path / "papers.db"
    done = paperbot(tmp_path, "ingest", str(folder), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert f"{len(NOT_DUMPS)} files that are not dumps" in done.stdout
    assert "total: 2 dumps, 40 new papers, 0 merged, 0 failed" in done.stdout
    assert stored(db) == (40, 2)


def test_ingesting_the_data_folder_itself_skips_the_database(tmp_path) -> None:
    data = tmp_path / "data"
    db = data / "paperbot.db"
    done = paperbot(tmp_path, "ingest", str(SAMPLE_DUMP), "--db", str(db))
    assert done.returncode == 0, done.stderr
    write_dump_folder(data / "dumps", days=3, per_day=20)
    assert (data / "paperbot.db.search" / "meta.json").is_file()  # the index's own JSON
    for run in range(2):  # and again: all already ingested, still nothing failed
        done = paperbot(tmp_path, "ingest", str(data), "--db", str(db), "--json")
        assert done.returncode == 0, done.stderr
        reports = json.loads(done.stdout)
        assert [Path(r["source"]).parent.name for r in reports] == ["dumps"] * 3
        assert all(r["error"] is None for r in reports)
        assert [r["already_ingested"] for r in reports] == [run == 1] * 3
        skipped = re.search(r"skipped (\d+) files that are not dumps: (.*)", done.stderr)
        assert skipped, done.stderr
        assert "paperbot.db" in skipped[2] and "paperbot.db.search/" in skipped[2]
    assert stored(db) == (98 + 60, 4)


def test_a_folder_of_nothing_but_other_files_is_not_an_error(tmp_path) -> None:
    folder = tmp_path / "misc"
    folder.mkdir()
    (folder / "notes.md").write_text(NOT_DUMPS["README.md"][0], encoding="utf-8")
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    done = paperbot(tmp_path, "ingest", str(folder), "--db", str(tmp_path / "p.db"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "skipped 2 files that are not dumps: notes.md, photo.png"


async def test_slash_ingest_refuses_a_feed_in_one_line(tmp_path) -> None:
    async with bot_against_fake(tmp_path, extensions=("cogs.operate",)) as (fake, bot, ids):
        before = await bot.storage.stats()
        feed = fake.add_attachment("news.xml", news_rss(PAIRS).encode())
        reply = await fake.invoke(ids.guild, ids.channel, ids.admin, "ingest", {"file": feed})
        assert reply.ephemeral
        [text] = [m["content"] for m in reply.messages if m["content"]]
        assert text == f"❌ news.xml: {NEWS_FEED}"
        after = await bot.storage.stats()
        assert (after["papers"], after["dumps"]) == (before["papers"], before["dumps"])


@contextlib.asynccontextmanager
async def watcher(storage, dumps_dir: Path):
    settings = dataclasses.replace(Settings(), db=storage.path, dumps_dir=dumps_dir)
    topics = TopicCatalog(storage, load_default_topics())
    yield IngestJob(
        store=storage, topics=topics, settings=settings, clock=lambda: dt.datetime.now(dt.UTC)
    )


async def test_the_folder_watcher_skips_feeds_and_its_own_database(tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="paperbot")
    from storage import open_storage

    data = tmp_path / "data"  # DUMPS_DIR=data: the database lives in the watched folder
    storage = await open_storage(data / "paperbot.db")
    try:
        (data / "news.txt").write_text(news_rss(PAIRS), encoding="utf-8")
        shutil.copy(SAMPLE_DUMP, data / "2026-03-14.txt")
        async with watcher(storage, data) as job:
            reports = await job.scan(TODAY)
        assert [Path(r.source).name for r in reports] == ["2026-03-14.txt", "news.txt"]
        assert reports[0].new == 98 and reports[1].not_a_dump
        assert (await storage.stats())["papers"] == 98
    finally:
        await storage.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []  # the feed is passed over quietly; the database is never read
    assert any("not a dump" in r.getMessage() for r in caplog.records)
