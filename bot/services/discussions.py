"""`/discuss`: one discussion thread per paper and channel, opened on first use and found
again after that.

The thread hangs off a message showing the paper (Discord's "start thread from message")
and is remembered per (channel, paper), also when a `thread: paper` digest started it.
A remembered thread that was deleted is replaced by a new one; an archived one is
reopened, or linked as it is when Discord will not reopen it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.models import StoredPaper
from bot.core.ports import MessagePoster, PaperThreads, PostFailed, ThreadsRefused
from bot.core.render import paper_detail_payload
from bot.core.threads import (
    DEFAULT_ARCHIVE_MINUTES,
    ArchiveMinutes,
    ThreadState,
    paper_thread_name,
)
from bot.services.refusals import Refused
from bot.services.topics import TopicCatalog

CANT_POST = "I can't post in this channel, so I can't start a thread here ({detail})."
THREADS_REFUSED = (
    "I can't start threads in this channel: give me the **Create Public Threads** and "
    "**Send Messages in Threads** permissions here ({detail})."
)
TRY_AGAIN = "Discord had trouble starting the thread ({detail}); try again in a moment."


class DiscussionStatus(StrEnum):
    OPENED = "opened"  # a new thread, just started
    FOUND = "found"  # the paper's open thread
    REOPENED = "reopened"  # its archived thread, unarchived
    ARCHIVED = "archived"  # its archived thread, which Discord would not reopen


@dataclass(frozen=True)
class Discussion:
    status: DiscussionStatus
    thread_id: int
    paper: StoredPaper


@dataclass(kw_only=True)
class DiscussionService:
    threads: PaperThreads
    topics: TopicCatalog
    poster: MessagePoster
    archive_minutes: ArchiveMinutes = DEFAULT_ARCHIVE_MINUTES
    # One /discuss at a time per (channel, paper) in this process: two people asking
    # at once get the same thread rather than two.
    _locks: dict[tuple[int, int], asyncio.Lock] = field(default_factory=dict)

    async def discuss(self, guild_id: int, channel_id: int, paper: StoredPaper) -> Discussion:
        """The paper's thread in this channel: found, reopened, or started now."""
        lock = self._locks.setdefault((channel_id, paper.id), asyncio.Lock())
        async with lock:
            known = await self.threads.paper_thread(channel_id, paper.id)
            if known is not None:
                found = await self._existing(known, paper)
                if found is not None:
                    return found
            thread_id = await self._start(guild_id, channel_id, paper)
            await self.threads.set_paper_thread(channel_id, paper.id, thread_id, guild_id)
            return Discussion(DiscussionStatus.OPENED, thread_id, paper)

    async def _existing(self, thread_id: int, paper: StoredPaper) -> Discussion | None:
        try:
            state = await self.poster.thread_state(thread_id)
        except PostFailed as exc:
            raise Refused(TRY_AGAIN.format(detail=exc.detail)) from exc
        if state is ThreadState.GONE:
            return None  # deleted: a new one replaces it
        if state is ThreadState.OPEN:
            return Discussion(DiscussionStatus.FOUND, thread_id, paper)
        if await self.poster.reopen_thread(thread_id):
            return Discussion(DiscussionStatus.REOPENED, thread_id, paper)
        return Discussion(DiscussionStatus.ARCHIVED, thread_id, paper)

    async def _start(self, guild_id: int, channel_id: int, paper: StoredPaper) -> int:
        channel = self.poster.channel(channel_id, guild_id)
        names = await self.topics.topic_names(guild_id)
        try:
            message_id = await channel.post(paper_detail_payload(paper, names))
        except PostFailed as exc:
            raise Refused(CANT_POST.format(detail=exc.detail)) from exc
        name = paper_thread_name(paper)
        try:
            return await channel.start_thread(message_id, name, self.archive_minutes)
        except ThreadsRefused as exc:
            raise Refused(THREADS_REFUSED.format(detail=exc.detail)) from exc
        except PostFailed as exc:
            raise Refused(TRY_AGAIN.format(detail=exc.detail)) from exc
