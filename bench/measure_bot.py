"""The real PaperBot against the loopback fake Discord: start-to-ready time, and a
morning's fan-out (every subscribed channel's digest due at once) under realistic
rate limits (50 requests/s global, 5 per 5 s per route and channel)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench.measure_digest import channel_settings
from bench.records import BotRecord, FanoutRecord
from bench.stats import Progress
from bot.cli.settings import Settings
from bot.core.subscriptions import ChannelSubscription
from bot.core.topics import load_default_topics
from bot.discord_app.client import PaperBot
from bot.discord_app.wiring import make_bot
from bot.fakediscord import FakeDiscord, running_bot
from storage import open_storage

CHANNELS_PER_GUILD = 50
GLOBAL_PER_SECOND, BUCKET_LIMIT, BUCKET_WINDOW = 50, 5, 5.0
POST_ROUTE = "POST /channels/{channel_id}/messages"


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """discord.py warns on every 429; the fake's counters report them instead."""
    loggers = [logging.getLogger(name) for name in ("discord", "paperbot", "apscheduler")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


async def measure_bot(db_path: str, newest: dt.date, fanout: int, progress: Progress) -> BotRecord:
    with quiet_logs(), tempfile.TemporaryDirectory(prefix="paperbot-bench-dumps-") as dumps:
        async with FakeDiscord() as fake:
            return await _measure(fake, db_path, newest, fanout, Path(dumps), progress)


async def _measure(
    fake: FakeDiscord,
    db_path: str,
    newest: dt.date,
    fanout: int,
    dumps: Path,
    progress: Progress,
) -> BotRecord:
    channels: list[tuple[int, int]] = []  # (guild, channel)
    guild = 0
    for i in range(fanout):
        if i % CHANNELS_PER_GUILD == 0:
            guild = fake.add_guild(f"Bench {i // CHANNELS_PER_GUILD + 1}")
        channels.append((guild, fake.add_channel(guild, f"papers-{i}")))
    if not channels:
        fake.add_channel(fake.add_guild("Bench"), "papers")
    # Post times 12 h away, so no catch-up sweep posts anything while the bot starts.
    post_time = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=12)).strftime("%H:%M")
    storage = await open_storage(db_path)
    try:
        for (guild_id, channel_id), settings in zip(
            channels, channel_settings(len(channels), load_default_topics()), strict=True
        ):
            await storage.upsert_channel_subscription(
                ChannelSubscription(
                    channel_id,
                    guild_id,
                    post_time,
                    "UTC",
                    topics=settings.topics,
                    max_items=settings.max_items,
                )
            )
    finally:
        await storage.close()
    config = Settings(token="x", db=db_path, dumps_dir=dumps)

    # 1. A first start: every cog, the command sync (new database), the scheduler.
    progress(f"bot: first start against the fake ({len(channels)} subscribed channels)")
    start = time.perf_counter()
    storage = await open_storage(db_path)
    try:
        bot = make_bot(settings=config, storage=storage)
        async with running_bot(fake, bot):
            ready = time.perf_counter() - start
    finally:
        await storage.close()

    # 2. A restart (commands unchanged), then the fan-out with rate limits on.
    now = dt.datetime.combine(newest, dt.time(12), tzinfo=dt.UTC)
    start = time.perf_counter()
    storage = await open_storage(db_path)
    try:
        bot = make_bot(settings=config, storage=storage, start_scheduler=False, clock=lambda: now)
        async with running_bot(fake, bot):
            restart = time.perf_counter() - start
            result: BotRecord = {
                "bot_start_ready_s": round(ready, 3),
                "bot_restart_ready_s": round(restart, 3),
            }
            if channels:
                result.update(await _fanout(fake, bot, channels, now, progress))
    finally:
        await storage.close()
    return result


async def _fanout(
    fake: FakeDiscord,
    bot: PaperBot,
    channels: list[tuple[int, int]],
    now: dt.datetime,
    progress: Progress,
) -> FanoutRecord:
    fake.faults.enable_rate_limits(
        global_per_second=GLOBAL_PER_SECOND, bucket_limit=BUCKET_LIMIT, bucket_window=BUCKET_WINDOW
    )
    before = dict(fake.stats)
    progress(f"fanout: {len(channels)} channels due at once, rate limits on")
    start = time.perf_counter()
    start_monotonic = time.monotonic()  # the fake stamps requests with this clock
    # What the scheduler does when every channel's cron fires in the same minute.
    await asyncio.gather(
        *(bot.services.schedules.fire(f"channel:{cid}", now) for _, cid in channels)
    )
    elapsed = time.perf_counter() - start
    fake.faults.disable_rate_limits()
    posts = sum(1 for _, cid in channels if fake.channel_messages(cid))
    requests = fake.stats["requests"] - before.get("requests", 0)
    # The rate Discord sees once posting is under way (first to last accepted post), apart
    # from the start-up (due days, layouts) and the last reply counted in `elapsed`.
    accepted = sorted(
        r.timestamp
        for r in fake.requests
        if r.route == POST_ROUTE and r.status == 200 and r.timestamp >= start_monotonic
    )
    span = accepted[-1] - accepted[0] if len(accepted) > 1 else 0.0
    return {
        "fanout_channels": len(channels),
        "fanout_posted": posts,
        "fanout_s": round(elapsed, 3),
        "fanout_posts_per_s": round(posts / elapsed, 1) if elapsed > 0 else None,
        "fanout_sustained_posts_per_s": round((len(accepted) - 1) / span, 1) if span else None,
        "fanout_429s": fake.stats["429"] - before.get("429", 0),
        "fanout_requests": requests,
        "fanout_limits": f"{GLOBAL_PER_SECOND}/s global, {BUCKET_LIMIT} per {BUCKET_WINDOW:g}s"
        " per route+channel",
    }
