"""The event loop the bot serves Discord on: uvloop's where it is installed (a
dependency on Linux and macOS), asyncio's own otherwise.

Everything the bot does for an interaction (the gateway event, the defer, the reply)
runs on this loop's one thread; uvloop's loop and transports are written in C, and in
a burst of 1,000 searches the loop's CPU per search was 6-9% lower than on asyncio's
loop (docs/PERFORMANCE.md, "Many members at once"). Nothing in paperbot depends on
which loop runs: without uvloop (Windows, or uninstalled) asyncio's runs the same code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def loop_factory() -> LoopFactory | None:
    """uvloop's loop factory, or None (asyncio's default loop) without uvloop."""
    try:
        import uvloop
    except ImportError:
        return None
    factory: LoopFactory = uvloop.new_event_loop
    return factory


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """ "uvloop" or "asyncio", for the start-up log line."""
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on the loop `loop_factory` picks."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
