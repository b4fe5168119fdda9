"""APScheduler wiring. The database is the source of truth: jobs live only in memory
and are rebuilt from it at start and after every change (a shared persistent job store
would pickle jobs and double-fire across processes).

Jobs:
- one CronTrigger per channel subscription and per member, in their ZoneInfo zone;
- a sweep every few minutes that posts anything missed within the grace window
  (downtime, or a post time that a DST jump skipped) — the ledger makes it idempotent;
- an ingest job that watches DUMPS_DIR (and fetches DUMP_URL when set).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.delivery_plan import last_fire_time, missed_post_due
from bot.core.subscriptions import ChannelSubscription, UserDelivery
from bot.ingest_job import IngestJob

if TYPE_CHECKING:
    from bot.client import PaperBot

log = logging.getLogger("paperbot.schedule")

SWEEP_CONCURRENCY = 8  # deliveries in flight at once during a catch-up sweep
TRANSIENT = {"retry", "busy"}  # outcomes the next sweep should try again


def cron_for(post_time: str, timezone: str) -> CronTrigger:
    hour, minute = (int(x) for x in post_time.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(timezone))


class ScheduleService:
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        self.scheduler = AsyncIOScheduler(timezone=dt.UTC)
        self.ingest = IngestJob(bot)
        self.grace = bot.settings.misfire_grace

    async def start(self) -> None:
        await self.rebuild()
        every = self.bot.settings.sweep_every_seconds
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.2)
        self.scheduler.add_job(
            self.sweep,
            IntervalTrigger(seconds=every),
            id="sweep",
            next_run_time=soon,
            replace_existing=True,
            coalesce=True,
        )
        self.scheduler.add_job(
            self.ingest.run,
            IntervalTrigger(minutes=self.bot.settings.ingest_every_minutes),
            id="ingest",
            next_run_time=soon,
            replace_existing=True,
            coalesce=True,
        )
        self.scheduler.start()

    async def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def rebuild(self) -> None:
        """Make the in-memory jobs match the database exactly."""
        wanted: dict[str, tuple[CronTrigger, object]] = {}
        for sub in await self.bot.storage.channel_subscriptions():
            if not sub.paused:
                wanted[sub.target] = (cron_for(sub.post_time, sub.timezone), sub.channel_id)
        for user in await self.bot.storage.user_deliveries():
            if not user.dm_closed:
                wanted[user.target] = (cron_for(user.post_time, user.timezone), user.user_id)
        for job in self.scheduler.get_jobs():
            if job.id.startswith(("channel:", "user:")) and job.id not in wanted:
                job.remove()
        grace = int(self.grace.total_seconds()) or None
        for target, (trigger, _) in wanted.items():
            self.scheduler.add_job(
                self.fire,
                trigger,
                args=[target],
                id=target,
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
        now = now or self.bot.clock()
        kind, _, ident = target.partition(":")
        try:
            if kind == "channel":
                sub = await self.bot.storage.channel_subscription(int(ident))
                if sub is not None:
                    await self._run_channel(sub, now)
            else:
                user = await self.bot.storage.user_delivery(int(ident))
                if user is not None and user.follows:
                    await self._run_member(user, now)
        except Exception:  # one target's failure must never stop the scheduler
            log.exception("scheduled delivery for %s failed", target)

    async def _run_channel(self, sub: ChannelSubscription, now: dt.datetime) -> None:
        outcome = await self.bot.delivery.deliver_channel(sub, now)
        # A transient failure leaves the run unmarked, so the next sweep tries again
        # (within the grace window) instead of losing the day.
        if outcome.status not in TRANSIENT:
            await self._mark_run(sub.target, sub.post_time, sub.timezone, now)
        log.info("channel %s: %s %s", sub.channel_id, outcome.status, outcome.day or "")

    async def _run_member(self, user: UserDelivery, now: dt.datetime) -> None:
        outcome = await self.bot.delivery.deliver_member(user, now)
        if outcome.status not in TRANSIENT:
            await self._mark_run(user.target, user.post_time, user.timezone, now)
        log.info("user %s: %s %s", user.user_id, outcome.status, outcome.day or "")

    async def _mark_run(self, target: str, post_time: str, timezone: str, now: dt.datetime) -> None:
        fired = last_fire_time(now, post_time, timezone)
        await self.bot.storage.set_last_run(target, fired.astimezone(ZoneInfo(timezone)).date())

    async def sweep(self, now: dt.datetime | None = None) -> list[str]:
        """Run every target whose latest post time passed within the grace window
        without a run. Returns the targets it ran (for tests and /status).

        Targets run concurrently (bounded), so one channel stuck in discord.py's retry
        backoff does not hold up the rest; the pacer still caps the request rate."""
        now = now or self.bot.clock()
        due = [
            sub.target
            for sub in await self.bot.storage.channel_subscriptions()
            if not sub.paused
            and missed_post_due(now, sub.post_time, sub.timezone, sub.last_run_day, self.grace)
        ]
        due += [
            user.target
            for user in await self.bot.storage.user_deliveries()
            if not user.dm_closed
            and missed_post_due(now, user.post_time, user.timezone, user.last_run_day, self.grace)
        ]
        gate = asyncio.Semaphore(SWEEP_CONCURRENCY)

        async def run(target: str) -> None:
            async with gate:
                await self.fire(target, now)

        await asyncio.gather(*(run(target) for target in due))
        return due
