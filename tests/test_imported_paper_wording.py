"""A paper the arXiv snapshot import stored was listed by no daily dump: `paperbot paper`
and the paper embeds of `/paper` and `/search` must say so, and not claim paperbot saw
it on a day. Real snapshot records (tests/data/snapshot), the real CLI as a subprocess
and the real discord.py client against the fake Discord."""

from __future__ import annotations

import email.utils
import json
import logging
from pathlib import Path

import pytest

from bot.core.snapshot import SnapshotFilter
from bot.services.snapshot_import import import_snapshot
from tests.cli_process import one_line, paperbot
from tests.discord_harness import SAMPLE_DUMP, bot_against_fake, mention_leaks, settle

FIRST = Path(__file__).resolve().parent / "data" / "snapshot" / "snapshot_first100.jsonl"


def first_version_day(arxiv_id: str) -> str:
    """The day the snapshot says arXiv first announced `arxiv_id`, as YYYY-MM-DD."""
    for line in FIRST.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["id"] == arxiv_id:
            created = email.utils.parsedate_to_datetime(record["versions"][0]["created"])
            return created.date().isoformat()
    raise AssertionError(arxiv_id)


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    db = folder / "p.db"
    for command in (["ingest", str(SAMPLE_DUMP)], ["import-arxiv-snapshot", str(FIRST)]):
        done = paperbot(folder, *command, "--db", str(db), "--quiet")
        assert done.returncode == 0, done.stderr
    return db


def seen_line(db: Path, paper: str) -> str:
    done = paperbot(db.parent, "paper", paper, "--db", str(db))
    assert done.returncode == 0, done.stderr
    [line] = [line for line in done.stdout.splitlines() if line.startswith("seen:")]
    return line


@pytest.mark.parametrize("arxiv_id", ["0704.0001", "0704.0046", "0704.0100"])
def test_cli_paper_says_an_imported_paper_is_in_no_dump(cli_db, arxiv_id) -> None:
    day = first_version_day(arxiv_id)
    assert seen_line(cli_db, arxiv_id) == f"seen:    in no daily dump yet (announced {day})"


def test_cli_paper_lists_the_days_a_dump_listed(cli_db) -> None:
    assert seen_line(cli_db, "Super Mario") == "seen:    2026-03-14"


# --- Discord ------------------------------------------------------------------------------


@pytest.fixture
async def world(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    async with bot_against_fake(tmp_path, extensions=("cogs.search",)) as running:
        fake, bot, _ = running
        result = await import_snapshot(bot.storage, FIRST, SnapshotFilter(), workers=0)
        assert result.counts.imported == 100
        yield running
        await settle()
        assert fake.payload_problems == []
        assert mention_leaks(fake) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_slash_paper_footer_of_an_imported_paper(world) -> None:
    fake, _, ids = world
    reply = await fake.invoke(ids.guild, ids.channel, ids.user, "paper", {"title": "0704.0001"})
    [embed] = reply.embeds
    day = first_version_day("0704.0001")
    assert embed["footer"]["text"] == f"Announced {day} · in no daily dump yet"


async def test_slash_search_footers_say_which_papers_a_dump_listed(world) -> None:
    fake, _, ids = world

    async def footers(**options: str) -> dict[str, str]:
        reply = await fake.invoke(ids.guild, ids.channel, ids.user, "search", options)
        assert len(reply.embeds) == 5
        return {e["url"]: e["footer"]["text"] for e in reply.embeds}

    # Only the snapshot's papers are arXiv's; only the sample dump's are Hugging Face's.
    for url, footer in (await footers(query="energy", source="arxiv")).items():
        day = first_version_day(url.rsplit("/", 1)[1])
        assert footer == f"Announced {day} · in no daily dump yet", url
    for url, footer in (await footers(query="model", source="hf")).items():
        assert footer == "First seen 2026-03-14 · seen on 1 day", url


# --- a database holding imported papers only (no daily dump, so no day) --------------------


@pytest.fixture(scope="module")
def imported_only(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("imported")
    db = folder / "p.db"
    done = paperbot(folder, "import-arxiv-snapshot", str(FIRST), "--db", str(db), "--quiet")
    assert done.returncode == 0, done.stderr
    liked = paperbot(folder, "feedback", "--user", "5", "0704.0001", "--like", "--db", str(db))
    assert liked.returncode == 0, liked.stderr
    return db


@pytest.mark.parametrize("json_flag", [(), ("--json",)])
def test_cli_recommend_with_no_day_is_one_line(imported_only, json_flag) -> None:
    done = paperbot(
        imported_only.parent, "recommend", "--user", "5", *json_flag, "--db", str(imported_only)
    )
    assert done.returncode == 1 and done.stdout == ""
    assert one_line(done.stderr) == (
        "paperbot: no daily dump is stored yet, so no day to pick from; run `paperbot ingest`"
    )


def test_cli_stats_with_no_day(imported_only) -> None:
    done = paperbot(imported_only.parent, "stats", "--db", str(imported_only))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "papers:     100" in lines
    assert "days:       0 (no daily dump yet)" in lines  # not "(newest -)"


@pytest.fixture
async def imported_world(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    extensions = ("cogs.search", "cogs.reading")
    async with bot_against_fake(tmp_path, extensions=extensions, ingest_sample=False) as running:
        fake, bot, _ = running
        result = await import_snapshot(bot.storage, FIRST, SnapshotFilter(), workers=0)
        assert result.counts.imported == 100
        yield running
        await settle()
        assert fake.payload_problems == []
        assert mention_leaks(fake) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_slash_foryou_and_topics_with_imported_papers_only(imported_world) -> None:
    fake, bot, ids = imported_world
    foryou = await fake.invoke(ids.guild, ids.channel, ids.user, "foryou", {})
    assert foryou.ephemeral and foryou.content == (
        "No daily dump has been ingested yet: For you picks among a day's papers."
    )
    topics = await fake.invoke(ids.guild, ids.channel, ids.user, "topics", {})
    text = topics.embeds[0]["description"]
    # Not "no papers": the imported papers are counted in the totals.
    assert text.startswith("No daily dump has been ingested yet: totals of the stored papers")
    totals = await bot.storage.topic_counts(None)
    assert sum(totals.values()) > 0
