"""bot/discord_app/heavy_work.py: a burst's acknowledgements go out before the replies
are worked out, and only a few replies are worked out at once."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field

from bot.discord_app.heavy_work import PRUNE_AT, HeavyWork


@dataclass
class Answer:
    done: bool = False

    def is_done(self) -> bool:
        return self.done


@dataclass
class Arrival:
    """What HeavyWork reads of a discord.Interaction."""

    response: Answer = field(default_factory=Answer)
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


async def test_replies_wait_until_every_arrived_interaction_is_answered() -> None:
    heavy = HeavyWork(at_once=2, max_wait=30)
    arrivals = [Arrival() for _ in range(3)]
    for arrival in arrivals:
        heavy.arrived(arrival)
    worked: list[int] = []

    async def reply(n: int) -> None:
        async with heavy:
            worked.append(n)

    replies = asyncio.gather(reply(1), reply(2))
    await asyncio.sleep(0.05)
    assert worked == [] and heavy.waiting_for_answer() == 3
    for arrival in arrivals[:2]:
        arrival.response.done = True
    await asyncio.sleep(0.05)
    assert worked == []  # one still waits for its defer
    arrivals[2].response.done = True
    await asyncio.wait_for(replies, 5)
    assert sorted(worked) == [1, 2]


async def test_an_expired_interaction_or_the_longest_wait_lets_replies_go() -> None:
    heavy = HeavyWork(max_wait=30)
    heavy.arrived(Arrival(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=4)))
    async with heavy:  # expired: Discord will never take its answer, nobody waits for it
        pass
    impatient = HeavyWork(max_wait=0.05)
    impatient.arrived(Arrival())  # never answered
    await asyncio.wait_for(impatient.__aenter__(), 5)
    await impatient.__aexit__(None, None, None)


async def test_only_a_few_replies_are_worked_out_at_once() -> None:
    heavy = HeavyWork(at_once=2)
    running = most = 0

    async def reply() -> None:
        nonlocal running, most
        async with heavy:
            running += 1
            most = max(most, running)
            await asyncio.sleep(0.01)
            running -= 1

    await asyncio.gather(*(reply() for _ in range(10)))
    assert most == 2


def test_answered_interactions_are_not_kept() -> None:
    heavy = HeavyWork()
    for _ in range(1000):
        heavy.arrived(Arrival(response=Answer(done=True)))
    # Pruned as they arrive, not only when a reply waits: a bot nobody searches keeps
    # no interaction it has answered.
    assert len(heavy._unanswered) <= PRUNE_AT
    assert heavy.waiting_for_answer() == 0


async def test_a_burst_larger_than_the_pruning_mark_is_waited_for_whole() -> None:
    heavy = HeavyWork(max_wait=30)
    burst = [Arrival() for _ in range(3 * PRUNE_AT)]
    for arrival in burst:
        heavy.arrived(arrival)
    assert heavy.waiting_for_answer() == len(burst)
    worked: list[int] = []

    async def reply() -> None:
        async with heavy:
            worked.append(1)

    waiting = asyncio.ensure_future(reply())
    # Answered out of order: the last one still unanswered holds the reply back.
    for arrival in reversed(burst[1:]):
        arrival.response.done = True
    await asyncio.sleep(0.05)
    assert worked == [] and heavy.waiting_for_answer() == 1
    burst[0].response.done = True
    await asyncio.wait_for(waiting, 5)
    assert worked == [1] and heavy.waiting_for_answer() == 0
