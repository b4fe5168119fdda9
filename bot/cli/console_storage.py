"""The console's storage: a throwaway database, or a named one's papers beside a
throwaway store for everything about the (fake) Discord.

The console's server, channels and members exist only in its fake Discord. Written
into a real database, a subscription to its #papers would have the real bot post to a
channel that does not exist, count the failures and pause it; a delivery record would
tell the real bot a day was already posted; a stored command hash would stop the real
bot from syncing its commands. So with `console --db PATH` only the papers (and the
topics that tag them) come from PATH.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, cast

from bot.core.subscriptions import FollowKind, TopicRemoval
from storage import Storage, open_storage

# Every Storage method about Discord-side state: subscriptions, follows, the delivery
# ledger and the key/value meta (command hash, shard heartbeats).
DISCORD_STATE = frozenset(
    {
        "upsert_channel_subscription",
        "delete_channel_subscription",
        "channel_subscriptions",
        "channel_subscription",
        "record_channel_failure",
        "record_channel_success",
        "add_follow",
        "remove_follow",
        "topic_followers",
        "user_delivery",
        "user_deliveries",
        "set_user_delivery",
        "set_last_run",
        "set_dm_closed",
        "claim_delivery",
        "finish_delivery",
        "delivery",
        "last_delivered_day",
        "deliveries_in_state",
        "get_meta",
        "set_meta",
    }
)


class SplitStorage:
    """Papers from one storage, Discord-side state from another; closes both."""

    def __init__(self, papers: Storage, discord_state: Storage) -> None:
        self.papers = papers
        self.discord_state = discord_state

    def __getattr__(self, name: str) -> Any:
        return getattr(self.discord_state if name in DISCORD_STATE else self.papers, name)

    async def delete_guild_topic(self, guild_id: int, slug: str) -> TopicRemoval | None:
        """The topic and its paper tags go from the papers' storage; its follows and
        digest filters, which live in the other one, go from there."""
        if await self.papers.delete_guild_topic(guild_id, slug) is None:
            return None
        state, key = self.discord_state, f"{guild_id}:{slug}"
        followers = tuple(await state.topic_followers(guild_id, slug))
        for user_id in followers:
            await state.remove_follow(user_id, FollowKind.TOPIC, slug, guild_id)
        digests = []
        for sub in await state.channel_subscriptions(guild_id):
            if key in sub.topics:
                sub = dataclasses.replace(sub, topics=tuple(t for t in sub.topics if t != key))
                await state.upsert_channel_subscription(sub)
                digests.append(sub)
        return TopicRemoval(tuple(digests), followers)

    async def close(self) -> None:
        try:
            await self.papers.close()
        finally:
            await self.discord_state.close()


async def open_console_storage(db: str | None, folder: Path) -> Storage:
    """A throwaway database in `folder`; with `db`, that database's papers beside it."""
    sandbox = await open_storage(folder / "console.db")
    if db is None:
        return sandbox
    try:
        papers = await open_storage(db)
    except BaseException:
        await sandbox.close()
        raise
    return cast(Storage, SplitStorage(papers, sandbox))
