"""PostgreSQL's own part of DeliveryStorage: what needs a transaction of several
statements, RETURNING or row locks, such as the leased delivery claim (the rest is
storage/common.py). Mixed into PostgresStorage, which provides `write()`, `_rows()`,
`_query()`, `_change()` and `_pool`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from bot.core.models import TopicHit
from bot.core.outcomes import DeliveryStatus
from bot.core.subscriptions import ChannelSubscription, DeliveryRecord, Follow, TopicRemoval
from storage.common import CommonDelivery, held_by_other
from storage.postgres.sql import rows_changed
from storage.rows import RECORD_COLUMNS, SUB_COLUMNS, delivery_record, stamp
from storage.rows import channel_subscription as _sub


def _lease_end(now: dt.datetime, lease: dt.timedelta) -> str:
    # Stamps keep whole seconds; round up so a lease never runs shorter than asked.
    end = now + lease
    if end.microsecond:
        end = end.replace(microsecond=0) + dt.timedelta(seconds=1)
    return stamp(end)


class PostgresDeliveryStore(CommonDelivery):
    _pool: asyncpg.Pool

    async def _rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        raise NotImplementedError  # provided by PostgresStorage

    if TYPE_CHECKING:  # provided by PostgresStorage

        def write(
            self, *, papers: bool = False
        ) -> AbstractAsyncContextManager[PoolConnectionProxy]: ...

    # -- channel digests ---------------------------------------------------------------
    async def record_channel_failure(
        self, channel_id: int, error: str, pause_after: int
    ) -> ChannelSubscription | None:
        rows = await self._rows(
            "UPDATE channel_subscriptions SET failures = failures + 1, last_error = $1,"
            " paused = CASE WHEN failures + 1 >= $2 THEN 1 ELSE paused END"
            f" WHERE channel_id = $3 RETURNING {SUB_COLUMNS}",
            error[:300],
            pause_after,
            channel_id,
        )
        return _sub(rows[0]) if rows else None

    # -- members ---------------------------------------------------------------------------
    async def add_follow(self, user_id: int, follow: Follow) -> bool:
        async with self.write() as conn:
            status = await conn.execute(
                "INSERT INTO user_follows (user_id, kind, value, guild_id, label)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                user_id,
                follow.kind,
                follow.value,
                follow.guild_id,
                follow.label,
            )
            await conn.execute(
                "INSERT INTO user_delivery (user_id) VALUES ($1) ON CONFLICT DO NOTHING", user_id
            )
            return rows_changed(status) > 0

    # -- guild topics ------------------------------------------------------------------------
    async def delete_guild_topic(self, guild_id: int, slug: str) -> TopicRemoval | None:
        key = f"{guild_id}:{slug}"
        async with self.write(papers=True) as conn:
            # The row lock this DELETE takes makes a concurrent removal of the same topic
            # wait, then find nothing: followers are reported (and told) once.
            status = await conn.execute(
                "DELETE FROM guild_topics WHERE guild_id = $1 AND slug = $2", guild_id, slug
            )
            if not rows_changed(status):
                return None
            await conn.execute("DELETE FROM paper_topics WHERE topic = $1", key)
            followers = await conn.fetch(
                "DELETE FROM user_follows WHERE kind = 'topic' AND value = $1 AND guild_id = $2"
                " RETURNING user_id",
                slug,
                guild_id,
            )
            # FOR UPDATE: a digest re-subscribed meanwhile is not overwritten with stale
            # settings; this waits for it and filters its committed topics.
            subs = await conn.fetch(
                f"SELECT {SUB_COLUMNS} FROM channel_subscriptions WHERE guild_id = $1"
                " ORDER BY channel_id FOR UPDATE",
                guild_id,
            )
            digests = []
            for row in subs:
                sub = _sub(tuple(row))
                if key in sub.topics:
                    sub = dataclasses.replace(sub, topics=tuple(t for t in sub.topics if t != key))
                    await conn.execute(
                        "UPDATE channel_subscriptions SET topics = $1 WHERE channel_id = $2",
                        json.dumps(list(sub.topics)),
                        sub.channel_id,
                    )
                    digests.append(sub)
        return TopicRemoval(tuple(digests), tuple(sorted(r[0] for r in followers)))

    async def replace_topic_assignments(
        self, topic_key: str, hits: Sequence[tuple[int, TopicHit]]
    ) -> None:
        async with self.write(papers=True) as conn:
            await conn.execute("DELETE FROM paper_topics WHERE topic = $1", topic_key)
            if hits:
                await conn.executemany(
                    "INSERT INTO paper_topics VALUES ($1, $2, $3, $4) ON CONFLICT"
                    " (paper_id, topic) DO UPDATE SET score = excluded.score, why = excluded.why",
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
        """See DeliveryStorage.claim_delivery. The row is created, or locked and then
        decided on in Python, inside one transaction."""
        if owner is None or lease is None:  # one process: unleased, as on SQLite
            owner, lease = None, None
        now = dt.datetime.now(dt.UTC)
        until = _lease_end(now, lease) if lease is not None else None
        key = (target, day.isoformat())
        async with self.write() as conn:
            created = await conn.fetchrow(
                "INSERT INTO deliveries (target, day, status, attempts, updated_at, owner,"
                " lease_until) VALUES ($1, $2, 'sending', 1, $3, $4, $5)"
                f" ON CONFLICT (target, day) DO NOTHING RETURNING {RECORD_COLUMNS}",
                *key,
                stamp(now),
                owner,
                until,
            )
            if created is not None:
                return delivery_record(created)
            # Leased claims do not wait: a row another claimer has locked right now is
            # theirs (it is being claimed or finished), so report it held.
            skip = " SKIP LOCKED" if owner is not None else ""
            row = await conn.fetchrow(
                f"SELECT {RECORD_COLUMNS} FROM deliveries WHERE target = $1 AND day = $2"
                f" FOR UPDATE{skip}",
                *key,
            )
            if row is None:
                row = await conn.fetchrow(
                    f"SELECT {RECORD_COLUMNS} FROM deliveries WHERE target = $1 AND day = $2",
                    *key,
                )
                assert row is not None, "the insert above met it, and no delivery is deleted"
                return delivery_record(row, status=DeliveryStatus.HELD)
            current = delivery_record(row)
            if current.status.done:
                return current
            if held_by_other(current, owner, now):
                return delivery_record(row, status=DeliveryStatus.HELD)
            taken = await conn.fetchrow(
                "UPDATE deliveries SET status = 'sending', attempts = attempts + 1,"
                " updated_at = $3, owner = $4, lease_until = $5"
                f" WHERE target = $1 AND day = $2 RETURNING {RECORD_COLUMNS}",
                *key,
                stamp(now),
                owner,
                until,
            )
            assert taken is not None, "the row is locked by this transaction"
            return delivery_record(taken)
