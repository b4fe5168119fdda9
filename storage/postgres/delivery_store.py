"""PostgreSQL implementation of DeliveryStorage: subscriptions, follows, guild topics and
the leased delivery ledger. Mixed into PostgresStorage, which provides `write()`,
`_rows()` and `_pool`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import AsyncIterator, Sequence

import asyncpg

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
from storage.rows import day_or_none as _day
from storage.rows import user_delivery as _user

_SUB_COLUMNS = (
    "channel_id, guild_id, post_time, timezone, topics, max_items, paused, failures,"
    " last_error, created_by, last_run_day"
)
_USER_COLUMNS = "user_id, post_time, timezone, dm_closed, dm_closed_told, last_run_day"
_RECORD_COLUMNS = "target, day, status, message_id, attempts, detail, owner, lease_until"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    """The ISO form the SQLite backend writes (seconds, +00:00)."""
    return moment.isoformat(timespec="seconds")


def _lease_end(now: dt.datetime, lease: dt.timedelta) -> str:
    # Stamps keep whole seconds; round up so a lease never runs shorter than asked.
    end = now + lease
    if end.microsecond:
        end = end.replace(microsecond=0) + dt.timedelta(seconds=1)
    return _stamp(end)


def _moment(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _record(row: tuple | asyncpg.Record, status: str | None = None) -> DeliveryRecord:
    target, day, stored_status, message_id, attempts, detail, owner, lease_until = row
    return DeliveryRecord(
        target,
        dt.date.fromisoformat(day),
        status or stored_status,
        message_id,
        attempts,
        detail,
        owner,
        _moment(lease_until),
    )


def _deleted(status: str) -> bool:
    """asyncpg's command tag, e.g. 'DELETE 1' / 'INSERT 0 1': did it touch a row?"""
    return not status.endswith(" 0")


class PostgresDeliveryStore(DeliveryStorage):
    _pool: asyncpg.Pool

    async def _rows(self, sql: str, *params: object) -> list[tuple]:
        raise NotImplementedError  # provided by PostgresStorage

    # -- channel digests ---------------------------------------------------------------
    async def upsert_channel_subscription(self, sub: ChannelSubscription) -> None:
        await self._pool.execute(
            "INSERT INTO channel_subscriptions (channel_id, guild_id, post_time, timezone,"
            " topics, max_items, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (channel_id) DO UPDATE SET guild_id = excluded.guild_id,"
            " post_time = excluded.post_time, timezone = excluded.timezone,"
            " topics = excluded.topics, max_items = excluded.max_items,"
            " paused = 0, failures = 0, last_error = NULL",
            sub.channel_id,
            sub.guild_id,
            sub.post_time,
            sub.timezone,
            json.dumps(list(sub.topics)),
            sub.max_items,
            sub.created_by,
            _stamp(_now()),
        )

    async def delete_channel_subscription(self, guild_id: int, channel_id: int) -> bool:
        status = await self._pool.execute(
            "DELETE FROM channel_subscriptions WHERE guild_id = $1 AND channel_id = $2",
            guild_id,
            channel_id,
        )
        return _deleted(status)

    async def channel_subscriptions(self, guild_id: int | None = None) -> list[ChannelSubscription]:
        rows = await self._rows(
            f"SELECT {_SUB_COLUMNS} FROM channel_subscriptions"
            " WHERE $1::bigint IS NULL OR guild_id = $1 ORDER BY channel_id",
            guild_id,
        )
        return [_sub(r) for r in rows]

    async def channel_subscription(self, channel_id: int) -> ChannelSubscription | None:
        rows = await self._rows(
            f"SELECT {_SUB_COLUMNS} FROM channel_subscriptions WHERE channel_id = $1",
            channel_id,
        )
        return _sub(rows[0]) if rows else None

    async def record_channel_failure(
        self, channel_id: int, error: str, pause_after: int
    ) -> ChannelSubscription | None:
        rows = await self._rows(
            "UPDATE channel_subscriptions SET failures = failures + 1, last_error = $1,"
            " paused = CASE WHEN failures + 1 >= $2 THEN 1 ELSE paused END"
            f" WHERE channel_id = $3 RETURNING {_SUB_COLUMNS}",
            error[:300],
            pause_after,
            channel_id,
        )
        return _sub(rows[0]) if rows else None

    async def record_channel_success(self, channel_id: int) -> None:
        await self._pool.execute(
            "UPDATE channel_subscriptions SET failures = 0, last_error = NULL"
            " WHERE channel_id = $1 AND (failures != 0 OR last_error IS NOT NULL)",
            channel_id,
        )

    async def set_channel_paused(self, channel_id: int, paused: bool) -> None:
        if paused:
            await self._pool.execute(
                "UPDATE channel_subscriptions SET paused = 1 WHERE channel_id = $1", channel_id
            )
        else:
            await self._pool.execute(
                "UPDATE channel_subscriptions SET paused = 0, failures = 0, last_error = NULL"
                " WHERE channel_id = $1",
                channel_id,
            )

    # -- members ---------------------------------------------------------------------------
    async def add_follow(self, user_id: int, follow: Follow) -> bool:
        async with self.write() as conn:  # type: ignore[attr-defined]
            status = await conn.execute(
                "INSERT INTO user_follows VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                user_id,
                follow.kind,
                follow.value,
                follow.guild_id,
            )
            await conn.execute(
                "INSERT INTO user_delivery (user_id) VALUES ($1) ON CONFLICT DO NOTHING", user_id
            )
            return _deleted(status)

    async def remove_follow(self, user_id: int, kind: str, value: str, guild_id: int = 0) -> bool:
        status = await self._pool.execute(
            "DELETE FROM user_follows WHERE user_id = $1 AND kind = $2 AND value = $3"
            " AND guild_id = $4",
            user_id,
            kind,
            value,
            guild_id,
        )
        return _deleted(status)

    async def _follows(self, user_ids: Sequence[int] | None) -> dict[int, list[Follow]]:
        found: dict[int, list[Follow]] = {}
        for uid, kind, value, gid in await self._rows(
            "SELECT user_id, kind, value, guild_id FROM user_follows"
            " WHERE $1::bigint[] IS NULL OR user_id = ANY($1) ORDER BY kind, value, guild_id",
            None if user_ids is None else list(user_ids),
        ):
            found.setdefault(uid, []).append(Follow(kind, value, gid))
        return found

    async def user_delivery(self, user_id: int) -> UserDelivery | None:
        rows = await self._rows(
            f"SELECT {_USER_COLUMNS} FROM user_delivery WHERE user_id = $1", user_id
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
        # Table and column come from this fixed map, never from the caller's text.
        table, column = {
            "channel": ("channel_subscriptions", "channel_id"),
            "user": ("user_delivery", "user_id"),
        }[kind]
        await self._pool.execute(
            f"UPDATE {table} SET last_run_day = $1 WHERE {column} = $2",
            day.isoformat(),
            int(ident),
        )

    async def set_user_delivery(self, user_id: int, post_time: str, timezone: str) -> None:
        await self._pool.execute(
            "INSERT INTO user_delivery (user_id, post_time, timezone) VALUES ($1, $2, $3)"
            " ON CONFLICT (user_id) DO UPDATE SET post_time = excluded.post_time,"
            " timezone = excluded.timezone, dm_closed = 0, dm_closed_told = 0",
            user_id,
            post_time,
            timezone,
        )

    async def set_dm_closed(self, user_id: int, closed: bool, told: bool = False) -> None:
        await self._pool.execute(
            "INSERT INTO user_delivery (user_id, dm_closed, dm_closed_told) VALUES ($1, $2, $3)"
            " ON CONFLICT (user_id) DO UPDATE SET dm_closed = excluded.dm_closed,"
            " dm_closed_told = excluded.dm_closed_told",
            user_id,
            int(closed),
            int(told),
        )

    # -- guild topics ------------------------------------------------------------------------
    async def upsert_guild_topic(self, topic: Topic) -> None:
        await self._pool.execute(
            "INSERT INTO guild_topics VALUES ($1, $2, $3, $4, $5) ON CONFLICT (guild_id, slug)"
            " DO UPDATE SET name = excluded.name, keywords = excluded.keywords,"
            " phrases = excluded.phrases",
            topic.guild_id,
            topic.slug,
            topic.name,
            json.dumps(list(topic.keywords)),
            json.dumps(list(topic.phrases)),
        )

    async def delete_guild_topic(self, guild_id: int, slug: str) -> TopicRemoval | None:
        key = f"{guild_id}:{slug}"
        async with self.write(papers=True) as conn:  # type: ignore[attr-defined]
            # The row lock this DELETE takes makes a concurrent removal of the same topic
            # wait, then find nothing: followers are reported (and told) once.
            status = await conn.execute(
                "DELETE FROM guild_topics WHERE guild_id = $1 AND slug = $2", guild_id, slug
            )
            if not _deleted(status):
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
                f"SELECT {_SUB_COLUMNS} FROM channel_subscriptions WHERE guild_id = $1"
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

    async def topic_followers(self, guild_id: int, slug: str) -> list[int]:
        rows = await self._rows(
            "SELECT user_id FROM user_follows WHERE kind = 'topic' AND value = $1"
            " AND guild_id = $2 ORDER BY user_id",
            slug,
            guild_id,
        )
        return [row[0] for row in rows]

    async def guild_topics(self, guild_id: int | None = None) -> list[Topic]:
        return [
            Topic(slug, name, tuple(json.loads(kw)), tuple(json.loads(ph)), gid)
            for gid, slug, name, kw, ph in await self._rows(
                "SELECT guild_id, slug, name, keywords, phrases FROM guild_topics"
                " WHERE $1::bigint IS NULL OR guild_id = $1 ORDER BY guild_id, slug",
                guild_id,
            )
        ]

    async def replace_topic_assignments(
        self, topic_key: str, hits: Sequence[tuple[int, TopicHit]]
    ) -> None:
        async with self.write(papers=True) as conn:  # type: ignore[attr-defined]
            await conn.execute("DELETE FROM paper_topics WHERE topic = $1", topic_key)
            if hits:
                await conn.executemany(
                    "INSERT INTO paper_topics VALUES ($1, $2, $3, $4) ON CONFLICT"
                    " (paper_id, topic) DO UPDATE SET score = excluded.score, why = excluded.why",
                    [(pid, topic_key, hit.score, json.dumps(list(hit.why))) for pid, hit in hits],
                )

    async def paper_texts(self, batch: int = 1000) -> AsyncIterator[list[tuple[int, str, str]]]:
        last = 0
        while True:
            rows = await self._rows(
                "SELECT id, title, abstract FROM papers WHERE id > $1 ORDER BY id LIMIT $2",
                last,
                batch,
            )
            if not rows:
                return
            yield rows
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
        """See DeliveryStorage.claim_delivery. The row is created, or locked and then
        decided on in Python, inside one transaction."""
        if owner is None or lease is None:  # one process: unleased, as on SQLite
            owner, lease = None, None
        now = _now()
        until = _lease_end(now, lease) if lease is not None else None
        key = (target, day.isoformat())
        async with self.write() as conn:  # type: ignore[attr-defined]
            created = await conn.fetchrow(
                "INSERT INTO deliveries (target, day, status, attempts, updated_at, owner,"
                " lease_until) VALUES ($1, $2, 'sending', 1, $3, $4, $5)"
                f" ON CONFLICT (target, day) DO NOTHING RETURNING {_RECORD_COLUMNS}",
                *key,
                _stamp(now),
                owner,
                until,
            )
            if created is not None:
                return _record(created)
            # Leased claims do not wait: a row another claimer has locked right now is
            # theirs (it is being claimed or finished), so report it held.
            skip = " SKIP LOCKED" if owner is not None else ""
            row = await conn.fetchrow(
                f"SELECT {_RECORD_COLUMNS} FROM deliveries WHERE target = $1 AND day = $2"
                f" FOR UPDATE{skip}",
                *key,
            )
            if row is None:
                row = await conn.fetchrow(
                    f"SELECT {_RECORD_COLUMNS} FROM deliveries WHERE target = $1 AND day = $2",
                    *key,
                )
                return _record(row, status="held")
            current = _record(row)
            if current.status in ("sent", "empty"):
                return current
            if current.status == "sending" and _held_by_other(current, owner, now):
                return _record(row, status="held")
            taken = await conn.fetchrow(
                "UPDATE deliveries SET status = 'sending', attempts = attempts + 1,"
                " updated_at = $3, owner = $4, lease_until = $5"
                f" WHERE target = $1 AND day = $2 RETURNING {_RECORD_COLUMNS}",
                *key,
                _stamp(now),
                owner,
                until,
            )
            return _record(taken)

    async def finish_delivery(
        self,
        target: str,
        day: dt.date,
        status: str,
        message_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        # 'sent' and 'empty' are final: a late finish from a racing attempt must not turn
        # a delivered day back into something the next claim would send again.
        await self._pool.execute(
            "UPDATE deliveries SET status = $1, message_id = $2, detail = $3, updated_at = $4"
            " WHERE target = $5 AND day = $6 AND status NOT IN ('sent', 'empty')",
            status,
            message_id,
            detail,
            _stamp(_now()),
            target,
            day.isoformat(),
        )

    async def delivery(self, target: str, day: dt.date) -> DeliveryRecord | None:
        rows = await self._rows(
            f"SELECT {_RECORD_COLUMNS} FROM deliveries WHERE target = $1 AND day = $2",
            target,
            day.isoformat(),
        )
        return _record(rows[0]) if rows else None

    async def last_delivered_day(self, target: str) -> dt.date | None:
        rows = await self._rows(
            "SELECT MAX(day) FROM deliveries WHERE target = $1 AND status IN ('sent', 'empty')",
            target,
        )
        return _day(rows[0][0]) if rows else None

    async def deliveries_in_state(self, status: str) -> list[DeliveryRecord]:
        rows = await self._rows(
            f"SELECT {_RECORD_COLUMNS} FROM deliveries WHERE status = $1 ORDER BY target, day",
            status,
        )
        return [_record(r) for r in rows]

    # -- small settings ----------------------------------------------------------------------
    async def get_meta(self, key: str) -> str | None:
        return await self._pool.fetchval("SELECT value FROM meta WHERE key = $1", key)

    async def set_meta(self, key: str, value: str) -> None:
        await self._pool.execute(
            "INSERT INTO meta VALUES ($1, $2)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            key,
            value,
        )


def _held_by_other(current: DeliveryRecord, owner: str | None, now: dt.datetime) -> bool:
    """A live lease of someone else. Without an owner (one process) nothing is held."""
    if owner is None or current.owner in (None, owner):
        return False
    return current.lease_until is not None and current.lease_until > now
