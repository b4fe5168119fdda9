"""SQLite implementation of DeliveryStorage: subscriptions, follows, guild topics and
the delivery ledger. Mixed into SqliteStorage, which provides `write()` and `_rows()`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import AsyncIterator, Sequence

from bot.core.models import Topic, TopicHit
from bot.core.subscriptions import (
    ChannelSubscription,
    DeliveryRecord,
    Follow,
    TopicRemoval,
    UserDelivery,
)
from storage.base import DeliveryStorage
from storage.rows import channel_subscription as _sub
from storage.rows import user_delivery as _user

_SUB_COLUMNS = (
    "channel_id, guild_id, post_time, timezone, topics, max_items, paused, failures,"
    " last_error, created_by, last_run_day"
)
_USER_COLUMNS = "user_id, post_time, timezone, dm_closed, dm_closed_told, last_run_day"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _held_by_other(record: DeliveryRecord, owner: str, now: dt.datetime) -> bool:
    """A 'sending' row under another owner's unexpired lease."""
    return (
        record.status == "sending"
        and record.owner is not None
        and record.owner != owner
        and record.lease_until is not None
        and record.lease_until > now
    )


_RECORD_COLUMNS = "target, day, status, message_id, attempts, detail, owner, lease_until"


def _record(row: tuple) -> DeliveryRecord:
    target, day, status, message_id, attempts, detail, owner, lease_until = row
    return DeliveryRecord(
        target,
        dt.date.fromisoformat(day),
        status,
        message_id,
        attempts,
        detail,
        owner,
        dt.datetime.fromisoformat(lease_until) if lease_until else None,
    )


class SqliteDeliveryStore(DeliveryStorage):
    # -- channel digests ---------------------------------------------------------------
    async def upsert_channel_subscription(self, sub: ChannelSubscription) -> None:
        async with self.write() as conn:
            await conn.execute(
                "INSERT INTO channel_subscriptions (channel_id, guild_id, post_time, timezone,"
                " topics, max_items, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (channel_id) DO UPDATE SET guild_id = excluded.guild_id,"
                " post_time = excluded.post_time, timezone = excluded.timezone,"
                " topics = excluded.topics, max_items = excluded.max_items,"
                " paused = 0, failures = 0, last_error = NULL",
                (
                    sub.channel_id,
                    sub.guild_id,
                    sub.post_time,
                    sub.timezone,
                    json.dumps(list(sub.topics)),
                    sub.max_items,
                    sub.created_by,
                    _now(),
                ),
            )

    async def delete_channel_subscription(self, guild_id: int, channel_id: int) -> bool:
        async with self.write() as conn:
            cur = await conn.execute(
                "DELETE FROM channel_subscriptions WHERE guild_id = ? AND channel_id = ?",
                (guild_id, channel_id),
            )
            return cur.rowcount > 0

    async def channel_subscriptions(self, guild_id: int | None = None) -> list[ChannelSubscription]:
        if guild_id is None:
            rows = await self._rows(
                f"SELECT {_SUB_COLUMNS} FROM channel_subscriptions ORDER BY channel_id"
            )
        else:
            rows = await self._rows(
                f"SELECT {_SUB_COLUMNS} FROM channel_subscriptions WHERE guild_id = ?"
                " ORDER BY channel_id",
                (guild_id,),
            )
        return [_sub(r) for r in rows]

    async def channel_subscription(self, channel_id: int) -> ChannelSubscription | None:
        rows = await self._rows(
            f"SELECT {_SUB_COLUMNS} FROM channel_subscriptions WHERE channel_id = ?",
            (channel_id,),
        )
        return _sub(rows[0]) if rows else None

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

    async def record_channel_success(self, channel_id: int) -> None:
        async with self.write() as conn:
            await conn.execute(
                "UPDATE channel_subscriptions SET failures = 0, last_error = NULL"
                " WHERE channel_id = ? AND (failures != 0 OR last_error IS NOT NULL)",
                (channel_id,),
            )

    async def set_channel_paused(self, channel_id: int, paused: bool) -> None:
        async with self.write() as conn:
            if paused:
                await conn.execute(
                    "UPDATE channel_subscriptions SET paused = 1 WHERE channel_id = ?",
                    (channel_id,),
                )
            else:
                await conn.execute(
                    "UPDATE channel_subscriptions SET paused = 0, failures = 0,"
                    " last_error = NULL WHERE channel_id = ?",
                    (channel_id,),
                )

    # -- members ---------------------------------------------------------------------------
    async def add_follow(self, user_id: int, follow: Follow) -> bool:
        async with self.write() as conn:
            cur = await conn.execute(
                "INSERT OR IGNORE INTO user_follows VALUES (?, ?, ?, ?)",
                (user_id, follow.kind, follow.value, follow.guild_id),
            )
            await conn.execute(
                "INSERT OR IGNORE INTO user_delivery (user_id) VALUES (?)", (user_id,)
            )
            return cur.rowcount > 0

    async def remove_follow(self, user_id: int, kind: str, value: str, guild_id: int = 0) -> bool:
        async with self.write() as conn:
            cur = await conn.execute(
                "DELETE FROM user_follows WHERE user_id = ? AND kind = ? AND value = ?"
                " AND guild_id = ?",
                (user_id, kind, value, guild_id),
            )
            return cur.rowcount > 0

    async def _follows(self, user_ids: Sequence[int] | None) -> dict[int, list[Follow]]:
        sql = "SELECT user_id, kind, value, guild_id FROM user_follows"
        params: tuple = ()
        if user_ids is not None:
            sql += f" WHERE user_id IN ({','.join('?' * len(user_ids))})"
            params = tuple(user_ids)
        found: dict[int, list[Follow]] = {}
        for uid, kind, value, gid in await self._rows(sql + " ORDER BY kind, value", params):
            found.setdefault(uid, []).append(Follow(kind, value, gid))
        return found

    async def user_delivery(self, user_id: int) -> UserDelivery | None:
        rows = await self._rows(
            f"SELECT {_USER_COLUMNS} FROM user_delivery WHERE user_id = ?", (user_id,)
        )
        if not rows:
            return None
        return _user(rows[0], (await self._follows([user_id])).get(user_id, []))

    async def user_deliveries(self) -> list[UserDelivery]:
        follows = await self._follows(None)
        rows = await self._rows(f"SELECT {_USER_COLUMNS} FROM user_delivery ORDER BY user_id")
        return [_user(row, follows[row[0]]) for row in rows if row[0] in follows]

    async def set_last_run(self, target: str, day: dt.date) -> None:
        kind, _, ident = target.partition(":")
        table, column = {
            "channel": ("channel_subscriptions", "channel_id"),
            "user": ("user_delivery", "user_id"),
        }[kind]
        async with self.write() as conn:
            await conn.execute(
                f"UPDATE {table} SET last_run_day = ? WHERE {column} = ?",
                (day.isoformat(), int(ident)),
            )

    async def set_user_delivery(self, user_id: int, post_time: str, timezone: str) -> None:
        async with self.write() as conn:
            await conn.execute(
                "INSERT INTO user_delivery (user_id, post_time, timezone) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET post_time = excluded.post_time,"
                " timezone = excluded.timezone, dm_closed = 0, dm_closed_told = 0",
                (user_id, post_time, timezone),
            )

    async def set_dm_closed(self, user_id: int, closed: bool, told: bool = False) -> None:
        async with self.write() as conn:
            await conn.execute(
                "INSERT INTO user_delivery (user_id, dm_closed, dm_closed_told) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET dm_closed = excluded.dm_closed,"
                " dm_closed_told = excluded.dm_closed_told",
                (user_id, int(closed), int(told)),
            )

    # -- guild topics ------------------------------------------------------------------------
    async def upsert_guild_topic(self, topic: Topic) -> None:
        async with self.write() as conn:
            await conn.execute(
                "INSERT INTO guild_topics VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, slug)"
                " DO UPDATE SET name = excluded.name, keywords = excluded.keywords,"
                " phrases = excluded.phrases",
                (
                    topic.guild_id,
                    topic.slug,
                    topic.name,
                    json.dumps(list(topic.keywords)),
                    json.dumps(list(topic.phrases)),
                ),
            )

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
                f"SELECT {_SUB_COLUMNS} FROM channel_subscriptions WHERE guild_id = ?"
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

    async def topic_followers(self, guild_id: int, slug: str) -> list[int]:
        rows = await self._rows(
            "SELECT user_id FROM user_follows WHERE kind = 'topic' AND value = ? AND guild_id = ?"
            " ORDER BY user_id",
            (slug, guild_id),
        )
        return [row[0] for row in rows]

    async def guild_topics(self, guild_id: int | None = None) -> list[Topic]:
        sql = "SELECT guild_id, slug, name, keywords, phrases FROM guild_topics"
        params: tuple = ()
        if guild_id is not None:
            sql, params = sql + " WHERE guild_id = ?", (guild_id,)
        return [
            Topic(slug, name, tuple(json.loads(kw)), tuple(json.loads(ph)), gid)
            for gid, slug, name, kw, ph in await self._rows(
                sql + " ORDER BY guild_id, slug", params
            )
        ]

    async def replace_topic_assignments(
        self, topic_key: str, hits: Sequence[tuple[int, TopicHit]]
    ) -> None:
        async with self.write() as conn:
            await conn.execute("DELETE FROM paper_topics WHERE topic = ?", (topic_key,))
            await conn.executemany(
                "INSERT OR REPLACE INTO paper_topics VALUES (?, ?, ?, ?)",
                [(pid, topic_key, hit.score, json.dumps(list(hit.why))) for pid, hit in hits],
            )

    async def paper_texts(self, batch: int = 1000) -> AsyncIterator[list[tuple[int, str, str]]]:
        last = 0
        while True:
            rows = await self._rows(
                "SELECT id, title, abstract FROM papers WHERE id > ? ORDER BY id LIMIT ?",
                (last, batch),
            )
            if not rows:
                return
            yield [(r[0], r[1], r[2]) for r in rows]
            last = rows[-1][0]

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
        stamp = now.isoformat(timespec="seconds")
        # Microseconds, not whole seconds: a lease cut down to the second could end up to
        # 1 s before the moment the claimer was promised (PostgreSQL keeps microseconds).
        until = (now + lease).isoformat(timespec="microseconds")
        # BEGIN IMMEDIATE (in write()) holds SQLite's single write lock from the read to
        # the write, so two processes on one file can never both take the same row.
        async with self.write() as conn:
            async with conn.execute(
                f"SELECT {_RECORD_COLUMNS} FROM deliveries WHERE target = ? AND day = ?",
                (target, day.isoformat()),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                await conn.execute(
                    "INSERT INTO deliveries (target, day, status, attempts, updated_at, owner,"
                    " lease_until) VALUES (?, ?, 'sending', 1, ?, ?, ?)",
                    (target, day.isoformat(), stamp, owner, until),
                )
                return DeliveryRecord(
                    target, day, "sending", None, 1, None, owner, dt.datetime.fromisoformat(until)
                )
            current = _record(row)
            if current.status in ("sent", "empty"):
                return current
            if _held_by_other(current, owner, now):
                # Someone else is sending it right now: leave their claim alone.
                return dataclasses.replace(current, status="held")
            # Ours again (a retry), failed, unleased, or a lapsed lease of a dead owner:
            # take it, counting the attempt so the taker reconciles before sending.
            await conn.execute(
                "UPDATE deliveries SET status = 'sending', attempts = attempts + 1,"
                " updated_at = ?, owner = ?, lease_until = ? WHERE target = ? AND day = ?",
                (stamp, owner, until, target, day.isoformat()),
            )
        return dataclasses.replace(
            current,
            status="sending",
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
                (target, day.isoformat(), _now()),
            )
            async with conn.execute(
                f"SELECT {_RECORD_COLUMNS} FROM deliveries WHERE target = ? AND day = ?",
                (target, day.isoformat()),
            ) as cur:
                row = await cur.fetchone()
        assert row is not None
        return _record(row)

    async def finish_delivery(
        self,
        target: str,
        day: dt.date,
        status: str,
        message_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        # 'sent' and 'empty' are final: a late finish from a racing attempt (another
        # process, or one that outlived its claim) must not turn a delivered day back
        # into 'failed', which the next claim would retry and post a second time.
        async with self.write() as conn:
            await conn.execute(
                "UPDATE deliveries SET status = ?, message_id = ?, detail = ?, updated_at = ?"
                " WHERE target = ? AND day = ? AND status NOT IN ('sent', 'empty')",
                (status, message_id, detail, _now(), target, day.isoformat()),
            )

    async def delivery(self, target: str, day: dt.date) -> DeliveryRecord | None:
        rows = await self._rows(
            f"SELECT {_RECORD_COLUMNS} FROM deliveries WHERE target = ? AND day = ?",
            (target, day.isoformat()),
        )
        return _record(rows[0]) if rows else None

    async def last_delivered_day(self, target: str) -> dt.date | None:
        rows = await self._rows(
            "SELECT MAX(day) FROM deliveries WHERE target = ? AND status IN ('sent', 'empty')",
            (target,),
        )
        return dt.date.fromisoformat(rows[0][0]) if rows and rows[0][0] else None

    async def deliveries_in_state(self, status: str) -> list[DeliveryRecord]:
        rows = await self._rows(
            f"SELECT {_RECORD_COLUMNS} FROM deliveries WHERE status = ? ORDER BY target, day",
            (status,),
        )
        return [_record(r) for r in rows]

    # -- small settings ----------------------------------------------------------------------
    async def get_meta(self, key: str) -> str | None:
        rows = await self._rows("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    async def set_meta(self, key: str, value: str) -> None:
        async with self.write() as conn:
            await conn.execute(
                "INSERT INTO meta VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
