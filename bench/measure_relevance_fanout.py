"""`paperbot bench --relevance`: the offline evaluation table (every method beside the
random and keyword-topic baselines, from one run: bot.services.relevance.evaluate), and
the members' DM fan-out with each member's day ranked by their model, beside the same
fan-out without ranking (every paper matching a follow), from the same run.

The fan-out: a day of 500 real papers (the labelled set's, ingested as one HF dump),
members who follow a keyword and liked three papers of an earlier day, every member's
DM due at once, through the real PaperBot against the loopback fake Discord. Posting is
paced at the bot's own rate (MAX_POSTS_PER_SECOND, 47/s): ranking keeps up when the
ranked fan-out posts as fast as the unranked one.

It measures a day like any after the first: every member has had a DM before, so the
bot knows their DM channel (`dm_channels`) and a DM is one request. Each fan-out runs
in a bot process of its own (bench/burst_bot.py: the PaperBot `paperbot run` builds),
as each day's does, and the fake Discord in this one, as Discord is in no bot's
process: the bot's CPU per DM is its process's alone, the fake's is reported apart.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure_bot import quiet_logs
from bench.measure_burst import BotProcess
from bench.stats import Progress
from bot.cli.settings import Settings
from bot.core.feedback import FeedbackSignal
from bot.core.ingest import ingest_bytes
from bot.core.subscriptions import Follow, FollowKind
from bot.discord_app.wiring import make_bot
from bot.fakediscord import FakeDiscord, running_bot
from bot.services.relevance import evaluate
from storage import open_storage

DAY_PAPERS = 500
EARLIER_PAPERS = 300  # an earlier day, the members' likes are drawn from it
LIKES = 3
POSTS_TARGET = 45.0  # the floor for a ranked fan-out
DAY = dt.date(2026, 1, 6)
FANOUT_TIMEOUT_S = 120.0  # beyond the fan-out's own time (0.1 s a DM, ~5x the pacer's)
OPEN_DM = "POST /users/@me/channels"
POST = "POST /channels/{channel_id}/messages"
# Words of the day's titles members follow: each matches some papers, none most.
KEYWORDS = (
    "diffusion", "agent", "video", "reasoning", "robot", "speech", "3D", "retrieval",
    "quantization", "benchmark", "world model", "reward", "multimodal", "code", "math",
)  # fmt: skip


def evaluation_table(progress: Progress) -> dict[str, Any]:
    """The offline evaluation, one seed: its Markdown table and summary."""
    progress("relevance evaluation: every method on the labelled real papers (one seed)")
    started = time.perf_counter()
    report = evaluate.run(log=lambda line: progress(f"  {line}"))
    return {
        "relevance_eval_table": report.table(),
        "relevance_eval_summary": report.summary(),
        "relevance_eval_s": round(time.perf_counter() - started, 1),
    }


def _dump(papers: list[dict[str, Any]]) -> bytes:
    items = [
        {
            "title": p["title"],
            "paper": {
                "id": p["id"],
                "title": p["title"],
                "summary": p["abstract"],
                "authors": [{"name": a} for a in p["authors"]],
                "upvotes": p["upvotes"],
            },
        }
        for p in papers
    ]
    return json.dumps(items).encode()


async def measure_ranked_fanout(members: int, progress: Progress, seed: int = 0) -> dict[str, Any]:
    """DMs to `members` members ranked by their models, and to as many others without
    ranking, all due at once; posts/s of each and their ratio."""
    data = evaluate.load_dataset()
    rng = random.Random(seed)
    papers = rng.sample(data.papers, DAY_PAPERS + EARLIER_PAPERS)
    earlier, today = papers[:EARLIER_PAPERS], papers[EARLIER_PAPERS:]
    with quiet_logs(), tempfile.TemporaryDirectory(prefix="paperbot-bench-rank-") as folder:
        async with FakeDiscord() as fake:
            result = await _measure(fake, Path(folder), earlier, today, members, rng, progress)
    ranked, plain = (result[f"relevance_fanout_{n}_posts_per_s"] for n in ("ranked", "unranked"))
    result["relevance_fanout_ranked_vs_unranked"] = round(ranked / plain, 3) if plain else None
    result["relevance_fanout_ranked_meets_45"] = (
        "yes" if ranked and ranked >= POSTS_TARGET else "no"
    )
    return result


async def _measure(
    fake: FakeDiscord,
    folder: Path,
    earlier: list[dict[str, Any]],
    today: list[dict[str, Any]],
    members: int,
    rng: random.Random,
    progress: Progress,
) -> dict[str, Any]:
    db = str(folder / "rank.db")
    guild = fake.add_guild("Bench readers")
    storage = await open_storage(db)
    users: dict[str, list[int]] = {"ranked": [], "unranked": []}
    try:
        for day, chosen in ((DAY - dt.timedelta(days=1), earlier), (DAY, today)):
            report = await ingest_bytes(storage, _dump(chosen), f"{day}.json", cli_date=day)
            if report.error:
                raise RuntimeError(f"bench ingest failed: {report.error}")
        day_ids = {p.id for p in await storage.papers_on_day(DAY)}
        liked_ids = [pid for pid in await storage.paper_ids() if pid not in day_ids]
        post_time = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=12)).strftime("%H:%M")
        progress(f"ranked fan-out: {2 * members} members with a follow and {LIKES} likes each")
        for index in range(2 * members):
            user = fake.add_member(guild, f"reader-{index}")
            users["ranked" if index % 2 else "unranked"].append(user)
            await storage.add_follow(user, Follow(FollowKind.KEYWORD, rng.choice(KEYWORDS)))
            await storage.set_user_delivery(user, post_time, "UTC")
            for pid in rng.sample(liked_ids, LIKES):
                await storage.record_feedback(user, pid, FeedbackSignal.LIKE, False, guild)
            # Their DM channel, as an earlier day's DM opened and remembered it.
            await storage.remember_dm_channel(user, fake.state.ensure_dm_channel(user).id)
    finally:
        await storage.close()

    config = Settings(token="x", db=db, dumps_dir=folder)
    now = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
    storage = await open_storage(db)
    result: dict[str, Any] = {"relevance_fanout_members": members}
    try:
        bot = make_bot(settings=config, storage=storage, start_scheduler=False, clock=lambda: now)
        async with running_bot(fake, bot):
            relevance = bot.services.relevance
            progress("ranked fan-out: encoding the papers' vectors")
            await relevance.sync_vectors()
            # CPU of ranking alone: every ranked member's day, one after another.
            day_papers = await storage.papers_on_day(DAY)
            started = time.perf_counter()
            for user in users["ranked"]:
                await relevance.rank_member_day(user, day_papers)
            per_member = (time.perf_counter() - started) / members
            result["relevance_rank_ms_per_member"] = round(per_member * 1000, 2)
    finally:
        await storage.close()
    for name in ("unranked", "ranked"):
        # A bot process each: the fan-out builds each model itself, as each day's does.
        progress(f"ranked fan-out: {members} DMs due at once, {name}")
        errors = folder / f"bot-{name}-stderr.txt"
        process = await BotProcess.start(db, fake, now.date(), errors)
        try:
            if name == "unranked":
                await process.ask("unranked", "unranked")
            result.update(await _fanout(fake, process, users[name], name))
        finally:
            await process.stop()
        result[f"relevance_fanout_{name}_bot_errors"] = sum(
            1 for line in errors.read_text(errors="replace").splitlines() if "Traceback" in line
        )
    return result


async def _fanout(
    fake: FakeDiscord, bot: BotProcess, users: list[int], name: str
) -> dict[str, Any]:
    opened = len(fake.requests_matching(OPEN_DM))
    before = await bot.ask("cpu", "process_cpu_s")
    fake_cpu, asked = time.process_time(), time.monotonic()
    await bot.ask("dms " + " ".join(map(str, users)), "fanout_started")
    done = await bot.answer("fanout_done_s", timeout=FANOUT_TIMEOUT_S + len(users) / 10)
    fake_cpu = time.process_time() - fake_cpu
    after = await bot.ask("cpu", "process_cpu_s")
    elapsed = float(done["fanout_done_s"])
    sent = sum(1 for u in users if fake.dm_messages(u))
    posted = sorted(r.timestamp for r in fake.requests_matching(POST) if r.timestamp >= asked)
    bot_cpu = after["process_cpu_s"] - before["process_cpu_s"]
    loop_cpu = after["loop_cpu_s"] - before["loop_cpu_s"]
    # CPU time says what posts/s alone does not on a shared machine: whether one core
    # could keep up with the pacer. The bot's process alone; the fake's apart.
    return {
        f"relevance_fanout_{name}_bot_cpu_ms_per_dm": _per(bot_cpu, sent),
        f"relevance_fanout_{name}_bot_loop_cpu_ms_per_dm": _per(loop_cpu, sent),
        f"relevance_fanout_{name}_fake_cpu_ms_per_dm": _per(fake_cpu, sent),
        f"relevance_fanout_{name}_one_core_posts_per_s": (
            round(sent / bot_cpu, 1) if bot_cpu and sent else None
        ),
        f"relevance_fanout_{name}_dms": sent,
        f"relevance_fanout_{name}_dm_channels_opened": len(fake.requests_matching(OPEN_DM))
        - opened,
        f"relevance_fanout_{name}_s": round(elapsed, 2),
        # Posting starts this long after the fan-out does: every DM's turn comes later.
        f"relevance_fanout_{name}_first_dm_s": round(posted[0] - asked, 2) if posted else None,
        f"relevance_fanout_{name}_posts_per_s": round(sent / elapsed, 1) if elapsed else None,
        f"relevance_fanout_{name}_load_average": round(os.getloadavg()[0], 1),
    }


def _per(seconds: float, count: int) -> float | None:
    return round(1000 * seconds / count, 2) if count else None
