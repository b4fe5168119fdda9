"""What paperbot holds, as `/status` and `/topics` show it: papers and days, the last
ingest, a server's digests, and how many papers each topic has."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.core.models import IngestReportJson, StorageStats, Topic
from bot.core.ports import ChannelDigests, PaperReader, Schedules
from bot.services.subscriptions import DigestState
from bot.services.topics import TopicCatalog


@dataclass(frozen=True)
class Status:
    stats: StorageStats
    last_ingest: IngestReportJson | None  # the newest ingest's record, None before the first
    digests: list[DigestState]  # this server's (none outside a server)


@dataclass(frozen=True)
class TopicCounts:
    taxonomy: list[Topic]  # the built-in topics, then this server's own
    newest: dt.date | None  # the newest day with papers
    on_newest: dict[str, int]  # papers per topic key on that day
    totals: dict[str, int]  # papers per topic key, all days


@dataclass(frozen=True, kw_only=True)
class StatusService:
    papers: PaperReader
    digests: ChannelDigests
    topics: TopicCatalog
    schedules: Schedules

    async def status(self, guild_id: int | None) -> Status:
        stats = await self.papers.stats()
        last = await self.papers.last_ingests(1)
        subs = await self.digests.channel_subscriptions(guild_id) if guild_id else []
        states = [DigestState(sub, self.schedules.next_run(sub.target)) for sub in subs]
        return Status(stats, last[0] if last else None, states)

    async def topic_counts(self, guild_id: int | None) -> TopicCounts:
        taxonomy = await self.topics.taxonomy(guild_id)
        days = await self.papers.days(1)
        newest = days[0] if days else None
        on_newest = await self.papers.topic_counts(newest) if newest else {}
        return TopicCounts(taxonomy, newest, on_newest, await self.papers.topic_counts(None))
