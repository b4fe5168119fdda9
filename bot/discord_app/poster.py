"""DiscordPoster: the MessagePoster port (bot.core.ports) over discord.py.

The delivery service decides what to post and when; this module only turns a payload
and a pager description into a discord.py send (the page buttons are built here), reads
a channel's history for a digest marker, and turns discord.py's errors into the port's:
403 code 50007 is DmsClosed, any other 403 or a 404 is TargetGone (unknown channel,
missing access or permissions), and a timeout, a 5xx, a 429 after discord.py's own
retries or a network error is PostInterrupted.

Threads are started through the "start thread from message" endpoint with the message's
channel id and id alone (`http.start_thread_with_message`, what `Message.create_thread`
calls): a process taking over another shard's channel has no cached guild, which
`Message.create_thread` needs only to build its return value. A thread already started
from the message (code 160004) counts as started: its id is the message's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import discord

from bot.core.page_papers import page_papers
from bot.core.payloads import MessagePayload
from bot.core.ports import (
    DmChannels,
    DmsClosed,
    Pager,
    PostFailed,
    PostInterrupted,
    TargetGone,
    ThreadsRefused,
)
from bot.core.threads import ArchiveMinutes, ThreadState
from bot.discord_app.replies import send_kwargs
from bot.discord_app.views import pager_view, papers_view

log = logging.getLogger("paperbot.delivery")

CLOSED_DMS = 50007
UNKNOWN_CHANNEL = 10003
THREAD_ALREADY_CREATED = 160004  # "A thread has already been created for this message"

Messageable = discord.PartialMessageable | discord.DMChannel


class DiscordPoster:
    def __init__(self, client: discord.Client, dm_channels: DmChannels | None = None) -> None:
        self._client = client
        self._dm_channels = dm_channels

    def channel(self, channel_id: int, guild_id: int | None) -> DiscordDestination:
        messageable = self._client.get_partial_messageable(channel_id, guild_id=guild_id)
        return DiscordDestination(self._client, messageable)

    async def member(self, user_id: int) -> DiscordDestination:
        known = None
        if self._dm_channels is not None:
            known = await self._dm_channels.dm_channel(user_id)
        if known is None:
            return DiscordDestination(self._client, await self._open_dm(user_id))
        channel = self._client.get_partial_messageable(known, type=discord.ChannelType.private)

        async def reopen() -> Messageable:
            log.info("DM channel %s of %s is gone: opening it again", known, user_id)
            return await self._open_dm(user_id, cached=False)

        return DiscordDestination(self._client, channel, reopen=reopen)

    async def _open_dm(self, user_id: int, *, cached: bool = True) -> Messageable:
        """Open the member's DM channel and remember its id: a request, unless `cached`
        and discord.py still has the channel (it may be the one just found gone)."""
        channel: Messageable
        try:
            if cached:
                channel = await self._client.create_dm(discord.Object(user_id))
            else:
                data = await self._client.http.start_private_message(user_id)
                channel = self._client.get_partial_messageable(
                    int(data["id"]), type=discord.ChannelType.private
                )
        except discord.HTTPException as exc:
            detail = f"cannot open DM: {exc.text or exc.status}"
            raise PostInterrupted(str(exc), detail) from exc
        if self._dm_channels is not None:
            await self._dm_channels.remember_dm_channel(user_id, channel.id)
        return channel

    async def thread_state(self, thread_id: int) -> ThreadState:
        try:
            channel = await self._client.fetch_channel(thread_id)
        except (discord.NotFound, discord.Forbidden):
            return ThreadState.GONE
        except discord.HTTPException as exc:
            raise PostInterrupted(str(exc)) from exc
        if not isinstance(channel, discord.Thread):
            return ThreadState.GONE
        return ThreadState.ARCHIVED if channel.archived else ThreadState.OPEN

    async def reopen_thread(self, thread_id: int) -> bool:
        try:
            await self._client.http.edit_channel(thread_id, archived=False)
        except discord.HTTPException as exc:
            log.info("could not reopen thread %s: %s", thread_id, exc)
            return False
        return True


class DiscordDestination:
    """One channel or DM channel to post to. `reopen`: for a remembered DM channel, how
    to open it again when Discord no longer knows it (tried once)."""

    def __init__(
        self,
        client: discord.Client,
        channel: Messageable,
        *,
        reopen: Callable[[], Awaitable[Messageable]] | None = None,
    ) -> None:
        self._client = client
        self._channel = channel
        self._reopen = reopen

    async def _reopened(self, exc: discord.HTTPException) -> bool:
        """After `exc`: True when the channel was unknown and is now opened again (send
        once more); False when the error stands."""
        if self._reopen is None or not isinstance(exc, discord.NotFound):
            return False
        if exc.code != UNKNOWN_CHANNEL:
            return False
        reopen, self._reopen = self._reopen, None
        self._channel = await reopen()
        return True

    async def post(
        self,
        payload: MessagePayload,
        *,
        nonce: str | None = None,
        pager: Pager | None = None,
        timeout: float | None = None,
    ) -> int:
        papers = page_papers(payload)
        if pager is not None:
            view = pager_view(pager.scope, pager.day, pager.page, pager.pages, papers=papers)
        else:
            view = papers_view(papers)
        kwargs = send_kwargs(payload, view)
        loop = asyncio.get_running_loop()
        # A retry to a reopened DM channel gets what is left of the timeout, not more.
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            try:
                if nonce is None:  # discord.py then makes one up
                    sending = self._channel.send(**kwargs)
                else:
                    sending = self._channel.send(**kwargs, nonce=nonce)
                if deadline is not None:
                    left = max(deadline - loop.time(), 0.0)
                    message = await asyncio.wait_for(sending, timeout=left)
                else:
                    message = await sending
            except discord.HTTPException as exc:
                # A 404 created nothing: sending again to the reopened channel is safe.
                if await self._reopened(exc):
                    continue
                raise refusal(exc) from exc
            except (TimeoutError, OSError) as exc:
                raise PostInterrupted(str(exc)) from exc
            return message.id

    async def say(self, text: str) -> None:
        while True:
            try:
                await self._channel.send(text, allowed_mentions=discord.AllowedMentions.none())
            except discord.HTTPException as exc:
                if await self._reopened(exc):
                    continue
                raise refusal(exc) from exc
            return

    async def find_posted(self, marker: str, limit: int) -> int | None:
        me = self._client.user.id if self._client.user else None
        try:
            async for message in self._channel.history(limit=limit):
                if message.author.id == me and marker in (message.content or ""):
                    return message.id
        except discord.HTTPException as exc:
            log.warning("could not read history to reconcile %s: %s", marker, exc)
        return None

    async def start_thread(
        self, message_id: int, name: str, archive_minutes: ArchiveMinutes
    ) -> int:
        try:
            data = await self._client.http.start_thread_with_message(
                self._channel.id,
                message_id,
                name=name,
                auto_archive_duration=archive_minutes,
            )
        except discord.HTTPException as exc:
            if exc.code == THREAD_ALREADY_CREATED:
                return message_id
            if isinstance(exc, discord.Forbidden):
                raise ThreadsRefused(str(exc), describe(exc)) from exc
            raise refusal(exc) from exc
        except (TimeoutError, OSError) as exc:
            raise PostInterrupted(str(exc)) from exc
        return int(data["id"])


def refusal(exc: discord.HTTPException) -> PostFailed:
    """The port's error for an HTTP error from Discord."""
    if isinstance(exc, discord.Forbidden):
        if exc.code == CLOSED_DMS:
            return DmsClosed(str(exc), describe(exc))
        return TargetGone(str(exc), describe(exc))
    if isinstance(exc, discord.NotFound):
        return TargetGone(str(exc), describe(exc))
    return PostInterrupted(str(exc))


def describe(exc: discord.HTTPException) -> str:
    """The one line the ledger records for a refusal."""
    return f"{exc.status} {exc.text or exc.__class__.__name__} (code {exc.code})"[:300]
