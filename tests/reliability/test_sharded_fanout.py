"""Scenario: a sharded bot in two real `paperbot run` processes (SHARD_COUNT=4, shards
0,1 and 2,3) sharing one PostgreSQL database, against the fake Discord with realistic
rate limits (50 requests/s global, 5 per 5 s per channel). 1,000 channels across 50
guilds spread over the 4 shards, all due at once:

1. both processes alive: every channel gets exactly one digest, and each process posts
   only to channels of guilds on its own shards; 10 members due at the same time (whom
   both processes schedule) each get exactly one DM;
2. one process SIGKILLed mid fan-out: the survivor sees its heartbeat stop, takes over
   the dead shards' remaining channels (reconciling the dead process's in-flight claims
   against channel history) and finishes within the claim timeout plus the time the
   remaining posts take at its paced rate, still exactly once.

They need PostgreSQL: PAPERBOT_TEST_DATABASE_URL names a database the test may create
schemas in (`bash .ci/postgres` starts one); each test runs in a fresh schema
(`?search_path=`). Without a reachable server they fail: they are never skipped.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.cli.settings import Settings
from bot.core.ingest import ingest_bytes
from bot.core.pacing import process_share
from bot.core.subscriptions import ChannelSubscription, Follow
from bot.fakediscord import FakeDiscord
from storage import open_storage
from tests.conftest import SAMPLE_DUMP, TODAY
from tests.reliability.botproc import (
    TOKEN,
    BotProcess,
    digests_per_channel,
    just_passed,
    wait_until,
)

SHARD_COUNT = 4
PROCESS_SHARDS = ("0,1", "2,3")
GUILDS = 50
CHANNELS_PER_GUILD = 20
CHANNELS = GUILDS * CHANNELS_PER_GUILD
POST_MESSAGE = "POST /channels/{channel_id}/messages"
DIGEST = "paperbot digest"
DONE_LINE = re.compile(r"channel (\d+): (sent|reconciled) ")
# What one process of two may post per second (see bot.core.pacing.process_share).
PACED_RATE, _ = process_share(Settings().max_posts_per_second, 2, 2, SHARD_COUNT)


def guild_id(index: int) -> int:
    """Snowflake-shaped guild ids; consecutive ones land on consecutive shards."""
    return ((1_000_000 + index) << 22) | 1


def shard_of_guild(gid: int) -> int:
    return (gid >> 22) % SHARD_COUNT


@pytest.fixture
def pg_url(postgres_schema: str) -> str:
    """A fresh, empty schema in the test database, as a DATABASE_URL (conftest's
    fixture: it fails, never skips, when PostgreSQL is unreachable)."""
    return postgres_schema


async def prepare(
    url: str, fake: FakeDiscord, members: int = 0
) -> tuple[dict[int, int], list[int]]:
    """The 50 guilds and 1,000 channels in Discord and the database, the sample dump
    ingested, every channel (and `members` members, one per guild, following a keyword)
    due a minute ago. Returns ({channel id: guild id}, member ids)."""
    fake.faults.enable_rate_limits(global_per_second=50, bucket_limit=5, bucket_window=5.0)
    guild_of: dict[int, int] = {}
    users = []
    for index in range(GUILDS):
        gid = fake.add_guild(f"Lab {index}", guild_id=guild_id(index))
        for n in range(CHANNELS_PER_GUILD):
            guild_of[fake.add_channel(gid, f"papers-{n}")] = gid
        if index < members:
            users.append(fake.add_member(gid, f"reader-{index}"))
    assert len({shard_of_guild(g) for g in guild_of.values()}) == SHARD_COUNT
    storage = await open_storage(url)
    try:
        report = await ingest_bytes(storage, SAMPLE_DUMP.read_bytes(), "sample.txt", today=TODAY)
        assert report.new == 98
        post_time = just_passed()
        for channel_id, gid in guild_of.items():
            await storage.upsert_channel_subscription(
                ChannelSubscription(channel_id, gid, post_time, "UTC", (), 5)
            )
        for user in users:
            await storage.add_follow(user, Follow("keyword", "language"))
            await storage.set_user_delivery(user, post_time, "UTC")
    finally:
        await storage.close()
    return guild_of, users


def processes(fake: FakeDiscord, url: str, tmp_path: Path, **env: str) -> list[BotProcess]:
    bots = []
    for shards in PROCESS_SHARDS:
        workdir = tmp_path / f"shards-{shards.replace(',', '-')}"
        workdir.mkdir()
        bots.append(
            BotProcess(
                fake,
                url,  # a URL where the single-process tests use a path
                workdir,
                DATABASE_URL=url,
                SHARD_COUNT=str(SHARD_COUNT),
                SHARD_IDS=shards,
                **env,
            )
        )
    return bots


def accepted_posts(fake: FakeDiscord) -> int:
    """Digests Discord accepted so far (cheap enough to poll); a held response counts:
    its message is stored, only the answer to the bot is late."""
    held = {id(r) for r in fake.faults.held}
    return sum(
        1 for r in fake.requests if r.route == POST_MESSAGE and (r.status == 200 or id(r) in held)
    )


def busiest_second(fake: FakeDiscord) -> int:
    """The most message posts Discord saw in any one-second window (all processes)."""
    stamps = sorted(r.timestamp for r in fake.requests if r.route == POST_MESSAGE)
    best, first = 0, 0
    for last, stamp in enumerate(stamps):
        while stamp - stamps[first] >= 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


def delivered_by(bot: BotProcess) -> dict[int, str]:
    """{channel id: 'sent' or 'reconciled'} from the process's own log."""
    return {int(m.group(1)): m.group(2) for m in DONE_LINE.finditer(bot.log_text())}


def tally(figures, counts: dict[int, int]) -> None:
    figures.trials += 1
    figures.posts_expected += CHANNELS
    figures.posts_seen += sum(counts.values())
    figures.duplicates += sum(c - 1 for c in counts.values() if c > 1)
    figures.losses += sum(1 for c in counts.values() if c == 0)


def off_by_one(counts: dict[int, int]) -> dict[int, int]:
    return {k: v for k, v in counts.items() if v != 1}


@pytest.mark.heavy
async def test_two_processes_post_each_channel_exactly_once_on_their_own_shards(
    tmp_path, pg_url, figures
) -> None:
    # Few: opening a DM is one rate-limit bucket for the whole bot (5 per 5 s here).
    members = 10
    async with FakeDiscord(token=TOKEN) as fake:
        guild_of, users = await prepare(pg_url, fake, members)
        channels = list(guild_of)
        # A claim timeout shorter than the fan-out: after it, each process checks the
        # other's heartbeat (alive, so no takeover) on every sweep.
        bots = processes(fake, pg_url, tmp_path, CLAIM_TIMEOUT_SECONDS="8")
        started = time.monotonic()
        await asyncio.gather(*(bot.start() for bot in bots))
        try:
            total = CHANNELS + members
            done = await wait_until(lambda: accepted_posts(fake) >= total, 55, step=0.1)
            elapsed = time.monotonic() - started
            await asyncio.sleep(1.5)  # let a would-be duplicate show up before counting
        finally:
            codes = await asyncio.gather(*(bot.stop() for bot in bots))
        logs = "\n".join(bot.log_text()[-2000:] for bot in bots)
        assert done, f"only {accepted_posts(fake)} of {total} posted\n{logs}"
        assert codes == [0, 0], logs
        counts = digests_per_channel(fake, channels)
        tally(figures, counts)
        assert off_by_one(counts) == {}
        assert fake.payload_problems == []
        # Every member is scheduled in both processes; the leased claim lets one DM go.
        dms = {
            u: sum(DIGEST in (m.get("content") or "") for m in fake.dm_messages(u)) for u in users
        }
        figures.posts_expected += members
        figures.posts_seen += sum(dms.values())
        figures.duplicates += sum(c - 1 for c in dms.values() if c > 1)
        figures.losses += sum(1 for c in dms.values() if c == 0)
        assert off_by_one(dms) == {}
        held = sum(bot.log_text().count(": held ") for bot in bots)

        # Each process posted only to guilds on its own shards, and together to all.
        by_process = [delivered_by(bot) for bot in bots]
        for shards, delivered in zip(PROCESS_SHARDS, by_process, strict=True):
            own = {int(s) for s in shards.split(",")}
            foreign = {c for c in delivered if shard_of_guild(guild_of[c]) not in own}
            assert foreign == set(), f"shards {shards} posted to {len(foreign)} foreign channels"
        assert set(by_process[0]) | set(by_process[1]) == set(channels)
        assert not set(by_process[0]) & set(by_process[1])
        assert "look dead" not in "".join(bot.log_text() for bot in bots)
        # Both processes ran AutoShardedBot over their own shards of four.
        identified = {e["shard"] for e in fake.gateway_log if e["event"] == "identify"}
        assert identified == {(shard, SHARD_COUNT) for shard in range(SHARD_COUNT)}
        figures.notes.append(
            f"{CHANNELS} channels + {members} DMs in {elapsed:.1f}s; channels per process "
            f"{[len(d) for d in by_process]}; DM claims held by the other process {held}; "
            f"busiest second {busiest_second(fake)} posts; 429s global "
            f"{fake.stats['rate_limited_global']}, per route {fake.stats['rate_limited']}"
        )


@pytest.mark.heavy
async def test_sigkill_one_process_the_other_finishes_exactly_once(
    tmp_path, pg_url, figures
) -> None:
    claim_timeout = 5
    async with FakeDiscord(token=TOKEN) as fake:
        guild_of, _ = await prepare(pg_url, fake)
        channels = list(guild_of)
        bots = processes(fake, pg_url, tmp_path, CLAIM_TIMEOUT_SECONDS=str(claim_timeout))
        # Halfway through, Discord accepts a digest but its answer never comes back: the
        # process that sent it is the one killed, so the survivor must find that digest
        # in the channel's history instead of posting it again.
        fake.faults.hold_response(POST_MESSAGE, skip=CHANNELS // 2, seconds=60)
        await asyncio.gather(*(bot.start() for bot in bots))
        victim = survivor = bots[0]
        try:
            reached = await wait_until(fake.faults.holding.is_set, 40, step=0.005)
            assert reached, "fan-out never got going:\n" + bots[0].log_text()[-3000:]
            held = int(fake.faults.held[0].params["channel_id"])
            shard = shard_of_guild(guild_of[held])
            owner = next(i for i, s in enumerate(PROCESS_SHARDS) if str(shard) in s.split(","))
            victim, survivor = bots[owner], bots[1 - owner]
            await victim.kill()
            killed_at = time.monotonic()
            posted_at_kill = accepted_posts(fake)
            done = await wait_until(lambda: accepted_posts(fake) >= CHANNELS, 50, step=0.1)
            took = time.monotonic() - killed_at
            await asyncio.sleep(1.5)  # let a would-be duplicate show up before counting
        finally:
            await victim.kill()
            await survivor.stop()
        log = survivor.log_text()
        assert done, f"only {accepted_posts(fake)} of {CHANNELS} posted\n{log[-3000:]}"
        counts = digests_per_channel(fake, channels)
        tally(figures, counts)
        assert off_by_one(counts) == {}
        assert fake.payload_problems == []

        # The survivor saw the victim's heartbeat stop and took its shards' rest over,
        # reconciling the digest that was accepted just before the kill.
        assert "look dead" in log
        delivered = delivered_by(survivor)
        assert delivered.get(held) == "reconciled", delivered.get(held)
        victim_shards = {int(s) for s in PROCESS_SHARDS[owner].split(",")}
        taken = {c for c in delivered if shard_of_guild(guild_of[c]) in victim_shards}
        assert len(taken) >= CHANNELS // 10, len(taken)
        # Done within the claim timeout plus the time the remaining posts take at the
        # survivor's paced rate (its half of the global budget), plus slack.
        remaining = CHANNELS - posted_at_kill
        budget = claim_timeout + remaining / PACED_RATE + 10
        assert took <= budget, (took, budget)
        reconciled = sum(1 for how in delivered.values() if how == "reconciled")
        first_taken = min(
            r.timestamp
            for r in fake.requests
            if r.route == POST_MESSAGE
            and r.timestamp > killed_at
            and shard_of_guild(guild_of[int(r.params["channel_id"])]) in victim_shards
        )
        # The rescue starts once the victim's heartbeat is a claim timeout old (plus a
        # takeover tick and the heartbeat's one-second resolution), not after our own work.
        assert first_taken - killed_at <= claim_timeout + 5, first_taken - killed_at
        per_shard = Counter(shard_of_guild(guild_of[c]) for c in taken)
        figures.notes.append(
            f"killed shards {PROCESS_SHARDS[owner]} after {posted_at_kill} posts; survivor "
            f"finished {took:.1f}s later (budget {budget:.1f}s, claim timeout "
            f"{claim_timeout}s); first takeover post {first_taken - killed_at:.1f}s after "
            f"the kill; took over {len(taken)} channels "
            f"{dict(sorted(per_shard.items()))}, reconciled {reconciled}"
        )
