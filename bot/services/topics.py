"""The topic catalog: the built-in taxonomy plus each server's own topics, as the cogs,
digests and the ingest see them."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.ingest import ingest_taxonomy
from bot.core.models import Topic
from bot.core.ports import GuildTopics
from bot.core.subscriptions import Follow, FollowKind
from bot.core.topic_lookup import key_of, topic_key


class TopicCatalog:
    def __init__(self, store: GuildTopics, defaults: Sequence[Topic]) -> None:
        self._store = store
        self.defaults = list(defaults)

    async def taxonomy(self, guild_id: int | None) -> list[Topic]:
        """Built-in topics plus this guild's own, each keyed as stored on papers."""
        return [*self.defaults, *await self.own(guild_id)]

    async def own(self, guild_id: int | None) -> list[Topic]:
        """This guild's own topics only."""
        return await self._store.guild_topics(guild_id) if guild_id else []

    async def topic_names(self, guild_id: int | None) -> dict[str, str]:
        return {topic_key(t): t.name for t in await self.taxonomy(guild_id)}

    async def followed_topics(self, follows: Sequence[Follow]) -> list[Topic]:
        """The topics these follows name, wherever they were followed: a member may
        follow the topics of several servers, and use /following or /unfollow anywhere."""
        wanted = {key_of(f.value, f.guild_id) for f in follows if f.kind == FollowKind.TOPIC}
        return [t for t in await self._member_taxonomy(follows) if topic_key(t) in wanted]

    async def member_topic_names(self, follows: Sequence[Follow]) -> dict[str, str]:
        """The topic names a member's DM may show: the built-ins, and the topics of each
        server the member follows a topic of (a server they are known to be in). Other
        servers' topics stay unnamed, so a DM never shows one server's own topics to a
        member of another."""
        return {topic_key(t): t.name for t in await self._member_taxonomy(follows)}

    async def _member_taxonomy(self, follows: Sequence[Follow]) -> list[Topic]:
        guilds = sorted({f.guild_id for f in follows if f.kind == FollowKind.TOPIC and f.guild_id})
        own = [t for guild in guilds for t in await self._store.guild_topics(guild)]
        return [*self.defaults, *own]

    async def ingest_taxonomy(self) -> list[Topic]:
        """What every ingest tags papers with: the built-ins and every guild's topics."""
        return await ingest_taxonomy(self._store)
