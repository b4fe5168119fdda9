"""A member's own papers: what they follow (topics and keywords) and when their daily
DM arrives, as `/follow`, `/unfollow`, `/following` and `/delivery` change them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.core.authors import author_key
from bot.core.models import Topic
from bot.core.payloads import MessagePayload
from bot.core.ports import MemberFollows, Schedules
from bot.core.subscriptions import Follow, FollowKind, UserDelivery, keyword_value
from bot.core.text import unquoted
from bot.core.topic_lookup import UnknownTopic, find_exact, key_of, resolve_topic, topic_key
from bot.services.delivery import DeliveryService
from bot.services.refusals import Refused
from bot.services.topics import TopicCatalog

MAX_FOLLOWS = 25


def author_follow(name: str) -> Follow:
    """The follow of an author by name; refused for a name with no letters."""
    label = " ".join(unquoted(name).split())  # quotes typed around it are not in it
    key = author_key(label)
    if not key:
        raise Refused("An author's name needs letters.")
    return Follow(FollowKind.AUTHOR, key, label=label)


ONE_OF_THEM = "Give one of `topic`, `keyword` or `author` (just one of them)."


@dataclass(frozen=True)
class Followed:
    follow: Follow
    added: bool  # False: it was followed already
    user: UserDelivery | None
    topic_names: dict[str, str]  # the names of the topics this server sees, by key


@dataclass(frozen=True)
class Following:
    user: UserDelivery
    topic_names: dict[str, str]  # the followed topics' names, by key
    next_run: dt.datetime | None


@dataclass(frozen=True, kw_only=True)
class FollowService:
    follows: MemberFollows
    topics: TopicCatalog
    delivery: DeliveryService
    schedules: Schedules

    async def follow(
        self,
        user_id: int,
        guild_id: int | None,
        *,
        topic: str | None,
        keyword: str | None,
        author: str | None = None,
    ) -> Followed:
        """Follow the topic (named as everywhere: key, slug or name), the keyword, or
        the author (by name: accents and initials match, `bot.core.authors`)."""
        if author is not None:
            if topic is not None or keyword is not None:
                raise Refused(ONE_OF_THEM)
            follow = author_follow(author)
        else:
            follow = await self._follow_named(guild_id, topic, keyword)
        current = await self.follows.user_delivery(user_id)
        if current and len(current.follows) >= MAX_FOLLOWS:
            raise Refused(f"You follow {MAX_FOLLOWS} things already; `/unfollow` some first.")
        added = await self.follows.add_follow(user_id, follow)
        await self.schedules.rebuild()
        user = await self.follows.user_delivery(user_id)
        return Followed(follow, added, user, await self.topics.topic_names(guild_id))

    async def unfollow(
        self,
        user_id: int,
        guild_id: int | None,
        *,
        topic: str | None,
        keyword: str | None,
        author: str | None = None,
    ) -> FollowKind:
        """Stop following the topic, keyword or author; which kind it was."""
        if author is not None and topic is None and keyword is None:
            removed = await self.follows.remove_follow(
                user_id, FollowKind.AUTHOR, author_follow(author).value
            )
            if not removed:
                raise Refused("You don't follow that author. `/following` lists what you do.")
            await self.schedules.rebuild()
            return FollowKind.AUTHOR
        if (topic is None) == (keyword is None) or author is not None:
            raise Refused(ONE_OF_THEM)
        if topic is not None:
            kind, removed = FollowKind.TOPIC, await self._unfollow_topic(user_id, guild_id, topic)
        else:
            kind, removed = FollowKind.KEYWORD, await self._unfollow_keyword(user_id, keyword or "")
        if not removed:
            raise Refused(f"You don't follow that {kind}. `/following` lists what you do.")
        await self.schedules.rebuild()
        return kind

    async def following(self, user_id: int) -> Following | None:
        """What the member follows and when their DM comes; None when nothing."""
        user = await self.follows.user_delivery(user_id)
        if user is None or not user.follows:
            return None
        names = {topic_key(t): t.name for t in await self.topics.followed_topics(user.follows)}
        return Following(user, names, self.schedules.next_run(user.target))

    async def set_delivery(
        self, user_id: int, post_time: str, timezone: str
    ) -> tuple[UserDelivery | None, dt.datetime | None]:
        """When the member's DM arrives; the member as now stored and their next DM."""
        await self.follows.set_user_delivery(user_id, post_time, timezone)
        await self.schedules.rebuild()
        user = await self.follows.user_delivery(user_id)
        return user, self.schedules.next_run(f"user:{user_id}")

    async def followed_keywords(self, user_id: int) -> list[str]:
        user = await self.follows.user_delivery(user_id)
        return [f.value for f in (user.follows if user else ()) if f.kind == FollowKind.KEYWORD]

    async def followed_topics(self, user_id: int) -> list[Topic]:
        """The member's followed topics, from every server they followed them in."""
        user = await self.follows.user_delivery(user_id)
        return await self.topics.followed_topics(user.follows) if user else []

    async def dm_pages(self, user_id: int, day: dt.date) -> list[MessagePayload]:
        """The pages of the member's DM for `day`, as their follows lay it out."""
        user = await self.follows.user_delivery(user_id)
        return await self.delivery.member_pages(user, day) if user else []

    async def followed_authors(self, user_id: int) -> list[Follow]:
        user = await self.follows.user_delivery(user_id)
        return [f for f in (user.follows if user else ()) if f.kind == FollowKind.AUTHOR]

    async def _follow_named(
        self, guild_id: int | None, topic: str | None, keyword: str | None
    ) -> Follow:
        if (topic is None) == (keyword is None):
            raise Refused(ONE_OF_THEM)
        if topic is not None:
            try:
                found = resolve_topic(await self.topics.taxonomy(guild_id), topic)
            except UnknownTopic as exc:
                raise Refused.unknown_topic(exc) from None
            return Follow(FollowKind.TOPIC, found.slug, found.guild_id or 0)
        try:
            return Follow(FollowKind.KEYWORD, keyword_value(keyword or ""))
        except ValueError as exc:
            raise Refused.from_value_error(exc) from None

    async def _unfollow_keyword(self, user_id: int, text: str) -> bool:
        value = " ".join(text.split()).casefold()
        if await self.follows.remove_follow(user_id, FollowKind.KEYWORD, value):
            return True
        try:
            canonical = keyword_value(value)  # as `/follow` stored it
        except ValueError:
            return False
        return canonical != value and await self.follows.remove_follow(
            user_id, FollowKind.KEYWORD, canonical
        )

    async def _unfollow_topic(self, user_id: int, guild_id: int | None, text: str) -> bool:
        """Unfollow the followed topic `text` names: its key, slug or name, as everywhere."""
        user = await self.follows.user_delivery(user_id)
        follows = user.follows if user else ()
        followed = await self.topics.followed_topics(follows)
        # A follow that outlived its topic (removed while being followed) has only its
        # slug left: it stands in as a topic of that name, found the same way.
        live = {topic_key(t) for t in followed}
        orphans = [
            Topic(f.value, f.value, guild_id=f.guild_id or None)
            for f in follows
            if f.kind == FollowKind.TOPIC and key_of(f.value, f.guild_id) not in live
        ]
        found = find_exact(followed, text) or find_exact(orphans, text)
        if found is not None:
            return await self.follows.remove_follow(
                user_id, FollowKind.TOPIC, found.slug, found.guild_id or 0
            )
        if followed and find_exact(await self.topics.taxonomy(guild_id), text) is None:
            try:
                resolve_topic(followed, text)  # names no topic: did they mean one they follow?
            except UnknownTopic as exc:
                raise Refused.unknown_topic(exc) from None
        return False
