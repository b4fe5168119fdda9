"""A token bucket that spaces out fan-out requests (asyncio only, no Discord)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Pacer:
    """Allows `rate` acquisitions per second on average, in bursts of at most `burst`.

    discord.py already waits out 429s, but every 429 counts toward Discord's
    invalid-request ban; pacing below the 50/s global limit avoids earning them.
    """

    def __init__(
        self, rate: float, burst: int = 5, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)


def process_share(
    rate: float, burst: int, shards_here: int, shard_count: int | None
) -> tuple[float, int]:
    """This process's part of the bot-wide posting budget, as (rate, burst).

    Discord's global limit (50 requests/s) counts per bot token, across every process
    that uses it. A process running `shards_here` of `shard_count` shards gets that
    share of the rate and of the burst (at least 1): 47/s with bursts of 2 on one
    process, 2 × (23.5/s, burst 1) on two, so at most 49 posts in any second. Each
    process's burst adds up to one post a second on top of the shared rate, so with
    many processes (more than 3) short peaks can pass 50/s; discord.py then waits out
    the rare global 429. Unsharded (`shard_count` None): the whole budget.
    """
    if not shard_count or shards_here >= shard_count:
        return rate, burst
    share = shards_here / shard_count
    return rate * share, max(1, int(burst * share))
