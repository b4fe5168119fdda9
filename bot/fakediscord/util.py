"""Small shared helpers: snowflakes, timestamps, JSON responses and a change signal."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

DISCORD_EPOCH_MS = 1420070400000

# Permission bits the fake needs to reason about (values from Discord's docs).
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_EXTERNAL_EMOJIS = 1 << 18
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1

# What @everyone gets in a freshly created guild, roughly.
DEFAULT_EVERYONE_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | READ_MESSAGE_HISTORY
    | EMBED_LINKS
    | ATTACH_FILES
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)


class SnowflakeFactory:
    """Generates strictly increasing, Discord-shaped snowflake ids.

    Every id gets its own millisecond so that consecutive guild ids land on different
    shards (``(id >> 22) % shard_count``), which makes shard tests meaningful.
    """

    def __init__(self) -> None:
        self._last_ms = 0
        self._increment = 0

    def next(self) -> int:
        """Return a new snowflake."""
        now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        self._last_ms = max(now_ms, self._last_ms + 1)
        self._increment = (self._increment + 1) & 0xFFF
        return (self._last_ms << 22) | (1 << 17) | self._increment


def iso_now() -> str:
    """Current UTC time in the ISO-8601 form Discord uses."""
    return datetime.now(UTC).isoformat()


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """Build a JSON response with a Content-Type of exactly ``application/json``.

    discord.py only decodes bodies whose content-type equals that string, so aiohttp's
    ``json_response`` (which appends ``; charset=utf-8``) cannot be used.
    """
    all_headers = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    body = json.dumps(data).encode()
    return web.Response(body=body, status=status, headers=all_headers)


def normalize_route(route: str) -> str:
    """Collapse ``{placeholder}`` names so ``{id}`` and ``{channel_id}`` compare equal."""
    return re.sub(r"\{[^}]*\}", "{}", " ".join(route.split()))


class Signal:
    """A re-armable 'something changed' event that many waiters can poll predicates on."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def pulse(self) -> None:
        """Wake every waiter; they re-check their predicate."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Wait until ``predicate()`` is true, raising ``TimeoutError`` after ``timeout`` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"fakediscord: timed out after {timeout}s waiting for {what}")
            event = self._event
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                continue
