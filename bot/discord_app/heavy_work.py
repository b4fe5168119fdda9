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
from collections import deque
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
        self.at_once = at_once
        self.max_wait = max_wait
        self._slots = asyncio.Semaphore(at_once)
        # In order of arrival, each with the moment Discord stops taking its answer.
        self._unanswered: deque[tuple[Arrived, dt.datetime]] = deque()
        self._prune_at = PRUNE_AT

    def arrived(self, interaction: Arrived) -> None:
        """Note an interaction as it arrives (the client's `dispatch`)."""
        if len(self._unanswered) >= self._prune_at:  # also when no search runs to prune them
            self.waiting_for_answer()
            # Next time at twice what is left: pruning costs O(1) an arrival even when a
            # burst leaves hundreds unanswered.
            self._prune_at = max(PRUNE_AT, 2 * len(self._unanswered))
        self._unanswered.append((interaction, interaction.created_at + ANSWER_WITHIN))

    def waiting_for_answer(self) -> int:
        """Interactions that arrived and are neither answered nor expired."""
        now = dt.datetime.now(dt.UTC)
        self._unanswered = deque(
            (i, expires)
            for i, expires in self._unanswered
            if expires > now and not i.response.is_done()
        )
        return len(self._unanswered)

    def _any_waiting(self) -> bool:
        """Whether any interaction waits for its answer: the answered and expired ones
        are dropped from the front until one waits (answers go out roughly in order of
        arrival, so a poll looks at a few entries, not at every one in a burst)."""
        now = dt.datetime.now(dt.UTC)
        while self._unanswered:
            interaction, expires = self._unanswered[0]
            if expires > now and not interaction.response.is_done():
                return True
            self._unanswered.popleft()
        return False

    async def __aenter__(self) -> None:
        await self._slots.acquire()
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.max_wait
            while self._any_waiting() and loop.time() < deadline:
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
