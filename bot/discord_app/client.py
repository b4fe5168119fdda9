"""PaperBot: the discord.py client. It takes its dependencies in the constructor and
does its one-time start-up work in `setup_hook` (never in `on_ready`, which fires again
on every reconnect)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import discord
from discord.ext import commands

from bot import __version__
from bot.cli.settings import Settings
from bot.core.ingest import ingest_taxonomy
from bot.core.models import Topic
from bot.core.subscriptions import Follow
from bot.core.topic_lookup import key_of, topic_key
from bot.core.topics import load_default_topics
from bot.discord_app.errors import on_tree_error
from bot.discord_app.views import DigestPageButton
from bot.services.delivery import DeliveryService
from bot.services.scheduling import ScheduleService
from bot.services.search import SearchService
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
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PaperBot(commands.Bot):
    def __init__(
        self,
        *,
        settings: Settings,
        storage: Storage,
        clock: Callable[[], dt.datetime] = utcnow,
        extensions: Sequence[str] = EXTENSIONS,
        start_scheduler: bool = True,
        sync_commands: bool = True,
        **client_options: Any,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),  # no privileged intents needed
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **client_options,
        )
        self.version = __version__
        self.settings = settings
        self.storage = storage
        self.clock = clock
        self.default_topics = load_default_topics()
        self.search = SearchService(storage, self.default_topics)
        self.delivery = DeliveryService(self)
        self.schedules = ScheduleService(self)
        self._extensions = tuple(extensions)
        self._start_scheduler = start_scheduler
        self._sync_commands = sync_commands
        self.failed_extensions: dict[str, str] = {}
        self._after_command_tasks: set[asyncio.Task] = set()
        self.tree.on_error = on_tree_error

    async def setup_hook(self) -> None:
        # Digest pager buttons on old messages keep working after a restart.
        self.add_dynamic_items(DigestPageButton)
        for name in self._extensions:
            try:
                await self.load_extension(name)
            except Exception as exc:  # one broken cog must not take the others down
                log.exception("failed to load extension %s", name)
                self.failed_extensions[name] = str(exc)
        if self._sync_commands:
            await self.sync_commands_if_changed()
        if self._start_scheduler:
            await self.schedules.start()

    async def close(self) -> None:
        try:
            await self.schedules.shutdown()
            # SIGTERM (systemctl stop): let posts already on their way be answered and
            # recorded before the HTTP session and the database go away.
            await self.delivery.drain(SHUTDOWN_DRAIN_SECONDS)
            # Let post-command work (the closed-DM notice) finish before storage goes.
            pending = [t for t in self._after_command_tasks if t is not asyncio.current_task()]
            if pending:
                await asyncio.wait(pending, timeout=5)
        finally:
            # Whatever failed above, the client still closes: a SIGTERM is never ignored.
            await super().close()

    # -- topics ----------------------------------------------------------------------------
    async def taxonomy(self, guild_id: int | None) -> list[Topic]:
        """Built-in topics plus this guild's own, each keyed as stored on papers."""
        own = await self.storage.guild_topics(guild_id) if guild_id else []
        return [*self.default_topics, *own]

    async def topic_names(self, guild_id: int | None) -> dict[str, str]:
        return {topic_key(t): t.name for t in await self.taxonomy(guild_id)}

    async def followed_topics(self, follows: Sequence[Follow]) -> list[Topic]:
        """The topics these follows name, wherever they were followed: a member may
        follow the topics of several servers, and use /following or /unfollow anywhere."""
        wanted = {key_of(f.value, f.guild_id) for f in follows if f.kind == "topic"}
        guilds = sorted({f.guild_id for f in follows if f.kind == "topic" and f.guild_id})
        own = [t for guild in guilds for t in await self.storage.guild_topics(guild)]
        return [t for t in [*self.default_topics, *own] if topic_key(t) in wanted]

    async def ingest_taxonomy(self) -> list[Topic]:
        return await ingest_taxonomy(self.storage)

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
            await self.delivery.notify_closed_dms(interaction)
        finally:
            self._after_command_tasks.discard(task)  # type: ignore[arg-type]

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


def make_bot(*, settings: Settings, storage: Storage, **kwargs: Any) -> PaperBot:
    """The client for these settings: sharded when SHARD_COUNT is set, else plain."""
    cls = ShardedPaperBot if settings.sharded else PaperBot
    return cls(settings=settings, storage=storage, **kwargs)
