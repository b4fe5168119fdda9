"""`paperbot run` and `paperbot sync`: starting the real bot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
import sys

import aiohttp
import discord
import yarl

from bot.cli.errors import failure_line
from bot.cli.event_loop import loop_name
from bot.cli.settings import Settings
from bot.discord_app.wiring import build_site_server, make_bot
from storage import open_storage
from storage.urls import redact

log = logging.getLogger("paperbot")


class RedactSecrets(logging.Filter):
    """Replace the token anywhere in a log record, whatever logged it and at any level."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, ()
        return True


def setup_logging(settings: Settings) -> None:
    level = getattr(logging, settings.log_level, logging.INFO)
    discord.utils.setup_logging(level=level, root=True)
    password = yarl.URL(settings.db).password if "://" in settings.db else None
    redact = RedactSecrets(settings.token, password or "")
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)


def use_discord_endpoints(settings: Settings) -> None:
    """Send REST and gateway traffic elsewhere when configured (the tests' fake Discord)."""
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


async def run_bot(settings: Settings, *, sync_only: bool = False) -> int:
    setup_logging(settings)
    use_discord_endpoints(settings)
    try:
        storage = await open_storage(settings.db)
    except (sqlite3.Error, OSError, ValueError, RuntimeError) as exc:
        # An unreachable server or a bad URL: one line (the storage layer already keeps
        # the password out of it), as for every other bad setting.
        print(f"paperbot: cannot open database {redact(settings.db)}: {exc}", file=sys.stderr)
        return 1
    try:
        bot = make_bot(
            settings=settings,
            storage=storage,
            start_scheduler=not sync_only,
            sync_commands=not sync_only,
        )
    except BaseException:
        # An open SQLite storage holds non-daemon threads: the process could not exit.
        await storage.close()
        raise
    site = None if sync_only else build_site_server(settings=settings, storage=storage)
    try:
        if sync_only:
            await bot.login(settings.token)  # runs setup_hook: loads the cogs, no scheduler
            await bot.sync_commands_if_changed(force=True)
            print("slash commands synced")
            return 0
        shards = f", shards {list(settings.shard_ids)} of {settings.shard_count}"
        log.info(
            "starting paperbot (database %s%s, event loop %s)",
            redact(settings.db),
            shards if settings.sharded else "",
            loop_name(asyncio.get_running_loop()),
        )
        if site is not None:
            try:
                await site.start()
            except OSError as exc:
                where = f"{settings.http_host}:{settings.http_port}"
                print(
                    f"paperbot: cannot serve the site on {where} (HTTP_HOST, HTTP_PORT): "
                    f"{os.strerror(exc.errno) if exc.errno else exc}",
                    file=sys.stderr,
                )
                return 1
        # SIGTERM (systemd stop) closes cleanly; an in-flight post is recorded either way.
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, lambda: asyncio.ensure_future(bot.close()))
        await bot.start(settings.token)
        return 0
    except discord.LoginFailure:
        print(
            "paperbot: Discord rejected DISCORD_TOKEN; copy a fresh token from the developer "
            "portal (Bot → Reset Token) into .env",
            file=sys.stderr,
        )
        return 1
    except (aiohttp.ClientError, OSError, discord.GatewayNotFound, discord.HTTPException) as exc:
        # No network, DNS or a Discord outage while connecting: one line, not a traceback
        # (`--debug` adds it); a service manager restarts us on the exit code.
        if settings.log_level == "DEBUG":
            log.exception("could not connect to Discord")
        where = yarl.URL(str(discord.http.Route.BASE)).host or "Discord"
        line = failure_line(exc, settings.secrets)
        print(f"paperbot: cannot reach Discord ({where}): {line}", file=sys.stderr)
        return 1
    finally:
        # The storage is closed even when closing the bot fails: an open SQLite storage
        # holds non-daemon threads, and the process could not exit.
        try:
            if site is not None:
                await site.stop()  # no request reads the storage once it closes
        finally:
            try:
                if not bot.is_closed():
                    await bot.close()
            finally:
                await storage.close()
