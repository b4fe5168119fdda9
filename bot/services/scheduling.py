"""APScheduler wiring. The database is the source of truth: jobs live only in memory
and are rebuilt from it at start and after every change (a shared persistent job store
would pickle jobs and double-fire across processes).

Jobs:
- one CronTrigger per channel subscription and per member, in their ZoneInfo zone;
- a sweep every few minutes that posts anything missed within the grace window
  (downtime, or a post time that a DST jump skipped) — the ledger makes it idempotent;
- an ingest job that watches DUMPS_DIR (and fetches DUMP_URL when set).

Sharded (SHARD_COUNT set; several processes on one PostgreSQL database), each process
schedules only the channels of guilds on its own shards, plus every member (DMs may go
through any process: the leased claim in the ledger lets exactly one of them send). No
job store is shared; the ledger alone decides who sends. Each process also writes a
heartbeat per shard it runs, and its sweep takes over the due, overdue channels of
shards whose heartbeat stopped: that is how a dead process's fan-out still finishes.

The service takes what it uses: the subscriptions and ledger ports, the delivery
service, the ingest job's tick, the settings and a clock (bot/discord_app/wiring.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.delivery_plan import (
    last_fire_time,
    missed_post_due,
    shard_looks_dead,
    shard_of,
    takeover_due,
)
from bot.core.ports import Clock, DeliveryLedger, Subscriptions
from bot.core.subscriptions import ChannelSubscription, UserDelivery
from bot.services.delivery import DeliveryService

log = logging.getLogger("paperbot.schedule")

SWEEP_CONCURRENCY = 8  # deliveries in flight at once during a catch-up sweep
HEARTBEATS_PER_TIMEOUT = 4  # a live shard beats this often within one claim timeout


def heartbeat_key(shard_id: int) -> str:
    return f"shard-alive:{shard_id}"


def cron_for(post_time: str, timezone: str) -> CronTrigger:
    hour, minute = (int(x) for x in post_time.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(timezone))


class ScheduleSettings(Protocol):
    """The settings scheduling reads."""

    @property
    def misfire_grace(self) -> dt.timedelta: ...

    @property
    def sweep_every_seconds(self) -> int: ...

    @property
    def ingest_every_minutes(self) -> int: ...

    @property
    def sharded(self) -> bool: ...

    @property
    def claim_timeout(self) -> dt.timedelta: ...

    @property
    def shard_count(self) -> int | None: ...

    @property
    def shard_ids(self) -> tuple[int, ...]: ...

    def owns_guild(self, guild_id: int | None) -> bool: ...


class ScheduleService:
    def __init__(
        self,
        *,
        subscriptions: Subscriptions,
        ledger: DeliveryLedger,
        delivery: DeliveryService,
        ingest: Callable[[], Awaitable[object]],
        settings: ScheduleSettings,
        clock: Clock,
    ) -> None:
        self.subscriptions = subscriptions
        self.ledger = ledger
        self.delivery = delivery
        self.ingest = ingest  # the ingest job's tick, run every INGEST_EVERY_MINUTES
        self.settings = settings
        self.clock = clock
        self.scheduler = AsyncIOScheduler(timezone=dt.UTC)
        self.grace = settings.misfire_grace
        # A process judges other shards dead only after it has run for a whole claim
        # timeout itself: peers starting alongside it need that long to beat once.
        self.started_at = clock()
        self._dead_seen: set[int] = set()
        self._stopping = False
        # Members' cron fires under way at once (see `fire`): twice the DMs the
        # delivery works out ahead, so each has the next one's member read already.
        self.member_fires_at_once = 2 * delivery.members_ahead
        self._member_fires = asyncio.Semaphore(self.member_fires_at_once)
        self.member_fires_in_progress = 0

    async def _job(self, job: Callable[..., Awaitable[object]], *args: object) -> None:
        """Every scheduled job runs through here. Shutting down cancels the jobs under
        way; each then just stops (APScheduler would log the cancellation as a failed
        job, with a CancelledError traceback, on every ordinary stop)."""
        try:
            await job(*args)
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            log.info("%s stopped: shutting down", getattr(job, "__name__", "job"))

    async def start(self) -> None:
        self.started_at = self.clock()
        await self.rebuild()
        every = self.settings.sweep_every_seconds
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.2)
        if self.settings.sharded:
            await self.heartbeat()
            # Both their own jobs, apart from the sweep: a sweep busy with a long catch-up
            # must neither let our heartbeat go stale (peers would take over live shards)
            # nor hold up rescuing a dead peer's digests until it is done.
            beat = self.settings.claim_timeout.total_seconds() / HEARTBEATS_PER_TIMEOUT
            for job, name in ((self.heartbeat, "heartbeat"), (self.take_over, "takeover")):
                self.scheduler.add_job(
                    self._job,
                    IntervalTrigger(seconds=max(beat, 0.5)),
                    args=[job],
                    id=name,
                    name=name,
                    replace_existing=True,
                    coalesce=True,
                )
        self.scheduler.add_job(
            self._job,
            IntervalTrigger(seconds=every),
            args=[self.sweep],
            id="sweep",
            name="sweep",
            next_run_time=soon,
            replace_existing=True,
            coalesce=True,
        )
        self.scheduler.add_job(
            self._job,
            IntervalTrigger(minutes=self.settings.ingest_every_minutes),
            args=[self.ingest],
            id="ingest",
            name="ingest",
            next_run_time=soon,
            replace_existing=True,
            coalesce=True,
        )
        self.scheduler.start()

    def pause(self) -> None:
        """Shutting down, first step: start no new jobs. Jobs under way go on (their
        posts finish); `shutdown` then cancels whatever is still running."""
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.pause()

    async def shutdown(self) -> None:
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def rebuild(self) -> None:
        """Make the in-memory jobs match the database exactly."""
        wanted: dict[str, tuple[CronTrigger, object]] = {}
        owns = self.settings.owns_guild
        for sub in await self.subscriptions.channel_subscriptions():
            if not sub.paused and owns(sub.guild_id):
                wanted[sub.target] = (cron_for(sub.post_time, sub.timezone), sub.channel_id)
        for user in await self.subscriptions.user_deliveries():
            if not user.dm_closed:
                wanted[user.target] = (cron_for(user.post_time, user.timezone), user.user_id)
        for job in self.scheduler.get_jobs():
            if job.id.startswith(("channel:", "user:")) and job.id not in wanted:
                job.remove()
        # APScheduler reads None as "no limit" and refuses 0, so no grace (0) is its
        # smallest limit, 1 s: a fire that wakes later than that is skipped, as the
        # catch-up sweep then skips it too.
        grace = max(int(self.grace.total_seconds()), 1)
        for target, (trigger, _) in wanted.items():
            self.scheduler.add_job(
                self._job,
                trigger,
                args=[self.fire, target],
                id=target,
                name=target,
                replace_existing=True,
                misfire_grace_time=grace,
                coalesce=True,
                max_instances=1,
            )

    def next_run(self, target: str) -> dt.datetime | None:
        job = self.scheduler.get_job(target)
        if job is None:
            return None
        return getattr(job, "next_run_time", None)

    async def fire(self, target: str, now: dt.datetime | None = None) -> None:
        """A cron fire (or a test's controlled clock) for one target."""
        now = now or self.clock()
        kind, _, ident = target.partition(":")
        try:
            if kind == "channel":
                sub = await self.subscriptions.channel_subscription(int(ident))
                if sub is not None:
                    await self._run_channel(sub, now)
            else:
                # Every member due at the same minute fires at once: thousands reading
                # their settings side by side held up the first DM for seconds (each
                # member's next read queued behind all of theirs). A few at a time.
                async with self._member_fires:
                    self.member_fires_in_progress += 1
                    try:
                        user = await self.subscriptions.user_delivery(int(ident))
                        if user is not None and user.follows:
                            await self._run_member(user, now)
                    finally:
                        self.member_fires_in_progress -= 1
        except Exception:  # one target's failure must never stop the scheduler
            log.exception("scheduled delivery for %s failed", target)

    async def _run_channel(self, sub: ChannelSubscription, now: dt.datetime) -> None:
        outcome = await self.delivery.deliver_channel(sub, now)
        # A transient failure leaves the run unmarked, so the next sweep tries again
        # (within the grace window) instead of losing the day.
        if not outcome.status.transient:
            await self._mark_run(sub.target, sub.post_time, sub.timezone, now)
        log.info("channel %s: %s %s", sub.channel_id, outcome.status, outcome.day or "")

    async def _run_member(self, user: UserDelivery, now: dt.datetime) -> None:
        outcome = await self.delivery.deliver_member(user, now)
        if not outcome.status.transient:
            await self._mark_run(user.target, user.post_time, user.timezone, now)
        log.info("user %s: %s %s", user.user_id, outcome.status, outcome.day or "")

    async def _mark_run(self, target: str, post_time: str, timezone: str, now: dt.datetime) -> None:
        fired = last_fire_time(now, post_time, timezone)
        await self.ledger.set_last_run(target, fired.astimezone(ZoneInfo(timezone)).date())

    async def sweep(self, now: dt.datetime | None = None) -> list[str]:
        """Run every target whose latest post time passed within the grace window
        without a run. Returns the targets it ran (for tests and /status).

        Targets run concurrently (bounded), so one channel stuck in discord.py's retry
        backoff does not hold up the rest; the pacer still caps the request rate."""
        now = now or self.clock()
        dead = await self.dead_shards(now)
        due = [
            sub.target
            for sub in await self.subscriptions.channel_subscriptions()
            if not sub.paused and self._channel_due(sub, now, dead)
        ]
        due += [
            user.target
            for user in await self.subscriptions.user_deliveries()
            if not user.dm_closed
            and missed_post_due(now, user.post_time, user.timezone, user.last_run_day, self.grace)
        ]
        await self._run_all(due, now)
        return due

    async def take_over(self, now: dt.datetime | None = None) -> list[str]:
        """Only the dead shards' due channels (what `sweep` also does, on a short timer
        of its own). Returns the targets it ran."""
        now = now or self.clock()
        dead = await self.dead_shards(now)
        if not dead:
            return []
        owns = self.settings.owns_guild
        due = [
            sub.target
            for sub in await self.subscriptions.channel_subscriptions()
            if not sub.paused and not owns(sub.guild_id) and self._channel_due(sub, now, dead)
        ]
        await self._run_all(due, now)
        return due

    async def _run_all(self, targets: list[str], now: dt.datetime) -> None:
        gate = asyncio.Semaphore(SWEEP_CONCURRENCY)

        async def run(target: str) -> None:
            async with gate:
                await self.fire(target, now)

        await asyncio.gather(*(run(target) for target in targets))

    # -- sharding: heartbeats and taking over dead shards ----------------------------------
    def _channel_due(self, sub: ChannelSubscription, now: dt.datetime, dead: set[int]) -> bool:
        settings = self.settings
        if settings.owns_guild(sub.guild_id):
            return missed_post_due(now, sub.post_time, sub.timezone, sub.last_run_day, self.grace)
        # Another process's shard: ours only when that process looks dead and had a
        # whole claim timeout to post it (a live one's own sweep will get to it).
        assert settings.shard_count is not None  # owns_guild is True when unsharded
        if shard_of(sub.guild_id, settings.shard_count) not in dead:
            return False
        return takeover_due(
            now,
            sub.post_time,
            sub.timezone,
            sub.last_run_day,
            self.grace,
            settings.claim_timeout,
        )

    async def heartbeat(self, now: dt.datetime | None = None) -> None:
        """Record that this process's shards are alive (UTC, ISO seconds). Peers compare
        it with their own clocks, so hosts need NTP: skew must stay well below the claim
        timeout."""
        stamp = (now or self.clock()).astimezone(dt.UTC).isoformat(timespec="seconds")
        for shard_id in self.settings.shard_ids:
            await self.ledger.set_meta(heartbeat_key(shard_id), stamp)

    async def dead_shards(self, now: dt.datetime) -> set[int]:
        """Other processes' shards whose heartbeat is older than a claim timeout (or
        missing): their due channels are ours to post. Empty when not sharded, and
        while we ourselves started less than a claim timeout ago."""
        settings = self.settings
        if not settings.shard_count or now - self.started_at < settings.claim_timeout:
            return set()
        dead = set()
        for shard_id in set(range(settings.shard_count)) - set(settings.shard_ids):
            raw = await self.ledger.get_meta(heartbeat_key(shard_id))
            beat = dt.datetime.fromisoformat(raw) if raw else None
            if shard_looks_dead(beat, now, settings.claim_timeout):
                dead.add(shard_id)
        if dead - self._dead_seen:  # log changes, not every tick
            log.warning("shards %s look dead (no heartbeat): taking over their digests", dead)
        elif self._dead_seen - dead:
            log.info("shards %s have a heartbeat again", self._dead_seen - dead)
        self._dead_seen = dead
        return dead
