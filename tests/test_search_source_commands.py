"""`/search … source:` and `paperbot search --source`: the real discord.py client against
the fake Discord, and the real CLI as a subprocess, over the sample dump (Hugging Face)
and real arXiv listings. The expected papers are read from the stored papers' sources
and categories, never from the search itself."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest

from bot.core.ingest import ingest_bytes
from bot.core.query import parse_query
from storage import open_storage
from tests.cli_process import one_line, paperbot
from tests.discord_harness import SAMPLE_TODAY, bot_against_fake, mention_leaks, settle

ARXIV = Path(__file__).resolve().parent / "data" / "arxiv"
LISTINGS = (
    "rss_cs.AI_2026-04-27.xml",
    "rss_cs.CL_2026-04-27.xml",
    "rss_cs.LG_2026-04-27.xml",
    "api_cs.LG_2026-04-30.xml",
    "api_cs.RO_old_style.xml",
    "api_einstein_old_ids.xml",
)
SAMPLE_DUMP = Path(__file__).resolve().parent.parent / "bot" / "data" / "sample_dump.txt"


def stored(db: Path, sql: str) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {row[0] for row in conn.execute(sql)}
    finally:
        conn.close()


def titles_in(db: Path, category_like: str) -> set[str]:
    """Titles of the stored papers with a category LIKE `category_like`."""
    return stored(
        db,
        "SELECT p.title FROM papers p WHERE EXISTS (SELECT 1 FROM paper_categories c"
        f" WHERE c.paper_id = p.id AND c.category LIKE '{category_like}')",
    )


async def matching_titles(storage, word: str) -> set[str]:
    """Titles of every paper the engine finds for `word` with no filter at all."""
    hits = await storage.text_search(
        parse_query(word), match_all=True, topic=None, since=None, limit=100_000
    )
    return {title for _, title in await storage.titles([pid for pid, _ in hits])}


# --- the CLI ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    db = folder / "p.db"
    for path in (SAMPLE_DUMP, *(ARXIV / name for name in LISTINGS)):
        done = paperbot(folder, "ingest", str(path), "--db", str(db), "--quiet")
        assert done.returncode == 0, done.stderr
    return db


def search(db: Path, *args: str) -> list[dict]:
    done = paperbot(db.parent, "search", *args, "--db", str(db), "--json", "--limit", "100")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def unfiltered(db: Path, word: str) -> set[str]:
    """Titles the engine finds for `word` in the CLI's database with no filter."""
    storage = await open_storage(db)
    try:
        return await matching_titles(storage, word)
    finally:
        await storage.close()


async def test_cli_search_with_a_category(cli_db) -> None:
    expected = await unfiltered(cli_db, "language") & titles_in(cli_db, "cs.CL")
    assert len(expected) >= 3
    hits = search(cli_db, "language", "--source", "arxiv:cs.cl")
    assert {h["title"] for h in hits} == expected
    assert all("cs.CL" in h["categories"] and "arxiv" in h["sources"] for h in hits)
    assert all(any(w.startswith("arXiv cs.CL") for w in h["why"]) for h in hits)


def test_cli_search_by_source_alone_lists_newest_first(cli_db) -> None:
    expected = titles_in(cli_db, "math.%")
    hits = search(cli_db, "--source", "arxiv:math")
    assert {h["title"] for h in hits} == expected and len(expected) > 8
    days = [h["dates"][-1] for h in hits]
    assert days == sorted(days, reverse=True)
    hf = search(cli_db, "--source", "hf")
    assert len(hf) == 98 and not any("arxiv" in h["sources"] for h in hf)


async def test_cli_header_counts_only_matching_papers(cli_db) -> None:
    expected = await unfiltered(cli_db, "learning") & titles_in(cli_db, "cs.%")
    assert len(expected) > 3
    done = paperbot(
        cli_db.parent, "search", "learning", "--source", "arxiv:cs", "--limit", "3",
        "--db", str(cli_db),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith(f"Results 1–3 of {len(expected)} ")
    assert "from arXiv cs" in first


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("rss", "'rss' is not a source; use hf, arxiv, arxiv:cs.CL,cs.LG"),
        ("arxiv:quantum", "arXiv has no archive 'quantum'"),
        ("hf:cs.CL", "only arXiv papers have categories"),
        ("arxiv:", "name at least one arXiv category"),
    ],
)
def test_cli_bad_source_is_one_line_and_exit_2(tmp_path, source, error) -> None:
    db = tmp_path / "none.db"
    done = paperbot(tmp_path, "search", "model", "--source", source, "--db", str(db))
    assert done.returncode == 2
    assert error in one_line(done.stderr)
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing opened, nothing created


# --- Discord ------------------------------------------------------------------------------


@pytest.fixture
async def world(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    async with bot_against_fake(tmp_path, extensions=("cogs.search",)) as running:
        fake, bot, _ = running
        for name in LISTINGS:
            raw = (ARXIV / name).read_bytes()
            report = await ingest_bytes(bot.storage, raw, name, today=SAMPLE_TODAY)
            assert report.error is None, report.error
        yield running
        await settle()
        assert fake.payload_problems == []
        assert mention_leaks(fake) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def slash(fake, ids, **options):
    return await fake.invoke(ids.guild, ids.channel, ids.user, "search", options)


async def test_slash_search_filters_by_category_and_counts_them(world) -> None:
    fake, bot, ids = world
    db = Path(bot.storage.path)
    expected = await matching_titles(bot.storage, "learning") & titles_in(db, "cs.LG")
    assert len(expected) > 5  # more than one page
    reply = await slash(fake, ids, query="learning", source="arxiv:cs.LG")
    assert not reply.ephemeral
    assert reply.content.startswith(f"Results 1–5 of {len(expected)} ")
    assert "from arXiv cs.LG" in reply.content
    # Embed titles are markdown-escaped (`\\ln`): compare them as plain text.
    shown = {e["title"].replace("\\", "") for e in reply.embeds}
    assert shown <= {t.replace("\\", "") for t in expected}
    assert len(reply.embeds) == 5


async def test_slash_search_by_source_alone(world) -> None:
    fake, bot, ids = world
    db = Path(bot.storage.path)
    expected = titles_in(db, "cs.RO")
    reply = await slash(fake, ids, source="arxiv:cs.RO")
    assert not reply.ephemeral
    assert {e["title"] for e in reply.embeds} == expected and len(expected) >= 2
    hf = await slash(fake, ids, source="hf", query="protein")
    assert hf.content.startswith("Results 1–3 of 3 ")  # the sample's three protein papers


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("rss", "'rss' is not a source; use hf, arxiv, arxiv:cs.CL,cs.LG"),
        ("arxiv:quantum", "arXiv has no archive 'quantum'"),
        ("hf:cs.CL", "only arXiv papers have categories"),
    ],
)
async def test_slash_bad_source_is_one_ephemeral_line(world, source, error) -> None:
    fake, _, ids = world
    reply = await slash(fake, ids, query="model", source=source)
    assert reply.ephemeral and reply.kind == "message"
    assert error in reply.content and "\n" not in reply.content
    assert reply.embeds == []


async def test_source_autocomplete_offers_the_categories_stored(world) -> None:
    fake, bot, ids = world
    db = Path(bot.storage.path)

    async def choices(typed: str) -> list[str]:
        found = await fake.autocomplete(
            ids.guild, ids.channel, ids.user, "search", {"source": typed}, focused="source"
        )
        return [c["value"] for c in found]

    start = await choices("")
    assert start[:3] == ["all", "hf", "arxiv"] and len(start) <= 25
    cs = stored(db, "SELECT category FROM paper_categories WHERE category LIKE 'cs.C%'")
    assert set(await choices("arxiv:cs.c")) == {f"arxiv:{c}" for c in cs}
    assert await choices("arxiv:cs.CL, math.d") == ["arxiv:cs.CL,math.DG"]
    assert await choices("math.D") == ["arxiv:math.DG"]
    assert await choices("arxiv:nothing.here") == []
