"""SQLite's own part of DeliveryStorage: what needs a transaction of several statements
or SQLite's own SQL (the rest is storage/common.py). Mixed into SqliteStorage, which
provides `write()`, `_rows()`, `_query()` and `_change()`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import aiosqlite

from bot.core.models import TopicHit
from bot.core.outcomes import DeliveryStatus
from bot.core.subscriptions import ChannelSubscription, DeliveryRecord, Follow, TopicRemoval
from storage.common import CommonDelivery, held_by_other
from storage.rows import RECORD_COLUMNS, SUB_COLUMNS, delivery_record, stamp
from storage.rows import channel_subscription as _sub


class SqliteDeliveryStore(CommonDelivery):
    if TYPE_CHECKING:  # provided by SqliteStorage

        def write(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...

        async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    # -- channel digests ---------------------------------------------------------------
    async def record_channel_failure(
        self, channel_id: int, error: str, pause_after: int
    ) -> ChannelSubscription | None:
        async with self.write() as conn:
            await conn.execute(
                "UPDATE channel_subscriptions SET failures = failures + 1, last_error = ?,"
                " paused = CASE WHEN failures + 1 >= ? THEN 1 ELSE paused END"
                " WHERE channel_id = ?",
                (error[:300], pause_after, channel_id),
            )
        return await self.channel_subscription(channel_id)

    # -- members ---------------------------------------------------------------------------
    async def add_follow(self, user_id: int, follow: Follow) -> bool:
        async with self.write() as conn:
            cur = await conn.execute(
                "INSERT OR IGNORE INTO user_follows (user_id, kind, value, guild_id, label)"
                " VALUES (?, ?, ?, ?, ?)",
                (user_id, follow.kind, follow.value, follow.guild_id, follow.label),
            )
            await conn.execute(
                "INSERT OR IGNORE INTO user_delivery (user_id) VALUES (?)", (user_id,)
            )
            return cur.rowcount > 0

    # -- guild topics ------------------------------------------------------------------------
    async def delete_guild_topic(self, guild_id: int, slug: str) -> TopicRemoval | None:
        key = f"{guild_id}:{slug}"
        # BEGIN IMMEDIATE (in write()) holds the write lock from these reads to the
        # deletes: the followers returned are exactly the follows removed.
        async with self.write() as conn:
            cur = await conn.execute(
                "DELETE FROM guild_topics WHERE guild_id = ? AND slug = ?", (guild_id, slug)
            )
            if cur.rowcount == 0:
                return None
            await conn.execute("DELETE FROM paper_topics WHERE topic = ?", (key,))
            follow_where = "FROM user_follows WHERE kind = 'topic' AND value = ? AND guild_id = ?"
            async with conn.execute(
                f"SELECT user_id {follow_where} ORDER BY user_id", (slug, guild_id)
            ) as found:
                followers = tuple(row[0] for row in await found.fetchall())
            await conn.execute(f"DELETE {follow_where}", (slug, guild_id))
            async with conn.execute(
                f"SELECT {SUB_COLUMNS} FROM channel_subscriptions WHERE guild_id = ?"
                " ORDER BY channel_id",
                (guild_id,),
            ) as found:
                subs = [_sub(row) for row in await found.fetchall()]
            digests = []
            for sub in subs:
                if key in sub.topics:
                    sub = dataclasses.replace(sub, topics=tuple(t for t in sub.topics if t != key))
                    await conn.execute(
                        "UPDATE channel_subscriptions SET topics = ? WHERE channel_id = ?",
                        (json.dumps(list(sub.topics)), sub.channel_id),
                    )
                    digests.append(sub)
        return TopicRemoval(tuple(digests), followers)

    async def replace_topic_assignments(
        self, topic_key: str, hits: Sequence[tuple[int, TopicHit]]
    ) -> None:
        async with self.write() as conn:
            await conn.execute("DELETE FROM paper_topics WHERE topic = ?", (topic_key,))
            await conn.executemany(
                "INSERT OR REPLACE INTO paper_topics VALUES (?, ?, ?, ?)",
                [(pid, topic_key, hit.score, json.dumps(list(hit.why))) for pid, hit in hits],
            )

    # -- the delivery ledger -------------------------------------------------------------------
    async def claim_delivery(
        self,
        target: str,
        day: dt.date,
        *,
        owner: str | None = None,
        lease: dt.timedelta | None = None,
    ) -> DeliveryRecord:
        if owner is None or lease is None:
            return await self._claim_unleased(target, day)
        now = dt.datetime.now(dt.UTC)
        claimed_at = stamp(now)
        # Microseconds, not whole seconds: a lease cut down to the second could end up to
        # 1 s before the moment the claimer was promised (PostgreSQL keeps microseconds).
        until = (now + lease).isoformat(timespec="microseconds")
        # BEGIN IMMEDIATE (in write()) holds SQLite's single write lock from the read to
        # the write, so two processes on one file can never both take the same row.
        async with self.write() as conn:
            async with conn.execute(
                f"SELECT {RECORD_COLUMNS} FROM deliveries WHERE target = ? AND day = ?",
                (target, day.isoformat()),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                await conn.execute(
                    "INSERT INTO deliveries (target, day, status, attempts, updated_at, owner,"
                    " lease_until) VALUES (?, ?, 'sending', 1, ?, ?, ?)",
                    (target, day.isoformat(), claimed_at, owner, until),
                )
                return DeliveryRecord(
                    target,
                    day,
                    DeliveryStatus.SENDING,
                    None,
                    1,
                    None,
                    owner,
                    dt.datetime.fromisoformat(until),
                )
            current = delivery_record(row)
            if current.status.done:
                return current
            if held_by_other(current, owner, now):
                # Someone else is sending it right now: leave their claim alone.
                return dataclasses.replace(current, status=DeliveryStatus.HELD)
            # Ours again (a retry), failed, unleased, or a lapsed lease of a dead owner:
            # take it, counting the attempt so the taker reconciles before sending.
            await conn.execute(
                "UPDATE deliveries SET status = 'sending', attempts = attempts + 1,"
                " updated_at = ?, owner = ?, lease_until = ? WHERE target = ? AND day = ?",
                (claimed_at, owner, until, target, day.isoformat()),
            )
        return dataclasses.replace(
            current,
            status=DeliveryStatus.SENDING,
            attempts=current.attempts + 1,
            owner=owner,
            lease_until=dt.datetime.fromisoformat(until),
        )

    async def _claim_unleased(self, target: str, day: dt.date) -> DeliveryRecord:
        # One process: a 'sending' row is always taken over (it can only be our own
        # interrupted attempt). Any lease left from a sharded run is dropped with it.
        async with self.write() as conn:
            await conn.execute(
                "INSERT INTO deliveries (target, day, status, attempts, updated_at)"
                " VALUES (?, ?, 'sending', 1, ?) ON CONFLICT (target, day) DO UPDATE SET"
                " attempts = attempts + 1, updated_at = excluded.updated_at,"
                " status = CASE WHEN status = 'failed' THEN 'sending' ELSE status END,"
                " owner = NULL, lease_until = NULL"
                " WHERE status IN ('sending', 'failed')",
                (target, day.isoformat(), stamp()),
            )
            async with conn.execute(
                f"SELECT {RECORD_COLUMNS} FROM deliveries WHERE target = ? AND day = ?",
                (target, day.isoformat()),
            ) as cur:
                row = await cur.fetchone()
        assert row is not None
        return delivery_record(row)
