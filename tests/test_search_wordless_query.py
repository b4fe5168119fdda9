"""A query with no letters or digits (`*`, `...`, `""`, `-`) has nothing to search
for: `paperbot search` (a subprocess) says so in one line with exit 2, `/search`
(the real client against the fake Discord) in one ephemeral line, instead of "No
papers found for ...". A query with words, even one the papers lack, is searched."""

from __future__ import annotations

import logging

import pytest

from tests.cli_process import one_line, paperbot
from tests.discord_harness import add_members, bot_against_fake, mention_leaks, settle

WORDLESS = ["*", "...", '""', '"', "-", "—", "?!", "**"]


@pytest.mark.parametrize("typed", WORDLESS)
def test_cli_wordless_query_is_a_usage_error(tmp_path, typed) -> None:
    done = paperbot(tmp_path, "search", "--db", str(tmp_path / "p.db"), "--", typed)
    assert done.returncode == 2, done.stderr
    assert one_line(done.stderr) == (
        f"paperbot: the query {typed!r} has no words to search for: use letters or digits"
    )
    assert list(tmp_path.iterdir()) == []  # checked before any database is opened


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


async def test_slash_search_wordless_query_is_one_ephemeral_line(world) -> None:
    fake, _, ids = world
    # One member each: a member is held to a few searches a minute.
    members = iter(add_members(fake, ids, len(WORDLESS) + 2))
    for typed in WORDLESS:
        reply = await fake.invoke(ids.guild, ids.channel, next(members), "search", {"query": typed})
        assert reply.ephemeral and reply.embeds == [], typed
        assert reply.content == (f"`{typed}` has no words to search for: use letters or digits."), (
            typed
        )
    # With a topic too, the wordless query is still refused (it would be ignored).
    both = {"query": "...", "topic": "Speech & audio"}
    reply = await fake.invoke(ids.guild, ids.channel, next(members), "search", both)
    assert reply.ephemeral and "no words to search for" in reply.content
    # Words the papers lack are searched as before.
    missing = await fake.invoke(ids.guild, ids.channel, next(members), "search", {"query": "zzqxv"})
    assert missing.content.startswith("No papers found for `zzqxv`")
