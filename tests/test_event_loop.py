"""bot/cli/event_loop.py: the bot runs on uvloop where it is installed, on asyncio's own
loop where it is not, and serves Discord the same on either."""

from __future__ import annotations

import asyncio
import sys

from bot.cli import event_loop
from tests.discord_harness import bot_against_fake


async def one_search(tmp_path) -> tuple[str, list[str]]:
    """The loop it ran on, and the titles of a /search's reply, through the real client
    against the fake Discord."""
    async with bot_against_fake(tmp_path / event_loop.loop_name(asyncio.get_running_loop())) as (
        fake,
        _,
        ids,
    ):
        reply = await fake.invoke(ids.guild, ids.channel, ids.user, "search", {"query": "protein"})
        return event_loop.loop_name(asyncio.get_running_loop()), [
            embed["title"] for embed in reply.embeds
        ]


def test_the_bot_runs_on_uvloop_and_answers_as_on_asyncio(tmp_path, monkeypatch) -> None:
    on_uvloop, titles = event_loop.run(one_search(tmp_path))
    assert on_uvloop == "uvloop" and titles
    # Without uvloop (not installed, or on Windows): asyncio's loop, the same reply.
    monkeypatch.setitem(sys.modules, "uvloop", None)  # `import uvloop` fails
    assert event_loop.loop_factory() is None
    assert event_loop.run(one_search(tmp_path)) == ("asyncio", titles)
