"""The CLI's `--topic` / `--topics`, run as a subprocess: the bot's own exact lookup (slug
or name, any case), a "did you mean" instead of a guess, and no server topic key in
what it prints."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from bot.core.ingest import ingest_bytes, tag_stored_papers
from bot.core.topics import validate_topic
from storage import open_storage
from tests.conftest import SAMPLE_DUMP
from tests.forked_cli import run_cli

GUILD = 1578986613999009794


def paperbot(db: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return run_cli([*argv, "--db", str(db)])


async def _prepare(db: Path) -> None:
    """The sample dump, plus one server's own topic tagged on it (as /topic add does)."""
    storage = await open_storage(str(db))
    try:
        raw = SAMPLE_DUMP.read_bytes()
        report = await ingest_bytes(storage, raw, "sample.txt", cli_date=None)
        assert report.error is None, report.error
        topic = validate_topic("protein-stuff", "Protein stuff", ["protein*"], guild_id=GUILD)
        await storage.upsert_guild_topic(topic)
        assert await tag_stored_papers(storage, topic) > 0
    finally:
        await storage.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli-topics") / "t.db"
    asyncio.run(_prepare(path))
    return path


def hit_ids(done: subprocess.CompletedProcess[str]) -> list[int]:
    assert done.returncode == 0, done.stderr
    return [hit["id"] for hit in json.loads(done.stdout)]


def test_topic_by_slug_or_name_in_any_case(db) -> None:
    by_slug = hit_ids(paperbot(db, "search", "--topic", "speech-audio", "--json"))
    assert by_slug
    for typed in ("Speech & audio", "SPEECH & AUDIO", "Speech-Audio"):
        assert hit_ids(paperbot(db, "search", "--topic", typed, "--json")) == by_slug, typed


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("speach", "; did you mean “Speech & audio”?"),
        ("speech and audio", "; did you mean “Speech & audio”?"),
        ("zzzz", ""),
    ],
)
def test_an_unknown_topic_is_one_line_with_names_to_try(db, typed, hint) -> None:
    done = paperbot(db, "search", "model", "--topic", typed)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (
        f"paperbot: unknown topic {typed!r}{hint} (run `paperbot topics` for the list)\n"
    )


def test_digest_topics_take_names_even_with_commas(db) -> None:
    done = paperbot(db, "digest", "--topics", "robotics, Chemistry, biology & materials")
    assert done.returncode == 0, done.stderr
    header = done.stdout.splitlines()[1]
    assert header.endswith("topics: Robotics & embodied AI, Chemistry, biology & materials")
    bad = paperbot(db, "digest", "--topics", "robotics, chemistry")
    assert bad.returncode == 1
    assert "unknown topic 'chemistry'; did you mean “Chemistry, biology & materials”?" in (
        bad.stderr
    )


def test_nothing_printed_shows_a_server_topic_key(db) -> None:
    digest = paperbot(db, "digest", "--max", "50")
    stats = paperbot(db, "stats")
    assert digest.returncode == stats.returncode == 0
    assert f"{GUILD}:" not in digest.stdout + stats.stdout
    assert "Protein stuff (server topic)" in stats.stdout
