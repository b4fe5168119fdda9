"""A search for a quoted phrase says the phrase once in its header: `paperbot search`
as a subprocess (where the header echoes the query in double quotes) and `/search`
through the real discord.py client against the fake Discord (where it is a code span),
over the sample dump."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.core.markdown import ZWSP
from tests.cli_process import paperbot
from tests.discord_harness import SAMPLE_DUMP, bot_against_fake, mention_leaks, settle

PHRASE = '"language models"'


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    db = folder / "p.db"
    done = paperbot(folder, "ingest", str(SAMPLE_DUMP), "--db", str(db), "--quiet")
    assert done.returncode == 0, done.stderr
    return db


def first_line(db: Path, *args: str) -> str:
    done = paperbot(db.parent, "search", *args, "--limit", "2", "--db", str(db))
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[0]


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        ((PHRASE,), f" for {PHRASE}"),
        ((f"{PHRASE} alignment",), f" for {PHRASE} alignment"),
        ((f"alignment {PHRASE}",), f" for alignment {PHRASE}"),
        (('"language',), ' for "language'),  # an unterminated quote, as typed
        (("language models",), ' for "language models"'),  # no quotes: wrapped in them
        ((PHRASE, "--since", "2026-03-01"), f" for {PHRASE} · since 2026-03-01"),
    ],
)
def test_cli_header_shows_a_quoted_phrase_once(cli_db, args, shown) -> None:
    header = first_line(cli_db, *args)
    assert header.startswith("Results 1–2 of ") and header.endswith(shown), header
    assert '""' not in header


def test_cli_no_results_shows_a_quoted_phrase_once(cli_db) -> None:
    # The sample dump is Hugging Face's only: nothing passes the arXiv filter.
    line = first_line(cli_db, PHRASE, "--source", "arxiv")
    assert (
        line
        == f"No papers found for {PHRASE} · from arXiv. Try fewer or different words, or a topic."
    )


def test_cli_header_cuts_a_pasted_essay_and_keeps_the_filters(cli_db) -> None:
    essay = " ".join(["protein language models for structure prediction"] * 60)
    header = first_line(cli_db, essay, "--source", "hf", "--since", "2026-03-01")
    assert header.startswith("Results 1–2 of ")
    assert len(header) < 300, len(header)
    assert '"protein language models for structure' in header
    assert "… · from Hugging Face · since 2026-03-01" in header


# --- Discord ------------------------------------------------------------------------------


@pytest.fixture
async def world(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    async with bot_against_fake(tmp_path, extensions=("cogs.search",)) as running:
        fake, _, _ = running
        yield running
        await settle()
        assert fake.payload_problems == []
        assert mention_leaks(fake) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def slash(fake, ids, **options):
    return await fake.invoke(ids.guild, ids.channel, ids.user, "search", options)


async def test_slash_search_header_shows_a_quoted_phrase_once(world, cli_db) -> None:
    fake, _, ids = world
    reply = await slash(fake, ids, query=PHRASE)
    header = reply.content.splitlines()[0]
    # The same papers as the CLI finds, and the phrase once, in one code span.
    cli_header = first_line(cli_db, PHRASE)
    total = cli_header.removeprefix("Results 1–2 of ").split(" ")[0]
    assert header.startswith(f"Results 1–5 of {total} for `{PHRASE}`"), header
    assert header.count("`") == 2 and '""' not in header


async def test_slash_search_header_escapes_a_hostile_quoted_phrase(world) -> None:
    fake, _, ids = world
    typed = '"language models" `**x**` @everyone'
    reply = await slash(fake, ids, query=typed)
    header = reply.content.splitlines()[0]
    assert header.count("`") == 2, header  # the typed backticks cannot end the span
    assert f"@{ZWSP}everyone" in header and '""' not in header
    assert f'`"language models" ˋ**x**ˋ @{ZWSP}everyone`' in header
