"""CPU work of a request (explaining a search's hits, rendering its reply) off the event
loop, in a small pool of threads shared by every such request.

The event loop answers every interaction: each millisecond it spends computing delays
every acknowledgement queued behind it, and a burst of searches queues many. Bounded,
because this work holds the GIL: more threads would only take turns, and the event
loop would wait behind more of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

THREADS = 2
_pool = ThreadPoolExecutor(THREADS, thread_name_prefix="paperbot-cpu")


async def off_loop(work: Callable[[], T]) -> T:
    """`work()` in the pool; its result (or exception) back on the event loop."""
    return await asyncio.get_running_loop().run_in_executor(_pool, work)
