"""A server's own topics: adding one (tagging every stored paper with it) and finding
the one `/topic remove` names. Removing it is bot/services/topic_removal.py."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.ingest import tag_stored_papers
from bot.core.models import Topic
from bot.core.ports import GuildTopicStore, IngestStore
from bot.core.render import code_span, safe_inline
from bot.core.text import unquoted
from bot.core.topic_lookup import UnknownTopic, find_exact, resolve_topic
from bot.core.topics import parse_keyword_list, slugify, validate_topic
from bot.services.refusals import Refused
from bot.services.topics import TopicCatalog

MAX_GUILD_TOPICS = 25


@dataclass(frozen=True, kw_only=True)
class ServerTopicService:
    store: GuildTopicStore
    papers: IngestStore
    topics: TopicCatalog

    async def new_topic(self, guild_id: int, name: str, keywords: str) -> Topic:
        """The topic `/topic add name keywords` would add (or replace); Refused when the
        server has too many, the name is a built-in's, or the keywords match nothing."""
        name = unquoted(name)  # quotes typed around a name are not part of it
        existing = await self.topics.own(guild_id)
        slug = slugify(name)
        replaces = find_exact(existing, slug) is not None
        if len(existing) >= MAX_GUILD_TOPICS and not replaces:
            raise Refused(f"This server has {MAX_GUILD_TOPICS} topics; remove one first.")
        if find_exact(self.topics.defaults, slug) is not None:
            raise Refused(f"{code_span(name, 100)} is a built-in topic already; pick another name.")
        try:
            words, phrases = parse_keyword_list(keywords)
            return validate_topic(slug, name, words, phrases, guild_id=guild_id)
        except ValueError as exc:
            raise Refused.from_value_error(exc) from None

    async def add(self, topic: Topic) -> int:
        """Store the topic and tag every stored paper it matches; how many matched."""
        await self.store.upsert_guild_topic(topic)
        return await tag_stored_papers(self.papers, topic)

    async def own_topic(self, guild_id: int, text: str) -> Topic:
        """This server's topic `text` names exactly (key, slug or name); Refused when it
        names a built-in topic or nothing."""
        try:
            return resolve_topic(await self.topics.own(guild_id), text)
        except UnknownTopic as exc:
            builtin = find_exact(self.topics.defaults, text)
            if builtin is not None:
                raise Refused(
                    f"**{safe_inline(builtin.name, 100)}** is a built-in topic; only this "
                    "server's own topics can be removed."
                ) from None
            raise Refused.unknown_topic(exc, "This server has no topic called") from None
