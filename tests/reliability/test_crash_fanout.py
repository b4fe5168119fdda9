"""Scenario 2: SIGKILL the real `paperbot run` in the middle of a 200-channel fan-out,
10 trials, then restart it: every channel ends with exactly one digest for the day."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

import pytest

from bot.core.ingest import ingest_bytes
from bot.fakediscord import FakeDiscord
from storage import open_storage
from tests.conftest import SAMPLE_DUMP, TODAY
from tests.reliability.botproc import (
    TOKEN,
    BotProcess,
    digests_per_channel,
    just_passed,
    subscribe_channels,
    wait_until,
)

CHANNELS = 200
TRIALS = 10
PARALLEL = 2  # independent trials (own fake, own bot, own database) side by side
POST_MESSAGE = "POST /channels/{channel_id}/messages"


async def prepare(tmp_path, fake: FakeDiscord) -> tuple[int, list[int]]:
    guild = fake.add_guild("Fan-out")
    channels = [fake.add_channel(guild, f"papers-{i}") for i in range(CHANNELS)]
    storage = await open_storage(tmp_path / "bot.db")
    try:
        report = await ingest_bytes(storage, SAMPLE_DUMP.read_bytes(), "sample.txt", today=TODAY)
        assert report.new == 98
    finally:
        await storage.close()
    await subscribe_channels(tmp_path / "bot.db", guild, channels, just_passed())
    return guild, channels


@dataclass
class TrialResult:
    counts: dict[int, int]
    killed_at: int
    reconciled: int


async def run_trial(tmp_path, trial: int, rng: random.Random) -> TrialResult:
    workdir = tmp_path / f"trial{trial}"
    workdir.mkdir()
    target = rng.randint(5, CHANNELS - 20)
    held = trial % 2 == 1
    async with FakeDiscord(token=TOKEN) as fake:
        _, channels = await prepare(workdir, fake)
        bot = BotProcess(fake, workdir / "bot.db", workdir)
        if held:
            # Odd trials: Discord accepts message N but the bot never hears back.
            fake.faults.hold_response(POST_MESSAGE, skip=target, seconds=60)
        await bot.start()

        def posted() -> int:
            return sum(digests_per_channel(fake, channels).values())

        if held:
            reached = await wait_until(fake.faults.holding.is_set, timeout=60, step=0.005)
        else:
            reached = await wait_until(lambda: posted() >= target, timeout=60, step=0.005)
        await bot.kill()
        assert reached, "fan-out never got going:\n" + bot.log_text()[-3000:]
        killed_at = posted()
        await bot.start()  # restart: the sweep resumes the interrupted fan-out
        done = await wait_until(lambda: posted() >= CHANNELS, timeout=90)
        # Give a would-be duplicate the chance to show up before counting.
        await wait_until(lambda: False, timeout=0.5)
        await bot.stop()
        assert done, f"trial {trial}: only {posted()} of {CHANNELS}\n" + bot.log_text()[-3000:]
        assert fake.payload_problems == []
        restarted_log = bot.logs[-1].read_text(errors="replace")
        return TrialResult(
            digests_per_channel(fake, channels), killed_at, restarted_log.count(": reconciled ")
        )


@pytest.mark.heavy
async def test_sigkill_mid_fanout_posts_each_channel_exactly_once(tmp_path, figures) -> None:
    rng = random.Random(11)
    results: list[TrialResult] = []
    for first in range(0, TRIALS, PARALLEL):
        batch = range(first, min(first + PARALLEL, TRIALS))
        results += await asyncio.gather(*(run_trial(tmp_path, t, rng) for t in batch))
    for result in results:
        figures.trials += 1
        figures.posts_expected += CHANNELS
        figures.posts_seen += sum(result.counts.values())
        figures.duplicates += sum(c - 1 for c in result.counts.values() if c > 1)
        figures.losses += sum(1 for c in result.counts.values() if c == 0)
    for result in results:
        assert set(result.counts.values()) == {1}, {
            k: v for k, v in result.counts.items() if v != 1
        }
    # The kills landed mid fan-out (some channels posted, others not yet), and each
    # message accepted just before a kill was found in history, not posted again.
    kills = [r.killed_at for r in results]
    assert all(0 < k < CHANNELS for k in kills), kills
    assert sum(r.reconciled for r in results) >= TRIALS // 2
    figures.notes.append(f"digests posted when killed: {kills}")
