"""The console's input: one line at a time from a terminal or a pipe.

Each line is read on a daemon thread. A read blocked on the terminal then never keeps
the process alive: Ctrl-C ends the console at once (a worker thread of asyncio's own
pool would be waited for at exit, until the user pressed Enter).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from typing import TextIO

PROMPT = "paperbot> "


class ConsoleInput:
    """Lines from `stream`; `""` at the end of input (as `readline` does)."""

    def __init__(self, stream: TextIO, buffered: list[str] | None = None) -> None:
        self.stream = stream
        self.interactive = stream.isatty()
        self._buffered = deque(buffered or [])

    def isatty(self) -> bool:
        return self.interactive

    async def readline(self) -> str:
        if self._buffered:
            return self._buffered.popleft()
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str] = loop.create_future()

        def deliver(line: str) -> None:
            if not answer.done():
                answer.set_result(line)

        def read() -> None:
            try:
                line = self._read_blocking()
            except (EOFError, OSError, ValueError):  # ValueError: the stream was closed
                line = ""
            # RuntimeError: the console ended (Ctrl-C) while this read waited.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(deliver, line)

        threading.Thread(target=read, name="console-input", daemon=True).start()
        return await answer

    def _read_blocking(self) -> str:
        if self.interactive:
            return input(PROMPT) + "\n"  # input() gives line editing and history
        return self.stream.readline()


def is_command(line: str) -> bool:
    """A line the console would act on (not blank, not a # comment)."""
    text = line.strip()
    return bool(text) and not text.startswith("#")


async def commands_to_read(stream: TextIO | None) -> ConsoleInput | None:
    """The input for a console, or None when there is nothing to read: no stdin, or a
    stdin that is not a terminal and ends before any command (/dev/null under a
    service manager). Lines read to find out are kept for the console."""
    if stream is None:
        return None
    reader = ConsoleInput(stream)
    if reader.interactive:
        return reader
    seen: list[str] = []
    while True:
        line = await reader.readline()
        if not line:
            return None
        seen.append(line)
        if is_command(line):
            return ConsoleInput(stream, buffered=seen)
