"""An arXiv snapshot import announces nothing: a real PaperBot (discord.py against the
fake Discord, APScheduler, SQLite) with a channel digest that starts a thread per
paper and a member following a keyword posts no digest, no DM and no thread for papers
imported with today's and yesterday's dates, though /search finds them. A daily dump
of the next day is then posted as usual: the digest and DM were live all along."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.ingest import ingest_bytes
from bot.core.snapshot import SnapshotFilter
from bot.services.snapshot_import import import_snapshot
from tests.discord_harness import Clock, bot_against_fake

DATA = Path(__file__).resolve().parent / "data" / "snapshot"
BERLIN = ZoneInfo("Europe/Berlin")
TODAY = dt.date(2026, 3, 15)  # the harness clock: 2026-03-15 12:00 UTC
LOADED = 30.0  # seconds a reply may take on a loaded CI machine (the harness default is 10)


def redated_snapshot(tmp_path: Path) -> Path:
    """The first real snapshot records, first announced today and yesterday."""
    lines = (DATA / "snapshot_first100.jsonl").read_text(encoding="utf-8").splitlines()
    out = []
    for n, line in enumerate(lines[:40]):
        record = json.loads(line)
        created = "Sun, 15 Mar 2026 09:00:00 GMT" if n % 2 else "Sat, 14 Mar 2026 18:00:00 GMT"
        record["versions"] = [{"version": "v1", "created": created}]
        out.append(json.dumps(record))
    path = tmp_path / "snapshot.jsonl"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


async def test_imported_papers_post_no_digest_dm_or_thread(tmp_path) -> None:
    clock = Clock()
    async with bot_against_fake(
        tmp_path,
        extensions=("cogs.digest", "cogs.follow", "cogs.search"),
        ingest_sample=False,
        clock=clock,
        scheduler=True,
    ) as (fake, bot, ids):
        reply = await fake.invoke(
            ids.guild,
            ids.channel,
            ids.admin,
            "digest subscribe",
            {"channel": ids.channel, "time": "08:00", "timezone": "UTC", "thread": "paper"},
            timeout=LOADED,
        )
        assert reply.content.startswith("📬"), reply.content
        followed = await fake.invoke_dm(ids.user, "follow", {"keyword": "graph"}, timeout=LOADED)
        assert followed.content.startswith("✅"), followed.content

        result = await import_snapshot(
            bot.storage, redated_snapshot(tmp_path), SnapshotFilter(), workers=0
        )
        assert result.counts.imported == 40

        channel, user = f"channel:{ids.channel}", f"user:{ids.user}"
        for day in (TODAY, TODAY + dt.timedelta(days=1)):
            morning = dt.datetime.combine(day, dt.time(8, 0), tzinfo=dt.UTC)
            clock.now = morning
            await bot.services.schedules.fire(channel, morning)
            await bot.services.schedules.fire(user, morning)
            await bot.services.schedules.sweep(morning + dt.timedelta(minutes=5))
        assert fake.channel_messages(ids.channel, include_interaction_responses=False) == []
        assert fake.dm_messages(ids.user) == []
        assert fake.threads(ids.channel) == []

        # Searchable all the same.
        found = await fake.invoke(
            ids.guild, ids.channel, ids.user, "search", {"query": "graph"}, timeout=LOADED
        )
        assert "Sparsity-certifying Graph Decompositions" in json.dumps(found.messages)

        # A daily dump the next day is announced: digest, thread and DM.
        day = TODAY + dt.timedelta(days=1)
        items = [
            {"paper": {"title": "Graph neural networks at scale", "summary": "A graph study."}}
        ]
        report = await ingest_bytes(
            bot.storage, json.dumps(items).encode(), f"{day}.json", cli_date=day, today=day
        )
        assert report.new == 1
        morning = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(8, 0), tzinfo=dt.UTC)
        clock.now = morning
        await bot.services.schedules.fire(channel, morning)
        await bot.services.schedules.fire(user, morning)
        assert len(fake.channel_messages(ids.channel, include_interaction_responses=False)) >= 1
        assert len(fake.dm_messages(ids.user)) == 1
