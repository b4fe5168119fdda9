"""A server's channel digests, as `/digest` and `/status` see them: subscribe,
unsubscribe, list, pause, resume, preview and post now. Posting itself is the
delivery service's (bot/services/delivery.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.core.delivery_plan import choose_digest_day, last_fire_time, local_today
from bot.core.payloads import MessagePayload
from bot.core.ports import ChannelDigests, Clock, DeliveryLedger, PaperReader, Schedules
from bot.core.sources import SourceFilter, parse_source_filter
from bot.core.subscriptions import ChannelSubscription
from bot.core.topic_lookup import UnknownTopic, resolve_topic_list, topic_key
from bot.services.delivery import DeliveryService, Outcome
from bot.services.refusals import Refused
from bot.services.topics import TopicCatalog

PREVIEW_DAYS = 60  # the stored days a preview picks its day from
DEFAULT_MAX_ITEMS = 10  # a preview of a channel with no digest


@dataclass(frozen=True)
class DigestState:
    """A channel's digest and when it posts next (None: paused or not scheduled here)."""

    sub: ChannelSubscription
    next_run: dt.datetime | None


@dataclass(frozen=True)
class Preview:
    day: dt.date
    pages: list[MessagePayload]


@dataclass(frozen=True, kw_only=True)
class SubscriptionService:
    digests: ChannelDigests
    papers: PaperReader
    ledger: DeliveryLedger
    topics: TopicCatalog
    delivery: DeliveryService
    schedules: Schedules
    clock: Clock

    def state(self, sub: ChannelSubscription) -> DigestState:
        return DigestState(sub, self.schedules.next_run(sub.target))

    async def topic_filter(self, guild_id: int | None, text: str | None) -> tuple[str, ...]:
        """The keys a comma-separated `topics` option names (none: every topic)."""
        try:
            return tuple(
                topic_key(t) for t in resolve_topic_list(await self.topics.taxonomy(guild_id), text)
            )
        except UnknownTopic as exc:
            raise Refused.unknown_topic(exc) from None

    def source_filter(self, text: str | None) -> SourceFilter:
        """What a `source` option names: hf, arxiv, arxiv:cs.CL,cs.LG or all (empty)."""
        try:
            return parse_source_filter(text)
        except ValueError as exc:
            raise Refused(str(exc)) from None

    async def subscribe(self, sub: ChannelSubscription) -> DigestState:
        """Add or replace the channel's digest. A post time already passed today starts
        tomorrow, rather than posting this minute."""
        await self.digests.upsert_channel_subscription(sub)
        await self._start_tomorrow_if_passed(sub)
        await self.schedules.rebuild()
        return self.state(sub)

    async def unsubscribe(self, guild_id: int, channel_id: int) -> None:
        if not await self.digests.delete_channel_subscription(guild_id, channel_id):
            raise Refused(f"<#{channel_id}> has no digest here.")
        await self.schedules.rebuild()

    async def listing(self, guild_id: int | None) -> list[DigestState]:
        return [self.state(sub) for sub in await self.digests.channel_subscriptions(guild_id)]

    async def find(self, guild_id: int | None, channel_id: int) -> ChannelSubscription | None:
        """The channel's digest, if it is one of this server's (never another's)."""
        sub = await self.digests.channel_subscription(channel_id)
        return sub if sub is not None and sub.guild_id == guild_id else None

    async def own(self, guild_id: int | None, channel_id: int) -> ChannelSubscription:
        """The channel's digest in this server; Refused when it has none."""
        sub = await self.find(guild_id, channel_id)
        if sub is None:
            raise Refused(f"<#{channel_id}> has no digest. Add one with `/digest subscribe`.")
        return sub

    async def pause(self, sub: ChannelSubscription) -> None:
        await self.digests.set_channel_paused(sub.channel_id, True)
        await self.schedules.rebuild()

    async def resume(self, sub: ChannelSubscription) -> DigestState:
        """Like a new subscription: a post time already passed today waits for tomorrow
        rather than posting this minute (`post_now` posts at once)."""
        await self.digests.set_channel_paused(sub.channel_id, False)
        await self._start_tomorrow_if_passed(sub)
        await self.schedules.rebuild()
        return self.state(sub)

    async def post_now(self, sub: ChannelSubscription) -> Outcome:
        return await self.delivery.deliver_channel(sub, self.clock())

    async def preview(self, guild_id: int | None, channel_id: int) -> Preview | None:
        """Exactly what the channel's next digest would post (with every topic and the
        default size when it has no digest); None when no papers are stored."""
        sub = await self.find(guild_id, channel_id)
        zone = sub.timezone if sub else "UTC"
        days = await self.papers.days(limit=PREVIEW_DAYS)
        last = await self.ledger.last_delivered_day(sub.target) if sub else None
        day = choose_digest_day(days, last, local_today(self.clock(), zone)) or (
            days[0] if days else None
        )
        if day is None:
            return None
        return Preview(day, await self._pages(sub, guild_id, day))

    async def pages(
        self, guild_id: int | None, channel_id: int, day: dt.date
    ) -> list[MessagePayload]:
        """The pages of the channel's digest for `day`, as its settings lay them out."""
        return await self._pages(await self.find(guild_id, channel_id), guild_id, day)

    async def _pages(
        self, sub: ChannelSubscription | None, guild_id: int | None, day: dt.date
    ) -> list[MessagePayload]:
        if sub is None:
            return await self.delivery.channel_pages((), DEFAULT_MAX_ITEMS, guild_id, day)
        return await self.delivery.channel_pages(
            sub.topics, sub.max_items, guild_id, day, sub.source, sub.order
        )

    async def _start_tomorrow_if_passed(self, sub: ChannelSubscription) -> None:
        fired = last_fire_time(self.clock(), sub.post_time, sub.timezone)
        await self.digests.set_last_run(sub.target, local_today(fired, sub.timezone))
