"""A real PaperBot (discord.py client, SQLite storage) running against the loopback fake
Discord, with the bundled sample dump ingested. Shared by the cog tests.

    async with bot_against_fake(tmp_path, extensions=("cogs.search",)) as (fake, bot, ids):
        reply = await fake.invoke(ids.guild, ids.channel, ids.user, "search", {"query": "x"})

Restarts: keep one fake running and start bots against it one after another; each is a
new PaperBot on the same database file, seeing the same guild, channels and messages:

    async with FakeDiscord() as fake:
        ids = build_world(fake)
        async with bot_against_fake(tmp_path, fake=fake, ids=ids) as (_, bot, _):
            ...
        async with bot_against_fake(tmp_path, fake=fake, ids=ids, ingest_sample=False) as ...:
            ...  # the restarted bot
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import bot as bot_package
from bot.cli.settings import Settings
from bot.core.ingest import ingest_bytes
from bot.discord_app.client import PaperBot
from bot.discord_app.wiring import make_bot
from bot.fakediscord import MANAGE_GUILD, FakeDiscord, running_bot
from storage import open_storage

SAMPLE_DUMP = Path(bot_package.__file__).parent / "data" / "sample_dump.txt"
# The sample's date line says `Mar 14` with no year; with this "today" it is 2026-03-14.
SAMPLE_TODAY = dt.date(2026, 11, 26)
SAMPLE_DAY = dt.date(2026, 3, 14)
NO_MENTIONS = {"parse": []}

# Routes through which the bot creates or edits a message, and where the body sits.
_MESSAGE_ROUTES = (
    "POST /channels/{channel_id}/messages",
    "PATCH /channels/{channel_id}/messages/{message_id}",
    "POST /webhooks/{app_id}/{token}",
    "PATCH /webhooks/{app_id}/{token}/messages/@original",
    "PATCH /webhooks/{app_id}/{token}/messages/{message_id}",
)
_CALLBACK_ROUTE = "POST /interactions/{interaction_id}/{token}/callback"
_MESSAGE_CALLBACKS = {4, 7}  # channel message, update message


@dataclasses.dataclass(frozen=True)
class Ids:
    """Snowflakes of the little world the bot runs in."""

    guild: int
    channel: int
    user: int  # an ordinary member
    other: int  # a second ordinary member
    admin: int  # a member with Manage Server


def build_world(fake: FakeDiscord) -> Ids:
    """The standard little world: guild "Lab" with #papers, two members and an admin."""
    guild = fake.add_guild("Lab")
    return Ids(
        guild=guild,
        channel=fake.add_channel(guild, "papers"),
        user=fake.add_member(guild, "alice"),
        other=fake.add_member(guild, "bob"),
        admin=fake.add_member(guild, "carol", permissions=MANAGE_GUILD),
    )


def add_members(fake: FakeDiscord, ids: Ids, count: int) -> list[int]:
    """``count`` more ordinary members of the guild: a load of commands from many people,
    as the bot sees it (one member alone is held to the per-member cooldown)."""
    return [fake.add_member(ids.guild, f"member{n}") for n in range(count)]


def bot_settings(tmp_path: Path, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Settings for a test bot: token "x", the database in ``tmp_path``, plus overrides."""
    # Searches run in the bot's process unless a test asks for worker processes
    # (spawning them would cost each test a second or more).
    base = Settings(token="x", db=str(tmp_path / "t.db"), search_processes=0)
    return dataclasses.replace(base, **dict(overrides or {}))


def default_clock() -> dt.datetime:
    return dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC)


class Clock:
    """A clock a test moves by hand: pass it as ``clock=`` and set ``.now``."""

    def __init__(self, now: dt.datetime | None = None) -> None:
        self.now = now or default_clock()

    def __call__(self) -> dt.datetime:
        return self.now


@contextlib.asynccontextmanager
async def paperbot_on(
    fake: FakeDiscord,
    tmp_path: Path,
    *,
    extensions: Sequence[str] = ("cogs.search",),
    settings: Mapping[str, Any] | None = None,
    ingest_sample: bool = True,
    clock: Callable[[], dt.datetime] | None = None,
    scheduler: bool = False,
) -> AsyncIterator[PaperBot]:
    """One bot process: a fresh PaperBot on the database ``tmp_path/t.db`` (created or
    reopened), connected to an already running ``fake``. Leaving the block closes the
    bot and the database, like a process exit; entering again with the same fake and
    ``tmp_path`` is a restart against the same Discord and the same data.

    With ``scheduler=True`` the bot's start-up scheduling runs as in production (jobs
    rebuilt from the database, APScheduler started) except that the scheduler starts
    paused and without the sweep/ingest timers: jobs are real, with next run times, but
    nothing fires by itself; the test drives ``bot.services.schedules.fire``/``sweep`` with its
    clock."""
    config = bot_settings(tmp_path, settings)
    storage = await open_storage(config.db)
    try:
        if ingest_sample:
            report = await ingest_bytes(
                storage, SAMPLE_DUMP.read_bytes(), "sample_dump.txt", today=SAMPLE_TODAY
            )
            assert report.error is None, report.error
        paperbot = make_bot(
            settings=config,
            storage=storage,
            clock=clock or default_clock,
            extensions=tuple(extensions),
            start_scheduler=False,
            client_class=PaperBot,  # one connection to the fake, even with shard settings
        )
        async with running_bot(fake, paperbot):
            assert not paperbot.failed_extensions, paperbot.failed_extensions
            if scheduler:
                await paperbot.services.schedules.rebuild()
                paperbot.services.schedules.scheduler.start(paused=True)
            try:
                yield paperbot
            finally:
                await settle()
    finally:
        await storage.close()


@contextlib.asynccontextmanager
async def bot_against_fake(
    tmp_path: Path,
    *,
    extensions: Sequence[str] = ("cogs.search",),
    settings: Mapping[str, Any] | None = None,
    ingest_sample: bool = True,
    clock: Callable[[], dt.datetime] | None = None,
    fake: FakeDiscord | None = None,
    ids: Ids | None = None,
    scheduler: bool = False,
) -> AsyncIterator[tuple[FakeDiscord, PaperBot, Ids]]:
    """Yield (fake, bot, ids) with the bot connected, its commands synced and, unless
    ``ingest_sample=False``, the sample dump ingested as 2026-03-14.

    ``settings`` overrides fields of the test Settings (``token="x"``, the temp db).
    ``clock`` defaults to noon UTC the day after the sample, so relative dates
    ("7d") land in the sample's week.

    Pass ``fake`` and ``ids`` from an earlier run to restart: a new PaperBot on the same
    database (``tmp_path``) and the same running fake Discord, guild and channels; the
    fake is then left running for the caller. ``scheduler``: see :func:`paperbot_on`.
    """
    if fake is not None:
        if ids is None:
            raise ValueError("restarting against an existing fake needs its ids too")
        async with paperbot_on(
            fake,
            tmp_path,
            extensions=extensions,
            settings=settings,
            ingest_sample=ingest_sample,
            clock=clock,
            scheduler=scheduler,
        ) as paperbot:
            yield fake, paperbot, ids
        return
    async with FakeDiscord() as new_fake:
        world = build_world(new_fake)
        async with paperbot_on(
            new_fake,
            tmp_path,
            extensions=extensions,
            settings=settings,
            ingest_sample=ingest_sample,
            clock=clock,
            scheduler=scheduler,
        ) as paperbot:
            yield new_fake, paperbot, world


# Names discord.py gives the tasks that run our code: command invocations, event
# handlers (on_app_command_completion runs *after* the reply the test waited for) and
# view callbacks.
_BOT_TASK_PREFIXES = ("CommandTree-invoker", "discord.py: ", "discord-ui-")


async def settle(timeout: float = 5.0) -> None:
    """Wait for the bot's in-flight command, event and view tasks, so none of them is
    still running when the test ends and the database is closed under it."""
    current = asyncio.current_task()
    pending = [
        task
        for task in asyncio.all_tasks()
        if task is not current
        and not task.done()
        and task.get_name().startswith(_BOT_TASK_PREFIXES)
    ]
    if pending:
        await asyncio.wait(pending, timeout=timeout)


def bot_message_bodies(fake: FakeDiscord) -> Iterator[tuple[str, dict]]:
    """(route, body) of every message the bot created or edited, in order: channel
    posts, interaction responses (types 4 and 7), followups and webhook edits."""
    for request in fake.requests:
        body = request.json
        if not isinstance(body, dict):
            continue
        if request.route == _CALLBACK_ROUTE:
            if body.get("type") in _MESSAGE_CALLBACKS:
                yield request.route, body.get("data") or {}
        elif request.route in _MESSAGE_ROUTES:
            yield request.route, body


def mention_leaks(fake: FakeDiscord) -> list[tuple[str, Any]]:
    """Message bodies the bot sent without ``allowed_mentions={"parse": []}``."""
    return [
        (route, body.get("allowed_mentions"))
        for route, body in bot_message_bodies(fake)
        if body.get("allowed_mentions") != NO_MENTIONS
    ]


async def bot_knows_channels(
    bot: PaperBot, channel_ids: Sequence[int], timeout: float = 10.0
) -> None:
    """Wait until the bot has seen the CHANNEL_CREATE of every channel in ``channel_ids``:
    on each such event, not for a while. Checking the cache and listening again happen
    without yielding to the loop, so no event can slip past between the two."""
    missing = {c for c in channel_ids if bot.get_channel(c) is None}
    while missing:
        waiting = frozenset(missing)
        await bot.wait_for(
            "guild_channel_create", check=lambda c, w=waiting: c.id in w, timeout=timeout
        )
        missing = {c for c in missing if bot.get_channel(c) is None}
