"""Scenario 6 (part): the token never reaches a log line, even at DEBUG, `.env` is never
committed, and nothing the bot posts from a dump can mention anyone."""

from __future__ import annotations

import datetime as dt
import fnmatch
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.core.ingest import ingest_bytes
from bot.fakediscord import FakeDiscord
from storage import open_storage
from tests.conftest import TODAY
from tests.reliability.botproc import (
    TOKEN,
    BotProcess,
    digests_per_channel,
    just_passed,
    subscribe_channels,
    wait_until,
)

REPO = Path(__file__).resolve().parents[2]
HOSTILE = (
    "new\n\nSubscribe\n\nMar 20\n\n"
    "@everyone @here <@&123> <@456> urgent: read this\n\n"
    "We propose a method. It works well on benchmarks. Code is released.\n\n"
    "**Bold** [phish](https://evil.example) `code` ||spoiler||\n\n"
    "A second abstract sentence. And another sentence follows here.\n"
)


async def delivered(
    db: Path, channels: list[int], day: dt.date
) -> dict[int, tuple[str, int | None] | None]:
    """Each channel's ledger entry for ``day``: (status, message id), or None."""
    storage = await open_storage(db)
    try:
        records = {c: await storage.delivery(f"channel:{c}", day) for c in channels}
    finally:
        await storage.close()
    return {c: r and (r.status, r.message_id) for c, r in records.items()}


@pytest.mark.heavy
async def test_token_is_never_logged_and_posts_mention_nobody(tmp_path, figures) -> None:
    async with FakeDiscord(token=TOKEN) as fake:
        guild = fake.add_guild("Secrets")
        channels = [fake.add_channel(guild, f"c{i}") for i in range(3)]
        storage = await open_storage(tmp_path / "bot.db")
        try:
            report = await ingest_bytes(storage, HOSTILE.encode(), "2026-03-20.txt", today=TODAY)
            assert report.new == 2
        finally:
            await storage.close()
        await subscribe_channels(tmp_path / "bot.db", guild, channels, just_passed())
        bot = BotProcess(fake, tmp_path / "bot.db", tmp_path, LOG_LEVEL="DEBUG")
        await bot.start()
        # Every channel, not a total of 3 that a 2/1/0 split would also make.
        posted = await wait_until(
            lambda: all(digests_per_channel(fake, channels).values()), timeout=60
        )
        await fake.drop_gateway()  # reconnect + RESUME traffic in the log as well
        await wait_until(lambda: fake.stats["resume"] >= 1, timeout=30)
        await bot.stop()
        logs = bot.log_text()
        counts = digests_per_channel(fake, channels)
        ledger = await delivered(tmp_path / "bot.db", channels, report.day)
    figures.trials = 1
    figures.posts_expected = len(channels)
    figures.posts_seen = sum(counts.values())
    figures.duplicates = sum(c - 1 for c in counts.values() if c > 1)
    figures.losses = sum(1 for c in counts.values() if c == 0)
    assert posted, logs[-2000:]
    assert counts == dict.fromkeys(channels, 1), counts
    # The bot recorded each as sent, with the message the channel holds.
    for channel in channels:
        [message] = fake.channel_messages(channel, include_interaction_responses=False)
        assert ledger[channel] == ("sent", int(message["id"])), (channel, ledger)
    assert "DEBUG" in logs and len(logs) > 5000  # the log really was verbose
    assert TOKEN not in logs
    assert TOKEN[:12] not in logs  # not even a prefix of it
    bodies = [r.json for r in fake.requests if r.method in ("POST", "PATCH") and r.json]
    message_bodies = [b for b in bodies if "content" in b or "embeds" in b]
    assert len(message_bodies) >= 3
    assert all(b.get("allowed_mentions") == {"parse": []} for b in message_bodies)


def test_dot_env_is_ignored_by_git(tmp_path) -> None:
    patterns = [
        line.strip()
        for line in (REPO / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert any(fnmatch.fnmatch(".env", p.lstrip("/")) for p in patterns)
    if shutil.which("git") and (REPO / ".git").exists():
        probe = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=REPO, capture_output=True)
        assert probe.returncode == 0, ".env would be committed"
        tracked = subprocess.run(
            ["git", "ls-files", "--error-unmatch", ".env"], cwd=REPO, capture_output=True
        )
        assert tracked.returncode != 0, ".env is tracked"
