"""Removing a server topic: ask first when digests or members use it, then remove it and
tell each follower once, by DM.

"Once" holds because the followers to tell are exactly the follows the removal deleted,
in the same transaction (`Subscriptions.delete_guild_topic`): a second removal, a second
click or another process finds no topic and no followers, so nobody is told twice. A
crash part-way through the DMs leaves the rest untold rather than told again.

The Remove / Cancel question itself is Discord's: bot/discord_app/topic_removal_view.py.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.models import Topic
from bot.core.pacing import Pacer
from bot.core.ports import MessagePoster, PostFailed, Subscriptions
from bot.core.subscriptions import ChannelSubscription
from bot.core.topic_lookup import topic_key
from bot.core.topic_removal import follower_notice, removal_question, removal_result
from bot.services.topics import TopicCatalog

log = logging.getLogger("paperbot.topics")


@dataclass(frozen=True)
class TopicUsage:
    topic: Topic
    digests: tuple[ChannelSubscription, ...]  # this server's digests filtering on it
    followers: int

    @property
    def used(self) -> bool:
        return bool(self.digests or self.followers)


class TopicRemover:
    """`pacer` is the delivery service's: the followers' DMs share the post rate with
    digests. `on_schedules_changed` is awaited after a removal (members left following
    nothing lose their DM job)."""

    def __init__(
        self,
        *,
        subscriptions: Subscriptions,
        topics: TopicCatalog,
        poster: MessagePoster,
        pacer: Pacer,
        on_schedules_changed: Callable[[], Awaitable[None]],
    ) -> None:
        self.subscriptions = subscriptions
        self.topics = topics
        self.poster = poster
        self.pacer = pacer
        self._on_schedules_changed = on_schedules_changed

    async def usage(self, guild_id: int, topic: Topic) -> TopicUsage:
        key = topic_key(topic)
        subs = await self.subscriptions.channel_subscriptions(guild_id)
        followers = await self.subscriptions.topic_followers(guild_id, topic.slug)
        return TopicUsage(topic, tuple(s for s in subs if key in s.topics), len(followers))

    async def question(self, guild_id: int, usage: TopicUsage) -> str:
        names = await self.topics.topic_names(guild_id)
        return removal_question(usage.topic, usage.digests, usage.followers, names)

    async def remove(self, guild_id: int, topic: Topic, server: str) -> str | None:
        """Remove the topic, tell its followers, and say what changed; None when it was
        already gone (someone else removed it first)."""
        removal = await self.subscriptions.delete_guild_topic(guild_id, topic.slug)
        if removal is None:
            return None
        # Members left following nothing lose their DM job; digests keep theirs.
        await self._on_schedules_changed()
        told, not_told = await self._tell(removal.followers, follower_notice(topic, server))
        names = await self.topics.topic_names(guild_id)
        return removal_result(topic, removal.digests, told, not_told, names)

    async def _tell(self, user_ids: tuple[int, ...], text: str) -> tuple[int, int]:
        told = not_told = 0
        for user_id in user_ids:
            await self.pacer.acquire()  # shares the post rate with digests
            try:
                channel = await self.poster.member(user_id)
                await channel.say(text)
            except PostFailed as exc:
                # Not retried: a retry could not know whether this one arrived.
                log.info("could not tell user %s about a removed topic: %s", user_id, exc)
                not_told += 1
            else:
                told += 1
        return told, not_told
