"""The storage methods whose SQL is the same on both backends but for placeholders,
written once with `?`.

A backend mixes these classes in and provides two primitives:
- `_query(sql, *params)`: the rows a read returns;
- `_change(sql, *params)`: one write in a transaction of its own; how many rows it
  changed.
SQLite runs the SQL as written; PostgreSQL numbers the placeholders first
(storage/postgres/sql.py). What really differs stays in each backend: text search
(tantivy, tsvector), leased delivery claims (BEGIN IMMEDIATE, SKIP LOCKED), multi-row
writes (executemany, unnest) and multi-statement transactions.
"""

from __future__ import annotations

import abc
import datetime as dt
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.core.authors import AuthorName
from bot.core.feedback import (
    FeedbackSignal,
    ForgetCounts,
    Mute,
    MuteKind,
    PaperFeedback,
    SavedPage,
)
from bot.core.models import IngestReportJson, StorageStats, StoredPaper, StoredStats, Topic
from bot.core.outcomes import DeliveryStatus
from bot.core.subscriptions import (
    ChannelSubscription,
    DeliveryRecord,
    Follow,
    FollowKind,
    UserDelivery,
)
from storage.base import DeliveryStorage, PaperStorage, RelevanceStorage
from storage.ingest_rows import author_rows
from storage.rows import (
    RECORD_COLUMNS,
    SUB_COLUMNS,
    TOPIC_COLUMNS,
    USER_COLUMNS,
    channel_subscription,
    day_or_none,
    delivery_record,
    follows_by_user,
    guild_topic,
    paper_feedback,
    stamp,
    user_delivery,
)

# `set_last_run`'s table and column come from this fixed map, never from the caller's text.
_LAST_RUN = {
    "channel": ("channel_subscriptions", "channel_id"),
    "user": ("user_delivery", "user_id"),
}


def held_by_other(record: DeliveryRecord, owner: str | None, now: dt.datetime) -> bool:
    """A 'sending' row under another owner's unexpired lease. Without an owner (one
    process) nothing is held."""
    return (
        owner is not None
        and record.status == DeliveryStatus.SENDING
        and record.owner not in (None, owner)
        and record.lease_until is not None
        and record.lease_until > now
    )


class SharedSql(abc.ABC):
    @abc.abstractmethod
    async def _query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        """The rows of a read; `?` placeholders."""

    @abc.abstractmethod
    async def _change(self, sql: str, *params: object) -> int:
        """One write in its own transaction; how many rows it changed."""


class CommonPaperReads(SharedSql, PaperStorage):
    """Stored days, their papers and the counts /status and /topics show."""

    async def papers_on_day(self, day: dt.date) -> list[StoredPaper]:
        rows = await self._query(
            "SELECT paper_id FROM appearances WHERE day = ? ORDER BY position, paper_id",
            day.isoformat(),
        )
        return await self.get_papers([r[0] for r in rows], day=day)

    async def day_titles(self, day: dt.date) -> list[tuple[int, str]]:
        rows = await self._query(
            "SELECT a.paper_id, p.title FROM appearances a JOIN papers p ON p.id = a.paper_id"
            " WHERE a.day = ? ORDER BY a.position, a.paper_id",
            day.isoformat(),
        )
        return [(r[0], r[1]) for r in rows]

    async def texts_of(self, ids: Sequence[int]) -> list[tuple[int, str, str]]:
        wanted = list(dict.fromkeys(ids))
        found: dict[int, tuple[int, str, str]] = {}
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ", ".join("?" * len(part))
            rows = await self._query(
                f"SELECT id, title, abstract FROM papers WHERE id IN ({marks})", *part
            )
            found.update((r[0], (r[0], r[1], r[2])) for r in rows)
        return [found[pid] for pid in wanted if pid in found]

    async def days(self, limit: int = 30) -> list[dt.date]:
        rows = await self._query(
            "SELECT DISTINCT day FROM appearances ORDER BY day DESC LIMIT ?", limit
        )
        return [dt.date.fromisoformat(r[0]) for r in rows]

    async def day_counts(self, limit: int = 30) -> list[tuple[dt.date, int]]:
        rows = await self._query(
            "SELECT day, COUNT(*) FROM appearances GROUP BY day ORDER BY day DESC LIMIT ?", limit
        )
        return [(dt.date.fromisoformat(r[0]), int(r[1])) for r in rows]

    async def all_titles(self) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in await self._query("SELECT id, title FROM papers ORDER BY id")]

    async def paper_ids(self) -> list[int]:
        return [r[0] for r in await self._query("SELECT id FROM papers ORDER BY id")]

    async def vocabulary(self) -> dict[str, int]:
        return dict(await self._query("SELECT term, df FROM vocab"))

    async def category_counts(self) -> dict[str, int]:
        rows = await self._query(
            "SELECT category, COUNT(*) FROM paper_categories GROUP BY category"
            " ORDER BY COUNT(*) DESC, category"
        )
        return dict(rows)

    async def topic_counts(self, day: dt.date | None) -> dict[str, int]:
        if day is None:
            rows = await self._query("SELECT topic, COUNT(*) FROM paper_topics GROUP BY topic")
        else:
            rows = await self._query(
                "SELECT t.topic, COUNT(*) FROM paper_topics t JOIN appearances a"
                " ON a.paper_id = t.paper_id WHERE a.day = ? GROUP BY t.topic",
                day.isoformat(),
            )
        return dict(rows)

    async def last_ingests(self, limit: int = 5) -> list[IngestReportJson]:
        rows = await self._query("SELECT report FROM dumps ORDER BY id DESC LIMIT ?", limit)
        return [json.loads(r[0]) for r in rows]

    async def stats(self) -> StorageStats:
        (papers,) = (await self._query("SELECT COUNT(*) FROM papers"))[0]
        days, latest = (await self._query("SELECT COUNT(DISTINCT day), MAX(day) FROM appearances"))[
            0
        ]
        (dumps,) = (await self._query("SELECT COUNT(*) FROM dumps"))[0]
        return {
            "papers": papers,
            "days": days,
            "dumps": dumps,
            "latest_day": latest,
            "topics": await self.topic_counts(None),
            "database": self.shown_name(),
        }

    @abc.abstractmethod
    def shown_name(self) -> str:
        """The database as `stats` names it (never a password)."""


class CommonDelivery(SharedSql, DeliveryStorage):
    """Subscriptions, follows, guild topics, the ledger's reads and finishes, and meta."""

    # -- channel digests ---------------------------------------------------------------
    async def upsert_channel_subscription(self, sub: ChannelSubscription) -> None:
        await self._change(
            "INSERT INTO channel_subscriptions (channel_id, guild_id, post_time, timezone,"
            " topics, max_items, created_by, created_at, source, thread, paper_order)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (channel_id) DO UPDATE SET guild_id = excluded.guild_id,"
            " post_time = excluded.post_time, timezone = excluded.timezone,"
            " topics = excluded.topics, max_items = excluded.max_items,"
            " source = excluded.source, thread = excluded.thread,"
            " paper_order = excluded.paper_order, paused = 0, failures = 0,"
            " last_error = NULL",
            sub.channel_id,
            sub.guild_id,
            sub.post_time,
            sub.timezone,
            json.dumps(list(sub.topics)),
            sub.max_items,
            sub.created_by,
            stamp(),
            sub.source,
            sub.thread,
            str(sub.order),
        )

    async def delete_channel_subscription(self, guild_id: int, channel_id: int) -> bool:
        changed = await self._change(
            "DELETE FROM channel_subscriptions WHERE guild_id = ? AND channel_id = ?",
            guild_id,
            channel_id,
        )
        return changed > 0

    async def channel_subscriptions(self, guild_id: int | None = None) -> list[ChannelSubscription]:
        if guild_id is None:
            rows = await self._query(
                f"SELECT {SUB_COLUMNS} FROM channel_subscriptions ORDER BY channel_id"
            )
        else:
            rows = await self._query(
                f"SELECT {SUB_COLUMNS} FROM channel_subscriptions WHERE guild_id = ?"
                " ORDER BY channel_id",
                guild_id,
            )
        return [channel_subscription(r) for r in rows]

    async def channel_subscription(self, channel_id: int) -> ChannelSubscription | None:
        rows = await self._query(
            f"SELECT {SUB_COLUMNS} FROM channel_subscriptions WHERE channel_id = ?", channel_id
        )
        return channel_subscription(rows[0]) if rows else None

    async def record_channel_success(self, channel_id: int) -> None:
        await self._change(
            "UPDATE channel_subscriptions SET failures = 0, last_error = NULL"
            " WHERE channel_id = ? AND (failures != 0 OR last_error IS NOT NULL)",
            channel_id,
        )

    async def set_channel_paused(self, channel_id: int, paused: bool) -> None:
        if paused:
            await self._change(
                "UPDATE channel_subscriptions SET paused = 1 WHERE channel_id = ?", channel_id
            )
        else:
            await self._change(
                "UPDATE channel_subscriptions SET paused = 0, failures = 0, last_error = NULL"
                " WHERE channel_id = ?",
                channel_id,
            )

    # -- members ---------------------------------------------------------------------------
    async def remove_follow(
        self, user_id: int, kind: FollowKind, value: str, guild_id: int = 0
    ) -> bool:
        changed = await self._change(
            "DELETE FROM user_follows WHERE user_id = ? AND kind = ? AND value = ?"
            " AND guild_id = ?",
            user_id,
            kind,
            value,
            guild_id,
        )
        return changed > 0

    async def _follows(self, user_id: int | None) -> dict[int, list[Follow]]:
        sql = "SELECT user_id, kind, value, guild_id, label FROM user_follows"
        order = " ORDER BY kind, value, guild_id"
        if user_id is None:
            return follows_by_user(await self._query(sql + order))
        return follows_by_user(await self._query(sql + " WHERE user_id = ?" + order, user_id))

    async def user_delivery(self, user_id: int) -> UserDelivery | None:
        rows = await self._query(
            f"SELECT {USER_COLUMNS} FROM user_delivery WHERE user_id = ?", user_id
        )
        if not rows:
            return None
        return user_delivery(rows[0], (await self._follows(user_id)).get(user_id, []))

    async def user_deliveries(self) -> list[UserDelivery]:
        follows = await self._follows(None)
        rows = await self._query(f"SELECT {USER_COLUMNS} FROM user_delivery ORDER BY user_id")
        return [user_delivery(row, follows[row[0]]) for row in rows if row[0] in follows]

    async def set_last_run(self, target: str, day: dt.date) -> None:
        kind, _, ident = target.partition(":")
        table, column = _LAST_RUN[kind]
        await self._change(
            f"UPDATE {table} SET last_run_day = ? WHERE {column} = ?", day.isoformat(), int(ident)
        )

    async def set_user_delivery(self, user_id: int, post_time: str, timezone: str) -> None:
        await self._change(
            "INSERT INTO user_delivery (user_id, post_time, timezone) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET post_time = excluded.post_time,"
            " timezone = excluded.timezone, dm_closed = 0, dm_closed_told = 0",
            user_id,
            post_time,
            timezone,
        )

    async def set_dm_closed(self, user_id: int, closed: bool, told: bool = False) -> None:
        await self._change(
            "INSERT INTO user_delivery (user_id, dm_closed, dm_closed_told) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET dm_closed = excluded.dm_closed,"
            " dm_closed_told = excluded.dm_closed_told",
            user_id,
            int(closed),
            int(told),
        )

    async def dm_channel(self, user_id: int) -> int | None:
        rows = await self._query("SELECT channel_id FROM dm_channels WHERE user_id = ?", user_id)
        return int(rows[0][0]) if rows else None

    async def remember_dm_channel(self, user_id: int, channel_id: int) -> None:
        await self._change(
            "INSERT INTO dm_channels (user_id, channel_id, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET channel_id = excluded.channel_id,"
            " updated_at = excluded.updated_at",
            user_id,
            channel_id,
            stamp(),
        )

    # -- guild topics ------------------------------------------------------------------------
    async def upsert_guild_topic(self, topic: Topic) -> None:
        await self._change(
            "INSERT INTO guild_topics VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, slug)"
            " DO UPDATE SET name = excluded.name, keywords = excluded.keywords,"
            " phrases = excluded.phrases",
            topic.guild_id,
            topic.slug,
            topic.name,
            json.dumps(list(topic.keywords)),
            json.dumps(list(topic.phrases)),
        )

    async def topic_followers(self, guild_id: int, slug: str) -> list[int]:
        rows = await self._query(
            "SELECT user_id FROM user_follows WHERE kind = 'topic' AND value = ? AND guild_id = ?"
            " ORDER BY user_id",
            slug,
            guild_id,
        )
        return [row[0] for row in rows]

    async def guild_topics(self, guild_id: int | None = None) -> list[Topic]:
        sql = f"SELECT {TOPIC_COLUMNS} FROM guild_topics"
        if guild_id is None:
            rows = await self._query(sql + " ORDER BY guild_id, slug")
        else:
            rows = await self._query(sql + " WHERE guild_id = ? ORDER BY guild_id, slug", guild_id)
        return [guild_topic(row) for row in rows]

    async def paper_texts(self, batch: int = 1000) -> AsyncIterator[list[tuple[int, str, str]]]:
        last = 0
        while True:
            rows = await self._query(
                "SELECT id, title, abstract FROM papers WHERE id > ? ORDER BY id LIMIT ?",
                last,
                batch,
            )
            if not rows:
                return
            yield [(r[0], r[1], r[2]) for r in rows]
            last = rows[-1][0]

    # -- the delivery ledger -------------------------------------------------------------------
    async def finish_delivery(
        self,
        target: str,
        day: dt.date,
        status: DeliveryStatus,
        message_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        # 'sent' and 'empty' are final: a late finish from a racing attempt (another
        # process, or one that outlived its claim) must not turn a delivered day back
        # into 'failed', which the next claim would retry and post a second time.
        await self._change(
            "UPDATE deliveries SET status = ?, message_id = ?, detail = ?, updated_at = ?"
            " WHERE target = ? AND day = ? AND status NOT IN ('sent', 'empty')",
            status,
            message_id,
            detail,
            stamp(),
            target,
            day.isoformat(),
        )

    async def delivery(self, target: str, day: dt.date) -> DeliveryRecord | None:
        rows = await self._query(
            f"SELECT {RECORD_COLUMNS} FROM deliveries WHERE target = ? AND day = ?",
            target,
            day.isoformat(),
        )
        return delivery_record(rows[0]) if rows else None

    async def last_delivered_day(self, target: str) -> dt.date | None:
        rows = await self._query(
            "SELECT MAX(day) FROM deliveries WHERE target = ? AND status IN ('sent', 'empty')",
            target,
        )
        return day_or_none(rows[0][0]) if rows else None

    async def deliveries_in_state(self, status: DeliveryStatus) -> list[DeliveryRecord]:
        rows = await self._query(
            f"SELECT {RECORD_COLUMNS} FROM deliveries WHERE status = ? ORDER BY target, day",
            status,
        )
        return [delivery_record(r) for r in rows]

    # -- paper threads -------------------------------------------------------------------------
    async def paper_thread(self, channel_id: int, paper_id: int) -> int | None:
        rows = await self._query(
            "SELECT thread_id FROM paper_threads WHERE channel_id = ? AND paper_id = ?",
            channel_id,
            paper_id,
        )
        return rows[0][0] if rows else None

    async def set_paper_thread(
        self, channel_id: int, paper_id: int, thread_id: int, guild_id: int
    ) -> None:
        await self._change(
            "INSERT INTO paper_threads (channel_id, paper_id, thread_id, guild_id, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_id, paper_id) DO UPDATE SET"
            " thread_id = excluded.thread_id, guild_id = excluded.guild_id,"
            " created_at = excluded.created_at",
            channel_id,
            paper_id,
            thread_id,
            guild_id,
            stamp(),
        )

    # -- small settings ----------------------------------------------------------------------
    async def get_meta(self, key: str) -> str | None:
        rows = await self._query("SELECT value FROM meta WHERE key = ?", key)
        return rows[0][0] if rows else None

    async def set_meta(self, key: str, value: str) -> None:
        await self._change(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            key,
            value,
        )


# -- personal relevance ----------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One statement of an atomic write (`SharedSql._atomic`): `rows` for many parameter
    sets at once; with `required`, changing no row rolls the whole write back."""

    sql: str
    params: tuple[object, ...] = ()
    rows: Sequence[tuple[object, ...]] | None = None
    required: bool = False


FEEDBACK_COLUMNS = "user_id, paper_id, signal, saved, guild_id, updated_at, saved_at"
_AUTHORS_TODO = "paper_authors_todo"  # meta: papers up to this id may lack author rows
_AUTHOR_BATCH = 1000


class CommonRelevance(SharedSql, RelevanceStorage):
    """Feedback, mutes, authors and paper vectors: every statement is the same on both
    backends but for placeholders."""

    @abc.abstractmethod
    async def _atomic(self, steps: Sequence[Step]) -> list[int] | None:
        """Run `steps` in one transaction; each one's changed-row count, or None (and
        nothing written) when a `required` step changed nothing."""

    if TYPE_CHECKING:  # CommonDelivery's, beside this class in every storage

        async def get_meta(self, key: str) -> str | None: ...

    # -- feedback ---------------------------------------------------------------------------
    async def record_feedback(
        self,
        user_id: int,
        paper_id: int,
        signal: FeedbackSignal,
        saved: bool,
        guild_id: int | None = None,
    ) -> PaperFeedback | None:
        if signal is FeedbackSignal.NONE and not saved:
            await self.clear_feedback(user_id, paper_id)
            return None
        now = stamp()
        await self._change(
            f"INSERT INTO feedback ({FEEDBACK_COLUMNS}, seq)"
            " VALUES (?, ?, ?, ?, ?, ?, ?,"
            " (SELECT COALESCE(MAX(seq), 0) + 1 FROM feedback WHERE user_id = ?))"
            " ON CONFLICT (user_id, paper_id) DO UPDATE SET"
            # Only a change moves the rating to the end of the member's history: the same
            # click twice changes nothing, not even its place.
            " seq = CASE WHEN feedback.signal = excluded.signal"
            " AND feedback.saved = excluded.saved THEN feedback.seq ELSE excluded.seq END,"
            " updated_at = CASE WHEN feedback.signal = excluded.signal"
            " AND feedback.saved = excluded.saved THEN feedback.updated_at"
            " ELSE excluded.updated_at END,"
            " saved_at = CASE WHEN excluded.saved = 0 THEN NULL"
            " WHEN feedback.saved = 1 THEN feedback.saved_at ELSE excluded.saved_at END,"
            " signal = excluded.signal, saved = excluded.saved,"
            " guild_id = COALESCE(excluded.guild_id, feedback.guild_id)",
            user_id,
            paper_id,
            signal.value,
            int(saved),
            guild_id,
            now,
            now if saved else None,
            user_id,
        )
        found = await self.feedback_on(user_id, [paper_id])
        return found.get(paper_id)

    async def clear_feedback(self, user_id: int, paper_id: int) -> bool:
        changed = await self._change(
            "DELETE FROM feedback WHERE user_id = ? AND paper_id = ?", user_id, paper_id
        )
        return changed > 0

    async def feedback_on(self, user_id: int, paper_ids: Sequence[int]) -> dict[int, PaperFeedback]:
        ids = list(dict.fromkeys(paper_ids))
        if not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        rows = await self._query(
            f"SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE user_id = ? AND paper_id IN ({marks})",
            user_id,
            *ids,
        )
        return {row[1]: paper_feedback(row) for row in rows}

    async def member_ratings(self, user_id: int) -> list[PaperFeedback]:
        rows = await self._query(
            f"SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE user_id = ? ORDER BY seq, paper_id",
            user_id,
        )
        return [paper_feedback(row) for row in rows]

    async def saved_papers(self, user_id: int, offset: int = 0, limit: int = 10) -> SavedPage:
        rows = await self._query(
            "SELECT paper_id FROM feedback WHERE user_id = ? AND saved = 1"
            " ORDER BY saved_at DESC, seq DESC LIMIT ? OFFSET ?",
            user_id,
            limit,
            offset,
        )
        (total,) = (
            await self._query(
                "SELECT COUNT(*) FROM feedback WHERE user_id = ? AND saved = 1", user_id
            )
        )[0]
        return SavedPage(tuple(r[0] for r in rows), int(total))

    async def community_likes(self, guild_id: int, paper_ids: Sequence[int]) -> dict[int, int]:
        ids = list(dict.fromkeys(paper_ids))
        if not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        rows = await self._query(
            "SELECT paper_id, COUNT(*) FROM feedback WHERE guild_id = ? AND signal = 'like'"
            f" AND paper_id IN ({marks}) GROUP BY paper_id",
            guild_id,
            *ids,
        )
        return {pid: int(n) for pid, n in rows}

    async def member_known(self, user_id: int) -> bool:
        rows = await self._query(
            "SELECT 1 FROM feedback WHERE user_id = ?"
            " UNION ALL SELECT 1 FROM user_follows WHERE user_id = ?"
            " UNION ALL SELECT 1 FROM user_delivery WHERE user_id = ?"
            " UNION ALL SELECT 1 FROM mutes WHERE user_id = ? LIMIT 1",
            user_id,
            user_id,
            user_id,
            user_id,
        )
        return bool(rows)

    async def forget_member(self, user_id: int) -> ForgetCounts:
        target = f"user:{user_id}"
        counts = await self._atomic(
            [
                Step("DELETE FROM user_follows WHERE user_id = ?", (user_id,)),
                # Saves counted first: a saved paper may also carry a 👍 or 👎.
                Step("UPDATE feedback SET saved = 0 WHERE user_id = ? AND saved = 1", (user_id,)),
                Step("DELETE FROM feedback WHERE user_id = ? AND signal != 'none'", (user_id,)),
                Step("DELETE FROM feedback WHERE user_id = ?", (user_id,)),
                Step("DELETE FROM mutes WHERE user_id = ?", (user_id,)),
                Step("DELETE FROM user_delivery WHERE user_id = ?", (user_id,)),
                Step("DELETE FROM deliveries WHERE target = ?", (target,)),
                # Not counted: Discord's id of the conversation, nothing the member set.
                Step("DELETE FROM dm_channels WHERE user_id = ?", (user_id,)),
            ]
        )
        assert counts is not None  # no step is required
        follows, saves, ratings, _, mutes, settings, records, _ = counts
        return ForgetCounts(
            follows=follows,
            ratings=ratings,
            saves=saves,
            mutes=mutes,
            delivery_settings=settings,
            delivery_records=records,
        )

    # -- mutes ------------------------------------------------------------------------------
    async def add_mute(self, user_id: int, mute: Mute) -> bool:
        changed = await self._change(
            "INSERT INTO mutes (user_id, kind, value, label, created_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id, kind, value) DO NOTHING",
            user_id,
            mute.kind.value,
            mute.value,
            mute.label,
            stamp(),
        )
        return changed > 0

    async def remove_mute(self, user_id: int, kind: MuteKind, value: str) -> bool:
        changed = await self._change(
            "DELETE FROM mutes WHERE user_id = ? AND kind = ? AND value = ?",
            user_id,
            kind.value,
            value,
        )
        return changed > 0

    async def member_mutes(self, user_id: int) -> list[Mute]:
        rows = await self._query(
            "SELECT kind, value, label FROM mutes WHERE user_id = ? ORDER BY kind, value", user_id
        )
        return [Mute(MuteKind(kind), value, label) for kind, value, label in rows]

    # -- authors ----------------------------------------------------------------------------
    async def authors_by_key_prefix(self, prefix: str, limit: int = 25) -> list[AuthorName]:
        if not prefix:
            return []
        # A range, not LIKE: both backends read it off the name_key index.
        rows = await self._query(
            "SELECT name_key, MAX(name), COUNT(DISTINCT paper_id) FROM paper_authors"
            " WHERE name_key >= ? AND name_key < ? GROUP BY name_key"
            " ORDER BY COUNT(DISTINCT paper_id) DESC, name_key LIMIT ?",
            prefix,
            prefix[:-1] + chr(ord(prefix[-1]) + 1),  # the first key past every prefix match
            limit,
        )
        return [AuthorName(key, name, int(papers)) for key, name, papers in rows]

    async def papers_by_author(self, key: str, limit: int = 50) -> list[int]:
        rows = await self._query(
            "SELECT DISTINCT p.id, p.last_seen FROM paper_authors a JOIN papers p"
            " ON p.id = a.paper_id WHERE a.name_key = ? ORDER BY p.last_seen DESC, p.id DESC"
            " LIMIT ?",
            key,
            limit,
        )
        return [r[0] for r in rows]

    async def backfill_paper_authors(self) -> int:
        """Author rows for papers stored before `paper_authors` existed (the migration
        records up to which id); returns how many papers were filled. Safe to run again
        or from two processes at once: rows that exist are left alone."""
        todo = await self.get_meta(_AUTHORS_TODO)
        if todo is None:
            return 0
        last, done = 0, 0
        while True:
            rows = await self._query(
                "SELECT id, authors FROM papers WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
                last,
                int(todo),
                _AUTHOR_BATCH,
            )
            if not rows:
                break
            new = [
                row
                for pid, authors in rows
                for row in author_rows(pid, json.loads(authors or "[]"))
            ]
            if new:
                await self._atomic(
                    [
                        Step(
                            "INSERT INTO paper_authors (paper_id, position, name, name_key)"
                            " VALUES (?, ?, ?, ?) ON CONFLICT (paper_id, position) DO NOTHING",
                            rows=new,
                        )
                    ]
                )
            done += len(rows)
            last = rows[-1][0]
        await self._change("DELETE FROM meta WHERE key = ?", _AUTHORS_TODO)
        return done

    # -- paper vectors ----------------------------------------------------------------------
    async def paper_vectors(self, paper_ids: Sequence[int]) -> dict[int, bytes]:
        found: dict[int, bytes] = {}
        ids = list(dict.fromkeys(paper_ids))
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ", ".join("?" * len(part))
            rows = await self._query(
                f"SELECT paper_id, vector FROM paper_vectors WHERE paper_id IN ({marks})", *part
            )
            found.update((pid, bytes(vector)) for pid, vector in rows)
        return found

    async def papers_without_vectors(self, limit: int = 500) -> list[int]:
        rows = await self._query(
            "SELECT p.id FROM papers p LEFT JOIN paper_vectors v ON v.paper_id = p.id"
            " WHERE v.paper_id IS NULL ORDER BY p.id LIMIT ?",
            limit,
        )
        return [r[0] for r in rows]

    async def vector_stats(self) -> StoredStats | None:
        rows = await self._query("SELECT version, stats FROM corpus_stats WHERE id = 1")
        return StoredStats(int(rows[0][0]), bytes(rows[0][1])) if rows else None

    async def put_vectors(
        self, vectors: Sequence[tuple[int, bytes]], stats: bytes, expected_version: int
    ) -> bool:
        if expected_version == 0:
            claim = Step(
                "INSERT INTO corpus_stats (id, version, stats) VALUES (1, 1, ?)"
                " ON CONFLICT (id) DO NOTHING",
                (stats,),
                required=True,
            )
        else:
            claim = Step(
                "UPDATE corpus_stats SET version = version + 1, stats = ?"
                " WHERE id = 1 AND version = ?",
                (stats, expected_version),
                required=True,
            )
        steps = [claim]
        if vectors:
            steps.append(
                Step(
                    "INSERT INTO paper_vectors (paper_id, vector) VALUES (?, ?)"
                    " ON CONFLICT (paper_id) DO UPDATE SET vector = excluded.vector",
                    rows=list(vectors),
                )
            )
        return await self._atomic(steps) is not None

    async def clear_vectors(self) -> int:
        counts = await self._atomic(
            [Step("DELETE FROM paper_vectors"), Step("DELETE FROM corpus_stats")]
        )
        return counts[0] if counts else 0
