"""The first zone lookup in a process builds the zone index: about a second of CPU,
several on a loaded machine. `/digest subscribe` and `/delivery` defer while it runs
instead of letting the interaction expire (Discord's 3 s), and answer when it is done.
So do the replies that show a stored zone (`/digest list`, `/status`, `/following`,
`/follow`): a fresh bot process builds the index on its first label.

The delay is the real one's kind: another thread holds the zone index's lock, as a
build started by an earlier lookup would (real bot, real fake Discord, real SQLite)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.discord_app.replies import DEFER_AFTER
from bot.fakediscord import FakeDiscord
from bot.fakediscord.interactions import InteractionRecord
from bot.services import zone_data
from tests.discord_harness import Clock, bot_against_fake, build_world

DEFERRED = 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
BUSY = DEFER_AFTER + 1.5  # past Discord's 3 s for an answer


@pytest.fixture
async def fake(caplog):
    caplog.set_level(logging.WARNING)
    async with FakeDiscord() as running:
        yield running
        assert running.payload_problems == []
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def last_interaction(fake: FakeDiscord) -> InteractionRecord:
    return list(fake.interactions.by_id.values())[-1]


def assert_deferred_ephemerally(fake: FakeDiscord) -> None:
    """The last interaction was answered with "thinking…", ephemeral like its answer."""
    record = last_interaction(fake)
    assert record.callback_type == DEFERRED
    assert record.callback_data is not None
    assert record.callback_data.get("flags", 0) & 64


async def while_the_zone_index_is_busy(command):
    """Run `command` while the zone index's lock is held for BUSY seconds."""
    zone_data.zone_index()  # built: only the lock makes the lookup wait
    assert zone_data._LOCK.acquire(blocking=False)
    loop = asyncio.get_running_loop()
    loop.call_later(BUSY, zone_data._LOCK.release)
    started = loop.time()
    reply = await command
    return reply, loop.time() - started


@pytest.mark.parametrize(
    ("extensions", "name", "options", "answer"),
    [
        (
            ("cogs.digest",),
            "digest subscribe",
            {"time": "08:00", "timezone": "Berlin"},
            "📬",
        ),
        (("cogs.follow",), "delivery", {"time": "07:45", "timezone": "India"}, "🕗"),
    ],
    ids=["digest subscribe", "delivery"],
)
async def test_a_slow_first_zone_lookup_defers_and_then_answers(
    tmp_path, fake, extensions, name, options, answer
) -> None:
    ids = build_world(fake)
    if name == "digest subscribe":
        options = {"channel": ids.channel, **options}
    async with bot_against_fake(
        tmp_path, extensions=extensions, clock=Clock(), fake=fake, ids=ids
    ) as (_, _, _):
        command = fake.invoke(ids.guild, ids.channel, ids.admin, name, options, timeout=30)
        reply, took = await while_the_zone_index_is_busy(command)
        assert took >= BUSY
        assert reply.content.startswith(answer), reply.content
        assert_deferred_ephemerally(fake)
        # Quick when nothing holds it: answered directly, no "thinking…".
        again = await fake.invoke(ids.guild, ids.channel, ids.admin, name, options)
        assert again.content.startswith(answer), again.content
        assert last_interaction(fake).callback_type != DEFERRED


@pytest.mark.parametrize(
    ("extensions", "first", "name", "answer"),
    [
        (
            ("cogs.digest",),
            ("digest subscribe", {"time": "08:00", "timezone": "Berlin"}),
            ("digest list", {}),
            "Europe/Berlin (Germany)",
        ),
        (
            ("cogs.digest", "cogs.operate"),
            ("digest subscribe", {"time": "08:00", "timezone": "Berlin"}),
            ("status", {}),
            "Europe/Berlin (Germany)",
        ),
        (
            ("cogs.follow",),
            ("delivery", {"time": "07:45", "timezone": "India"}),
            ("following", {}),
            "Asia/Kolkata (India)",
        ),
        (
            ("cogs.follow",),
            ("delivery", {"time": "07:45", "timezone": "India"}),
            ("follow", {"keyword": "diffusion"}),
            "Asia/Kolkata (India)",
        ),
    ],
    ids=["digest list", "status", "following", "follow"],
)
async def test_a_reply_naming_a_stored_zone_defers_while_the_index_is_busy(
    tmp_path, fake, extensions, first, name, answer
) -> None:
    # Each of these names a zone already stored: labelling it waits for the zone index
    # as a lookup does (a fresh process builds it on the first label).
    ids = build_world(fake)
    setup_name, setup_options = first
    if setup_name == "digest subscribe":
        setup_options = {"channel": ids.channel, **setup_options}
    async with bot_against_fake(
        tmp_path, extensions=extensions, clock=Clock(), fake=fake, ids=ids
    ) as (_, _, _):
        if setup_name == "delivery":
            # /delivery answers only someone who follows something.
            await fake.invoke(ids.guild, ids.channel, ids.admin, "follow", {"keyword": "gan"})
        await fake.invoke(ids.guild, ids.channel, ids.admin, setup_name, setup_options)
        command = fake.invoke(ids.guild, ids.channel, ids.admin, *name, timeout=30)
        reply, took = await while_the_zone_index_is_busy(command)
        assert took >= BUSY
        assert answer in reply.content, reply.content
        assert_deferred_ephemerally(fake)
