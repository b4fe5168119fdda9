"""PaperBot: the discord.py client. bot/discord_app/wiring.py builds it with its
dependencies (settings, storage, clock and the application services); it does its
one-time start-up work in `setup_hook` (never in `on_ready`, which fires again on every
reconnect)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp
import discord
from discord.ext import commands

from bot import __version__
from bot.cli.settings import Settings
from bot.core.ports import Clock
from bot.discord_app.errors import on_tree_error
from bot.discord_app.heavy_work import HeavyWork
from bot.discord_app.notices import notify_closed_dms
from bot.discord_app.rate_buckets import throttle_bucket_expiry
from bot.services.app import Services
from storage import Storage

log = logging.getLogger("paperbot")
# How long closing waits for posts under way; well inside systemd's TimeoutStopSec (30).
SHUTDOWN_DRAIN_SECONDS = 20.0

EXTENSIONS = (
    "cogs.search",
    "cogs.digest",
    "cogs.follow",
    "cogs.topic_admin",
    "cogs.operate",
    "cogs.discuss",
    "cogs.reading",
)


def gateway_intents() -> discord.Intents:
    """The gateway events paperbot reads: servers, their channels, threads and roles
    (`guild.me`'s permissions before posting). Interactions arrive whatever the intents.
    Message, reaction and typing events are not asked for: nothing reads them, and a bot
    in busy servers would otherwise decode every member's message (and, in a burst of
    searches, the create and update of each of its own replies) on its event loop."""
    return discord.Intents(guilds=True)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# Connections to Discord's HTTP API at most at once. discord.py sets no limit, so a burst
# of 1,000 interactions opened 1,000 connections for their defers (each a TCP and, on
# the real API, a TLS handshake, in the event loop's thread); within a limit requests
# wait for a connection and reuse it. Interaction callbacks are not rate limited by
# Discord, so this is what bounds them: 64 connections at a round trip of 50-100 ms
# carry 600-1,300 a second. Each shard's gateway connection holds one more for as long
# as it is open: the pool is this plus one a shard run here.
HTTP_CONNECTIONS = 64

# Two: the work holds the GIL for the most part (a third would only take turns), while
# one search waits on SQLite or tantivy the other computes.
HEAVY_AT_ONCE = 2
# With searches in worker processes (SEARCH_PROCESSES), two for each: while one is worked
# out there, the other's request and answer cross between the processes and its reply
# is rendered here. With two a burst of 1,000 left both workers idle 60% of the time.
HEAVY_PER_SEARCH_PROCESS = 2


def heavy_at_once(search_processes: int) -> int:
    """Replies worked out at once (bot/discord_app/heavy_work.py)."""
    return max(HEAVY_AT_ONCE, HEAVY_PER_SEARCH_PROCESS * search_processes)


class PaperBot(commands.Bot):
    """The client; build it with `bot.discord_app.wiring.make_bot`. `services` makes the
    application services for this client (their MessagePoster posts through it), and
    `dynamic_items` are the persistent components it registers at start-up."""

    def __init__(
        self,
        *,
        settings: Settings,
        storage: Storage,
        services: Callable[[PaperBot], Services],
        clock: Clock = utcnow,
        extensions: Sequence[str] = EXTENSIONS,
        dynamic_items: Sequence[type[discord.ui.DynamicItem[Any]]] = (),
        start_scheduler: bool = True,
        sync_commands: bool = True,
        **client_options: Any,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=gateway_intents(),  # no privileged intents needed
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **client_options,
        )
        # A DM fan-out meets thousands of new channels: see rate_buckets.
        throttle_bucket_expiry(self.http)
        self.version = __version__
        self.settings = settings
        self.storage = storage
        self.clock = clock
        self._extensions = tuple(extensions)
        self._dynamic_items = tuple(dynamic_items)
        self._start_scheduler = start_scheduler
        self._sync_commands = sync_commands
        self.failed_extensions: dict[str, str] = {}
        self._after_command_tasks: set[asyncio.Task[Any]] = set()
        # Expensive replies (a search's ranking, loading and rendering) are worked out a
        # few at a time, after every interaction that arrived is acknowledged
        # (bot/discord_app/heavy_work.py).
        self.heavy_work = HeavyWork(heavy_at_once(settings.search_processes))
        self._vectors_task: asyncio.Task[None] | None = None
        self.tree.error(on_tree_error)
        self.services = services(self)

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        if event_name == "interaction":  # as it arrives, before any handler runs
            self.heavy_work.arrived(args[0])
        super().dispatch(event_name, *args, **kwargs)

    async def login(self, token: str) -> None:
        if self.http.connector is discord.utils.MISSING:  # none given as a client option
            shards = max(1, len(self.settings.shard_ids))
            self.http.connector = aiohttp.TCPConnector(limit=HTTP_CONNECTIONS + shards)
        await super().login(token)

    async def setup_hook(self) -> None:
        # Digest pager buttons on old messages keep working after a restart.
        self.add_dynamic_items(*self._dynamic_items)
        for name in self._extensions:
            try:
                await self.load_extension(name)
            except Exception as exc:  # one broken cog must not take the others down
                log.exception("failed to load extension %s", name)
                self.failed_extensions[name] = str(exc)
        if self._sync_commands:
            await self.sync_commands_if_changed()
        if self._start_scheduler:
            await self.services.schedules.start()
            # Papers stored before relevance vectors existed (or while a run failed):
            # encoded in the background, in a worker thread, batch by batch.
            self._vectors_task = asyncio.create_task(self._catch_up_vectors())

    async def _catch_up_vectors(self) -> None:
        try:
            await self.services.relevance.sync_vectors()
        except Exception:  # papers without vectors are encoded after the next ingest
            log.exception("encoding stored papers' relevance vectors failed")

    async def close(self) -> None:
        try:
            # Encoding in the background stops first: it reads storage, which goes away
            # after this. What it did not reach is encoded at the next start.
            if self._vectors_task is not None and not self._vectors_task.done():
                self._vectors_task.cancel()
                await asyncio.gather(self._vectors_task, return_exceptions=True)
            await self.services.ingest_job.close()
            # SIGTERM (systemctl stop): start no new job, let posts already on their way
            # be answered and recorded, and only then stop the scheduler (which cancels
            # the jobs still running) before the HTTP session and the database go away.
            schedules = self.services.schedules
            schedules.pause()
            await self.services.delivery.drain(SHUTDOWN_DRAIN_SECONDS)
            await schedules.shutdown()
            await self.services.search.close()  # its worker processes
            # Let post-command work (the closed-DM notice) finish before storage goes.
            pending = [t for t in self._after_command_tasks if t is not asyncio.current_task()]
            if pending:
                await asyncio.wait(pending, timeout=5)
        finally:
            # Whatever failed above, the client still closes: a SIGTERM is never ignored.
            await super().close()

    # -- command sync ------------------------------------------------------------------------
    def command_tree_hash(self) -> str:
        guild = discord.Object(self.settings.dev_guild_id) if self.settings.dev_guild_id else None
        payload = [cmd.to_dict(self.tree) for cmd in self.tree.get_commands(guild=None)]
        scope = f"guild:{guild.id}" if guild else "global"
        text = json.dumps([scope, payload], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    async def sync_commands_if_changed(self, force: bool = False) -> bool:
        """Sync only when the command tree changed since the last sync (stored hash),
        so restarts don't burn Discord's daily command-create limit."""
        digest = self.command_tree_hash()
        if not force and await self.storage.get_meta("command_tree_hash") == digest:
            log.info("slash commands unchanged; not syncing")
            return False
        if self.settings.dev_guild_id:
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()
        await self.storage.set_meta("command_tree_hash", digest)
        log.info("slash commands synced (%s)", "guild" if self.settings.dev_guild_id else "global")
        return True

    async def on_app_command_completion(
        self, interaction: discord.Interaction, command: object
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._after_command_tasks.add(task)
        try:
            await notify_closed_dms(self.services.delivery, interaction)
        finally:
            self._after_command_tasks.discard(task)

    async def on_ready(self) -> None:
        # Fires again after every reconnect: log only, never start work here.
        user = self.user
        log.info(
            "connected as %s (%s) to %d guilds", user, user.id if user else "?", len(self.guilds)
        )


class ShardedPaperBot(PaperBot, commands.AutoShardedBot):
    """PaperBot over a fixed range of shards (SHARD_COUNT / SHARD_IDS): several processes
    each run some shards of one bot. Everything else is PaperBot's; the scheduler and the
    delivery ledger keep posting single-owner across processes."""

    def __init__(self, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(
            settings=settings,
            shard_count=settings.shard_count,
            shard_ids=list(settings.shard_ids),
            **kwargs,
        )
