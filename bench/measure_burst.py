"""`paperbot bench --burst N`: many members at once, against the bot in its own process
(bench/burst_bot.py: the PaperBot `paperbot run` builds) and the loopback fake Discord
in this one.

1. N `/search` interactions from 20 servers (each from another member), sent at once:
   per interaction the acknowledgement latency (its callback: a defer or the answer)
   and the final reply latency (the answer, or the defer's edit), both as the fake
   receives them, from when the interaction was sent.
2. 300 `/paper` title autocompletes at once: the latency of each one's choices.
3. A 300-search burst while a channel-digest fan-out is posting under Discord's limits
   (50 requests/s global, interaction endpoints exempt; 5 per 5 s per route and
   channel): posts/s before the burst and while it runs.

The event loop's CPU per search comes from the bot process (its loop thread's CPU time
over the first burst, divided by N).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure_bot import quiet_logs
from bench.measure_digest import channel_settings
from bench.queries import query_mix
from bench.stats import Progress, ms, percentile
from bot.core.subscriptions import ChannelSubscription
from bot.core.topics import load_default_topics
from bot.fakediscord import FakeDiscord
from bot.fakediscord.interactions import InteractionRecord
from storage import open_storage

SERVERS = 20
AUTOCOMPLETES = 300  # (or N, when smaller)
FANOUT_BURST = 300  # (or N, when smaller)
CHANNELS_PER_GUILD = 50
BEFORE_BURST_S = 4.0  # posting measured alone this long before the burst starts...
POSTS_PER_S = 47.0  # ... or a third of the fan-out at the bot's pace, when shorter
# The bot measured is one made for bursts: two search worker processes (SEARCH_PROCESSES
# is off by default, each worker costing memory of its own; docs/PERFORMANCE.md).
BURST_SEARCH_PROCESSES = 2
GLOBAL_PER_SECOND, BUCKET_LIMIT, BUCKET_WINDOW = 50, 5, 5.0
POST_ROUTE = "POST /channels/{channel_id}/messages"
REPLY_TIMEOUT = 120.0
# The targets.
ACK_P99_S, FINAL_P99_S, FANOUT_FLOOR, AUTOCOMPLETE_P99_S = 1.0, 3.0, 45.0, 0.3


class BotProcess:
    """The bot's process and its command line (see bench/burst_bot.py)."""

    def __init__(self, process: asyncio.subprocess.Process, errors: Path) -> None:
        self.process = process
        self.errors = errors

    @classmethod
    async def start(
        cls, db: str, fake: FakeDiscord, day: dt.date, errors: Path, search_processes: int = 0
    ) -> BotProcess:
        log = errors.open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.burst_bot",
            db,
            fake.api_base,
            fake.gateway_url,
            day.isoformat(),
            str(search_processes),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
        log.close()
        bot = cls(process, errors)
        await bot.answer("ready")
        return bot

    async def answer(self, key: str, timeout: float = REPLY_TIMEOUT) -> dict[str, Any]:
        """The next line of the bot's that holds `key`."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            line = await asyncio.wait_for(self.process.stdout.readline(), max(left, 0.01))
            if not line:
                tail = self.errors.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the bot process ended:\n{tail}")
            record: dict[str, Any] = json.loads(line)
            if key in record:
                return record

    async def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()

    async def ask(self, command: str, key: str) -> dict[str, Any]:
        await self.send(command)
        return await self.answer(key)

    async def stop(self) -> None:
        if self.process.returncode is None:
            await self.send("quit")
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


class Members:
    """Members of the search servers, each used once so the cooldown never applies."""

    def __init__(self, fake: FakeDiscord, servers: list[tuple[int, int]], count: int) -> None:
        self.servers = servers
        self.pool = [
            (guild, channel, fake.add_member(guild, f"member-{i}"))
            for i in range(count)
            for guild, channel in [servers[i % len(servers)]]
        ]

    def take(self, count: int) -> list[tuple[int, int, int]]:
        taken, self.pool = self.pool[:count], self.pool[count:]
        return taken


async def measure_burst(
    db_path: str,
    newest: dt.date,
    searches: int,
    fanout_channels: int,
    progress: Progress,
    profile: Path | None = None,
) -> dict[str, Any]:
    with quiet_logs(), tempfile.TemporaryDirectory(prefix="paperbot-bench-burst-") as scratch:
        async with FakeDiscord() as fake:
            digest_channels = await _subscribe(fake, db_path, fanout_channels)
            return await _measure(
                fake, db_path, newest, searches, digest_channels, progress, Path(scratch), profile
            )


async def _subscribe(fake: FakeDiscord, db_path: str, count: int) -> list[int]:
    """`count` subscribed channels, their post time 12 h away (no catch-up)."""
    channels: list[tuple[int, int]] = []
    guild = 0
    for i in range(count):
        if i % CHANNELS_PER_GUILD == 0:
            guild = fake.add_guild(f"Digest {i // CHANNELS_PER_GUILD + 1}")
        channels.append((guild, fake.add_channel(guild, f"papers-{i}")))
    post_time = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=12)).strftime("%H:%M")
    storage = await open_storage(db_path)
    try:
        chosen = channel_settings(len(channels), load_default_topics())
        for (guild_id, channel_id), settings in zip(channels, chosen, strict=True):
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
    return [channel for _, channel in channels]


async def _measure(
    fake: FakeDiscord,
    db_path: str,
    newest: dt.date,
    searches: int,
    digest_channels: list[int],
    progress: Progress,
    scratch: Path,
    profile: Path | None,
) -> dict[str, Any]:
    servers = []
    for i in range(SERVERS):
        guild = fake.add_guild(f"Readers {i + 1}")
        servers.append((guild, fake.add_channel(guild, "search")))
    during = min(FANOUT_BURST, searches)
    members = Members(fake, servers, searches + during + SERVERS)
    progress(f"burst: starting the bot process ({SERVERS} servers, {len(members.pool)} members)")
    bot = await BotProcess.start(
        db_path, fake, newest, scratch / "bot-stderr.txt", BURST_SEARCH_PROCESSES
    )
    queries = [q.text for q in query_mix() if q.text and q.topic is None and q.since_days is None]
    result: dict[str, Any] = {"burst_searches": searches, "burst_servers": SERVERS}
    try:
        # One search per server first: the vocabulary and caches a first search builds
        # are a start-up cost, not the burst's.
        await _burst(fake, members.take(SERVERS), queries)

        progress(f"burst: {searches} /search at once")
        before = await bot.ask("cpu", "loop_cpu_s")
        if profile is not None:
            await bot.ask("profile on", "profiling")
        timings = await _burst(fake, members.take(searches), queries)
        if profile is not None:
            await bot.ask(f"profile off {profile}", "profile")
        after = await bot.ask("cpu", "loop_cpu_s")
        result.update(_latencies("burst", timings))
        result["burst_loop_cpu_ms_per_search"] = round(
            (after["loop_cpu_s"] - before["loop_cpu_s"]) * 1000 / searches, 2
        )
        result["burst_process_cpu_ms_per_search"] = round(
            (after["process_cpu_s"] - before["process_cpu_s"]) * 1000 / searches, 2
        )

        typing = min(AUTOCOMPLETES, searches)
        progress(f"burst: {typing} /paper autocompletes at once")
        before = await bot.ask("cpu", "loop_cpu_s")
        result.update(await _autocompletes(fake, db_path, servers, typing))
        after = await bot.ask("cpu", "loop_cpu_s")
        result["autocomplete_loop_cpu_ms"] = round(
            (after["loop_cpu_s"] - before["loop_cpu_s"]) * 1000 / typing, 2
        )

        progress(f"burst: {during} searches during a {len(digest_channels)}-channel fan-out")
        result.update(
            await _during_fanout(fake, bot, digest_channels, members.take(during), queries)
        )
    finally:
        await bot.stop()
    errors = (scratch / "bot-stderr.txt").read_text(errors="replace")
    result["burst_bot_stderr_tail"] = errors[-3000:] or None
    result["burst_bot_error_lines"] = sum(
        1 for line in errors.splitlines() if "ERROR" in line or line.startswith("Traceback")
    )
    _verdicts(result)
    return result


async def _burst(
    fake: FakeDiscord, who: list[tuple[int, int, int]], queries: list[str]
) -> dict[str, Any]:
    """Every member in `who` runs one /search at once; (ack, final) seconds of each."""
    records: list[InteractionRecord] = []
    replies = []
    started, cpu = time.monotonic(), time.process_time()
    for i, (guild, channel, user) in enumerate(who):
        reply = await fake.invoke(
            guild, channel, user, "search", {"query": queries[i % len(queries)]}, wait=False
        )
        replies.append(reply)
        records.append(reply.record)
    sent = time.monotonic()
    done = await asyncio.gather(*(r.wait(REPLY_TIMEOUT) for r in replies), return_exceptions=True)
    unanswered = sum(1 for d in done if isinstance(d, BaseException))
    failed = sum(1 for r in replies if r.resolved and not r.embeds)
    return {
        "times": _reply_times(fake, records),
        "unanswered": unanswered,
        "failed": failed,
        "sent_s": sent - started,
        "fake_cpu_s": time.process_time() - cpu,
    }


def _reply_times(
    fake: FakeDiscord, records: list[InteractionRecord]
) -> list[tuple[float, float | None]]:
    """(acknowledged, finally answered) seconds after each interaction was sent, from
    the requests the fake received (their arrival)."""
    callback: dict[str, float] = {}
    final: dict[str, float] = {}
    for request in fake.requests:
        token = request.params.get("token")
        if token is None or not 200 <= request.status < 300:
            continue
        if request.route.startswith("POST /interactions/"):
            callback.setdefault(token, request.timestamp)
        elif request.route.startswith(("PATCH /webhooks/", "POST /webhooks/")):
            final.setdefault(token, request.timestamp)
    times: list[tuple[float, float | None]] = []
    for record in records:
        acked = callback.get(record.token)
        if acked is None:
            continue
        deferred = record.callback_type in (5, 6)
        answered = final.get(record.token) if deferred else acked
        times.append(
            (acked - record.created, None if answered is None else answered - record.created)
        )
    return times


def _latencies(prefix: str, burst: dict[str, Any]) -> dict[str, Any]:
    acks = [a for a, _ in burst["times"]]
    finals = [f for _, f in burst["times"] if f is not None]
    out: dict[str, Any] = {}
    for name, samples in (("ack", acks), ("final", finals)):
        for q in (50, 95, 99):
            out[f"{prefix}_{name}_p{q}_ms"] = ms(percentile(samples, q))
    # Sending N interactions takes the fake a while: the latencies count from each one's
    # own sending, and the fake's CPU (this process) is shown beside the bot's.
    out[f"{prefix}_send_s"] = round(burst["sent_s"], 2)
    out[f"{prefix}_fake_cpu_ms_per_search"] = round(
        burst["fake_cpu_s"] * 1000 / len(burst["times"] or [0]), 2
    )
    out[f"{prefix}_unanswered"] = burst["unanswered"]
    out[f"{prefix}_failed"] = burst["failed"]
    return out


async def _autocompletes(
    fake: FakeDiscord, db_path: str, servers: list[tuple[int, int]], count: int
) -> dict[str, Any]:
    storage = await open_storage(db_path)
    try:
        titles = [title for _, title in await storage.recent_titles(count)]
    finally:
        await storage.close()
    guild, channel = servers[0]
    user = next(iter(fake.state.guilds[guild].members))
    typed = [t[: (3, 8, 15, 30)[i % 4]] for i, t in enumerate(titles)]
    await fake.autocomplete(guild, channel, user, "paper", {"title": "lang"}, focused="title")
    seen = len(fake.interactions.by_id)
    await asyncio.gather(
        *(
            fake.autocomplete(guild, channel, user, "paper", {"title": text}, focused="title")
            for text in typed
        ),
        return_exceptions=True,
    )
    records = list(fake.interactions.by_id.values())[seen:]
    times = [a for a, _ in _reply_times(fake, records)]
    return {
        "autocomplete_burst": len(typed),
        "autocomplete_burst_answered": len(times),
        "autocomplete_burst_p50_ms": ms(percentile(times, 50)),
        "autocomplete_burst_p99_ms": ms(percentile(times, 99)),
    }


async def _during_fanout(
    fake: FakeDiscord,
    bot: BotProcess,
    channels: list[int],
    who: list[tuple[int, int, int]],
    queries: list[str],
) -> dict[str, Any]:
    fake.faults.enable_rate_limits(
        global_per_second=GLOBAL_PER_SECOND, bucket_limit=BUCKET_LIMIT, bucket_window=BUCKET_WINDOW
    )
    try:
        seen = len(fake.requests)
        await bot.ask("fanout " + " ".join(map(str, channels)), "fanout_started")
        first = await fake.wait_for_request(POST_ROUTE, timeout=REPLY_TIMEOUT)
        wait = min(BEFORE_BURST_S, len(channels) / POSTS_PER_S / 3)
        await asyncio.sleep(max(0.0, first[0].timestamp + wait - time.monotonic()))
        burst_start = time.monotonic()
        burst = await _burst(fake, who, queries)
        burst_end = time.monotonic()
        await bot.answer("fanout_done_s")
    finally:
        fake.faults.disable_rate_limits()
    posts = sorted(
        r.timestamp for r in fake.requests[seen:] if r.route == POST_ROUTE and r.status == 200
    )
    first_post = posts[0] if posts else burst_start
    alone = [t for t in posts if t < burst_start]
    during = [t for t in posts if burst_start <= t <= burst_end]
    out = _latencies("fanout_burst", burst)
    out.update(
        {
            "fanout_burst_channels": len(channels),
            "fanout_burst_posted": len(posts),
            "fanout_posts_per_s_before": _rate(len(alone), burst_start - first_post),
            "fanout_posts_per_s_during": _rate(len(during), burst_end - burst_start),
            "fanout_burst_s": round(burst_end - burst_start, 2),
            "fanout_burst_429s": sum(1 for r in fake.requests[seen:] if r.status == 429),
        }
    )
    return out


def _rate(count: int, seconds: float) -> float | None:
    return round(count / seconds, 1) if seconds > 0 else None


def _verdicts(result: dict[str, Any]) -> None:
    """Whether each of the issue's targets is met (only meaningful for N >= 1000)."""

    def under(key: str, limit_s: float) -> str | None:
        value = result.get(key)
        return None if value is None else ("yes" if value <= limit_s * 1000 else "no")

    result["burst_meets_ack_p99"] = under("burst_ack_p99_ms", ACK_P99_S)
    result["burst_meets_final_p99"] = under("burst_final_p99_ms", FINAL_P99_S)
    result["autocomplete_meets_p99"] = under("autocomplete_burst_p99_ms", AUTOCOMPLETE_P99_S)
    during = result.get("fanout_posts_per_s_during")
    result["fanout_burst_meets_floor"] = (
        None if during is None else ("yes" if during >= FANOUT_FLOOR else "no")
    )
