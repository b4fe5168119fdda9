"""Members' rankings asked for at once (a DM fan-out: every member whose DM is due at
the same minute), scored together.

A member's ranking waits for the batch under way, if any, and then goes with everyone
who asked meanwhile: one worker-thread call ranks them all (`rank_many`: the day's
papers against every member's interests in one product), where a call per member paid
the product's fixed cost, and the hop to a thread and back, member by member. Each
member's picks are what ranking them alone gives (tests/test_rank_batches.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Set
from dataclasses import dataclass

from bot.services.relevance import CandidateSet, MemberModel, PaperId, Pick, rank_many
from bot.services.relevance.rank import BATCH, shown_picks

log = logging.getLogger("paperbot.relevance")


@dataclass(frozen=True)
class _Asked:
    candidates: CandidateSet
    model: MemberModel
    lock: asyncio.Lock  # held by a click being applied to the model
    hidden: Set[PaperId]  # the member's muted papers
    explain: int | None  # picks explained in the worker thread (None: all)
    answer: asyncio.Future[list[Pick]]


class RankBatches:
    """Ranks members' models against candidate sets, those asked for meanwhile in one
    worker-thread call (up to `most` members each)."""

    def __init__(self, most: int = BATCH) -> None:
        self.most = most
        self._asked: list[_Asked] = []
        self._worker: asyncio.Task[None] | None = None
        # Batches ranked and the members in them: what the log and /status-like
        # reports tell about how well a fan-out was batched.
        self.batches = 0
        self.members = 0

    async def rank(
        self,
        candidates: CandidateSet,
        model: MemberModel,
        lock: asyncio.Lock,
        hidden: Set[PaperId] = frozenset(),
        explain: int | None = None,
    ) -> list[Pick]:
        """The model's picks among `candidates` (`rank`), those `hidden` left out, the
        first `explain` explained (all with None; the rest when their why is read)."""
        answer: asyncio.Future[list[Pick]] = asyncio.get_running_loop().create_future()
        self._asked.append(_Asked(candidates, model, lock, hidden, explain, answer))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work())
        return await answer

    async def _work(self) -> None:
        try:
            while self._asked:
                taken, self._asked = self._asked[: self.most], self._asked[self.most :]
                await self._rank([a for a in taken if not a.answer.done()])
        finally:
            # Cancelled (the bot is closing): nobody is left waiting for ever.
            for asked in self._asked:
                asked.answer.cancel()
            self._asked = []

    async def _rank(self, taken: list[_Asked]) -> None:
        groups: dict[int, list[_Asked]] = {}
        for asked in taken:
            groups.setdefault(id(asked.candidates), []).append(asked)
        for group in groups.values():
            try:
                async with contextlib.AsyncExitStack() as held:
                    # A click is never read half-applied. One worker takes the locks,
                    # always in the same order: two batches never wait on each other.
                    for lock in sorted({id(a.lock): a.lock for a in group}.items()):
                        await held.enter_async_context(lock[1])
                    ranked = await asyncio.to_thread(_ranked, group)
            except Exception as exc:
                for asked in group:
                    if not asked.answer.done():
                        asked.answer.set_exception(exc)
                continue
            except BaseException:
                for asked in group:
                    asked.answer.cancel()
                raise
            self.batches += 1
            self.members += len(group)
            for asked, picks in zip(group, ranked, strict=True):
                if not asked.answer.done():
                    asked.answer.set_result(picks)
        log.debug("ranked %d members in %d batches so far", self.members, self.batches)


def _ranked(group: list[_Asked]) -> list[list[Pick]]:
    """In a worker thread: the group's picks (one candidate set), as `RankBatches.rank`
    describes."""
    picks = rank_many([a.model for a in group], group[0].candidates)
    return [shown_picks(p, a.hidden, a.explain) for p, a in zip(picks, group, strict=True)]
