"""Expensive replies wait their turn behind acknowledgements.

Discord gives every interaction 3 s to be acknowledged (a defer is enough), while a
search's reply may take seconds of CPU in a burst. Both need the process: the event
loop to read the interactions and send the defers, and CPU (held under the GIL) to work
out the replies. So a search's reply is worked out only

- a few at a time (`at_once`), so acknowledgements and digest posts interleave with
  them instead of queuing behind all of them, and
- once every interaction that has arrived is answered (or `max_wait` has passed, so a
  steady stream of interactions cannot starve replies): during a burst the defers go
  out first, then the replies follow.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from types import TracebackType
from typing import Protocol

ANSWER_WITHIN = dt.timedelta(seconds=3)  # Discord's deadline for an acknowledgement
POLL_SECONDS = 0.01
PRUNE_AT = 256  # noted interactions kept before the answered ones are dropped


class Response(Protocol):
    def is_done(self) -> bool: ...


class Arrived(Protocol):
    """What is read of an interaction (discord.Interaction)."""

    @property
    def created_at(self) -> dt.datetime: ...

    @property
    def response(self) -> Response: ...


class HeavyWork:
    """`async with heavy_work:` around the costly part of a reply, after its defer."""

    def __init__(self, at_once: int = 2, max_wait: float = 2.0) -> None:
        self.max_wait = max_wait
        self._slots = asyncio.Semaphore(at_once)
        self._unanswered: list[Arrived] = []

    def arrived(self, interaction: Arrived) -> None:
        """Note an interaction as it arrives (the client's `dispatch`)."""
        if len(self._unanswered) >= PRUNE_AT:  # also when no search runs to prune them
            self.waiting_for_answer()
        self._unanswered.append(interaction)

    def waiting_for_answer(self) -> int:
        """Interactions that arrived and are neither answered nor expired."""
        oldest = dt.datetime.now(dt.UTC) - ANSWER_WITHIN
        self._unanswered = [
            i for i in self._unanswered if not i.response.is_done() and i.created_at > oldest
        ]
        return len(self._unanswered)

    async def __aenter__(self) -> None:
        await self._slots.acquire()
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.max_wait
            while self.waiting_for_answer() and loop.time() < deadline:
                await asyncio.sleep(POLL_SECONDS)
        except BaseException:
            self._slots.release()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._slots.release()
