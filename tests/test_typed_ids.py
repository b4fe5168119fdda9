"""Numbers people type for a paper (`40`, `#40`) or a member (`--user 42`): a number
too large for a database row id, or a digit `int()` cannot read (`²`), is an id
nothing has, said in one line; never an unexpected error from inside the query. The
real CLI as a subprocess, `/paper` and `/related` through the real discord.py client
against the fake Discord, and the console."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.core.typed_ids import MAX_STORED_ID, typed_id
from tests.cli_process import one_line, paperbot
from tests.discord_harness import SAMPLE_DUMP, bot_against_fake, mention_leaks, settle
from tests.test_console import console_output

TOO_LARGE = str(MAX_STORED_ID + 1)  # 9223372036854775808: no SQLite or PostgreSQL id


def test_typed_id_reads_ascii_digits_a_row_id_can_hold() -> None:
    assert [typed_id(t) for t in ("40", " 40 ", str(MAX_STORED_ID))] == [40, 40, MAX_STORED_ID]
    for text in ("", "0", "-4", "4.0", "²", "٣", "４０", TOO_LARGE, "1" * 40):
        assert typed_id(text) is None, text


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    db = folder / "p.db"
    done = paperbot(folder, "ingest", str(SAMPLE_DUMP), "--db", str(db), "--quiet")
    assert done.returncode == 0, done.stderr
    return db


def fails(db: Path, *args: str, code: int = 1) -> str:
    done = paperbot(db.parent, *args, "--db", str(db))
    assert done.returncode == code, done.stderr
    assert done.stdout == ""
    line = one_line(done.stderr)
    assert "unexpected error" not in line, line
    return line


@pytest.mark.parametrize("typed", [TOO_LARGE, "1" * 40, "0"])
def test_cli_a_paper_id_nothing_can_have(cli_db, typed) -> None:
    said = f"paperbot: no paper with id {typed} is stored (see `paperbot search --json`)"
    assert fails(cli_db, "related", typed) == said
    assert fails(cli_db, "feedback", "--user", "42", typed, "--like") == said
    assert fails(cli_db, "paper", f"#{typed}").startswith("paperbot: no paper matches")


@pytest.mark.parametrize("typed", ["²", "٣"])
def test_cli_a_digit_that_is_no_id(cli_db, typed) -> None:
    said = f"paperbot: {typed!r} is neither a paper id"
    assert fails(cli_db, "related", typed).startswith(said)
    assert fails(cli_db, "feedback", "--user", "42", typed, "--like").startswith(said)


@pytest.mark.parametrize("typed", [TOO_LARGE, "²"])
def test_cli_a_member_id_nothing_can_have(cli_db, typed) -> None:
    said = f"argument --user: not a Discord user id: {typed!r}"
    assert said in fails(cli_db, "feedback", "--user", typed, "40", "--like", code=2)
    assert said in fails(cli_db, "recommend", "--user", typed, code=2)
    line = fails(cli_db, "search", "x", "--for-user", typed, code=2)
    assert f"argument --for-user: not a Discord user id: {typed!r}" in line


# --- Discord ------------------------------------------------------------------------------


@pytest.fixture
async def world(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    async with bot_against_fake(tmp_path, extensions=("cogs.search", "cogs.reading")) as running:
        fake, _, _ = running
        yield running
        await settle()
        assert fake.payload_problems == []
        assert mention_leaks(fake) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("typed", [f"#{TOO_LARGE}", "#²"])
async def test_slash_paper_and_related_with_an_id_nothing_can_have(world, typed) -> None:
    fake, _, ids = world
    for command, option in (("paper", "title"), ("related", "paper")):
        reply = await fake.invoke(ids.guild, ids.channel, ids.user, command, {option: typed})
        # Not "Something went wrong on my side": a lookup that finds nothing, or the
        # title search the text falls back to.
        assert "went wrong" not in reply.content, (command, reply.content)


async def test_slash_paper_by_hash_id_still_opens_it(world) -> None:
    fake, bot, ids = world
    [(pid, title)] = (await bot.storage.all_titles())[:1]
    reply = await fake.invoke(ids.guild, ids.channel, ids.user, "paper", {"title": f"#{pid}"})
    assert [e["title"].replace("\\", "") for e in reply.embeds] == [title]


# --- the console --------------------------------------------------------------------------


async def test_console_pick_with_a_digit_int_cannot_read() -> None:
    text = await console_output("/search query:protein", "pick ²", "pick 2")
    assert "invalid literal" not in text
    assert "! no option “²”; pick 1–3 or an option's text" in text
    assert text.count("(only you can see this)") == 1  # `pick 2` still opens one
