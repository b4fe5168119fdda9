"""Point discord.py at a :class:`FakeDiscord` and run a bot against it cleanly."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

import discord
import discord.gateway
import discord.http
import yarl

if TYPE_CHECKING:
    from .server import FakeDiscord


class point_discord_at:
    """Redirect discord.py's REST base and gateway URL to ``fake``.

    Takes effect immediately, so a plain call suits the console; use it as a context
    manager (or call :meth:`restore`) to put the previous URLs back.
    """

    def __init__(self, fake: FakeDiscord) -> None:
        self._old_base = discord.http.Route.BASE
        self._old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = fake.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)

    def restore(self) -> None:
        """Put back the URLs that were in place before."""
        discord.http.Route.BASE = self._old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._old_gateway

    def __enter__(self) -> point_discord_at:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.restore()


async def _no_identify_delay(shard_id: int | None, *, initial: bool = False) -> None:
    """Replacement for ``before_identify_hook``: the default sleeps 5 s before re-IDENTIFY
    (and before every shard after the first), which only protects real Discord's limits."""


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeDiscord,
    bot: discord.Client,
    *,
    token: str = "fake-token",
    timeout: float = 15.0,
    guild_ready_timeout: float | None = 0.1,
    skip_identify_delay: bool = True,
) -> AsyncIterator[discord.Client]:
    """Start ``bot`` against ``fake`` (``bot.start`` in a task), wait for ``on_ready``,
    and close it cleanly on exit.

    ``guild_ready_timeout`` shortens discord.py's wait for more GUILD_CREATEs before
    ``on_ready`` (default 2 s); the fake sends them all right after READY.
    """
    with point_discord_at(fake):
        if guild_ready_timeout is not None:
            bot._connection.guild_ready_timeout = guild_ready_timeout
        if skip_identify_delay:
            # A subclass would override the method; a bot built elsewhere gets it replaced.
            bot.before_identify_hook = _no_identify_delay  # type: ignore[method-assign]
        task = asyncio.create_task(bot.start(token), name="fakediscord-bot")
        try:
            await _wait_ready(bot, task, timeout)
            yield bot
        finally:
            crash = await _shutdown(bot, task, timeout)
        # Only reached when the body succeeded: surface a bot that died while we were in it.
        if crash is not None:
            raise crash


async def _wait_ready(bot: discord.Client, task: asyncio.Task[Any], timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    # Polling: bot.wait_until_ready() cannot be awaited before login created its event.
    while not bot.is_ready():
        if task.done():
            task.result()  # re-raise the startup error (LoginFailure, HTTPException...)
            raise RuntimeError("bot.start() returned before the bot became ready")
        if loop.time() > deadline:
            raise TimeoutError(f"bot was not ready within {timeout}s")
        await asyncio.sleep(0.01)


async def _shutdown(
    bot: discord.Client, task: asyncio.Task[Any], timeout: float
) -> BaseException | None:
    """Close the bot and reap its task; return the task's own crash, if any."""
    crashed = task.done() and not task.cancelled() and task.exception() is not None
    crash = task.exception() if crashed else None
    if not bot.is_closed():
        await bot.close()
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout)
    except asyncio.CancelledError:
        if not task.cancelled():
            raise  # we ourselves are being cancelled
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    except Exception as exc:
        crash = crash or exc
    # Let callbacks scheduled by close() (view timeouts, aiohttp connector) run out.
    await asyncio.sleep(0)
    return crash
