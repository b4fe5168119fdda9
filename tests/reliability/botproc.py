"""The real `paperbot run` as a subprocess, pointed at a FakeDiscord in the test process."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
from pathlib import Path

from bot.core.subscriptions import ChannelSubscription
from bot.fakediscord import FakeDiscord
from storage import open_storage
from tests.forked_cli import ForkedCommand, start_cli

TOKEN = "reliability-token-0123456789abcdef"


class BotProcess:
    """One `paperbot run` process; start/kill/stop it as often as a scenario needs."""

    def __init__(self, fake: FakeDiscord, db: Path, workdir: Path, **env: str) -> None:
        self.fake, self.db, self.workdir = fake, db, workdir
        self.extra_env = env
        self.proc: ForkedCommand | subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "PAPERBOT"))}
        env.update(
            DISCORD_TOKEN=TOKEN,
            DISCORD_API_BASE=self.fake.api_base,
            DISCORD_GATEWAY_URL=self.fake.gateway_url,
            PAPERBOT_DB=str(self.db),
            DUMPS_DIR=str(self.workdir / "dumps"),
            SWEEP_EVERY_SECONDS="1",
            LOG_LEVEL="INFO",
        )
        env.update(self.extra_env)
        return env

    async def start(self) -> None:
        log = self.workdir / f"bot-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as sink:
            # Forked from a process that has imported paperbot and discord.py
            # (tests/forked_cli.py): a second of CPU less per start.
            self.proc = start_cli(
                ["run"],
                cwd=self.workdir,
                env=self.environment(),
                stdout=sink.fileno(),
                stderr=sink.fileno(),
            )

    async def wait(self) -> int:
        """The exit status, once the process has exited."""
        assert self.proc is not None
        if isinstance(self.proc, ForkedCommand):
            return await self.proc.wait_async()
        return await asyncio.to_thread(self.proc.wait)

    async def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, like a power cut to the process."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            await self.wait()

    async def stop(self) -> int:
        """SIGTERM, then wait: the clean shutdown a process manager does."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return await asyncio.wait_for(self.wait(), 30)
        except TimeoutError:
            await self.kill()
            raise

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs if p.exists())


async def subscribe_channels(
    db: Path, guild_id: int, channel_ids: list[int], post_time: str, timezone: str = "UTC"
) -> None:
    """Subscriptions written straight into the database, as `/digest subscribe` stores them."""
    storage = await open_storage(db)
    try:
        for channel_id in channel_ids:
            await storage.upsert_channel_subscription(
                ChannelSubscription(channel_id, guild_id, post_time, timezone, (), 5)
            )
    finally:
        await storage.close()


def just_passed(minutes: int = 1) -> str:
    """A post time a minute ago (UTC), so the start-up sweep posts every digest at once."""
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
    return moment.strftime("%H:%M")


def digests_per_channel(fake: FakeDiscord, channel_ids: list[int]) -> dict[int, int]:
    counts = {}
    for channel_id in channel_ids:
        messages = fake.channel_messages(channel_id, include_interaction_responses=False)
        counts[channel_id] = sum("paperbot digest" in (m.get("content") or "") for m in messages)
    return counts


async def wait_until(predicate, timeout: float, step: float = 0.05) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return predicate()
