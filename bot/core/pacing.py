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
