"""Searches worked out in worker processes, beside the event loop.

A search costs milliseconds of CPU (the engine lookup, ranking, decoding the shown
papers, explaining the first page). In threads that CPU holds the GIL: it takes turns
with the event loop, which acknowledges every interaction and posts digests, so a burst
of searches delays all of them. In a few processes of their own, searches run on the
other cores.

Each worker opens its own storage (its own connections, its own view of the search
index, which follows the index's commits as any process sharing the database does) and
its own SearchService, built by `open_service` (the composition root's): the same code
over the same data, so the replies are the ones this process would give. The
relevance statistics a worker weighs meaning by are read again whenever this process's
change (after an ingest).

A worker that dies (killed, out of memory) breaks the pool: the searches that were
waiting on it run in this process instead, and a new pool is started for the next.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.util
import os
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from bot.core.models import SearchResponse
from bot.services.search import SearchService

log = logging.getLogger("paperbot.search")
T = TypeVar("T")

Close = Callable[[], Awaitable[None]]
# A database -> a SearchService over a storage of its own, and what closes that storage.
OpenService = Callable[[str], Awaitable[tuple[SearchService, Close]]]
# Pools broken one after another without a search answered: the workers cannot start
# (the database cannot be opened there, say), so searches stay in this process.
GIVE_UP_AFTER = 3
WORKER_NICENESS = 5  # added to the workers' nice value
# What a worker gets to finish the search it is running when the pool is closed.
STOP_GRACE_SECONDS = 5.0


class SearchProcesses:
    """`processes` workers, each with the SearchService `open_service(database)` builds.
    Started on the first search; `close()` stops them."""

    def __init__(self, open_service: OpenService, database: str, processes: int = 2) -> None:
        self.open_service = open_service
        self.database = database
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False
        self._broken = 0  # pools broken since a worker last answered
        self._retired: list[ProcessPoolExecutor] = []  # broken: their workers are ended

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # Spawned, not forked: this process runs threads (readers, the client's),
            # whose locks a fork could copy while held.
            self._pool = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.open_service, self.database),
            )
        return self._pool

    async def search(
        self, text: str | None, options: dict[str, Any], stats_version: int
    ) -> SearchResponse | None:
        """The response a worker worked out; None when no worker could (the pool broke,
        or it is closed): then the caller searches itself."""
        return await self._run(_search, text, options, stats_version)

    async def title_choices(self, text: str, limit: int) -> list[tuple[int, str]] | None:
        """Autocomplete's titles for `text`, from a worker; None as for `search`."""
        return await self._run(_title_choices, text, limit)

    async def _run(self, work: Callable[..., T], *args: Any) -> T | None:
        if self._closed or self._broken >= GIVE_UP_AFTER:
            return None
        pool = self._executor()
        loop = asyncio.get_running_loop()
        try:
            found = await loop.run_in_executor(pool, work, *args)
        except BrokenProcessPool:
            if self._pool is pool:
                self._pool = None
                self._retired.append(pool)
                self._broken += 1
                if self._broken >= GIVE_UP_AFTER:
                    log.error("search worker processes keep dying; searching in-process")
                else:
                    log.warning("a search worker process died; starting new ones")
            return None
        self._broken = 0
        return found

    async def close(self) -> None:
        """Stop the workers: those still running a search get STOP_GRACE_SECONDS to
        finish it, then every worker left is killed."""
        self._closed = True
        pools = [*self._retired, *([self._pool] if self._pool is not None else [])]
        self._pool, self._retired = None, []
        for pool in pools:
            await asyncio.to_thread(_stop_pool, pool)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    # `shutdown(wait=True)` alone can wait forever. When a worker dies while a search is
    # being submitted, CPython (3.11) may start a replacement worker after its broken
    # pool has terminated the others, and then waits for that one to exit, which it
    # never does. So the workers are waited for with a deadline and then killed. The
    # pool's process list and thread are private; without them, nothing is waited for.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            log.warning("a search worker process did not stop; killing it")
            process.kill()
            process.join()
    if manager is not None:  # the pool's thread ends once its workers have
        manager.join(STOP_GRACE_SECONDS)


# -- in the worker process ----------------------------------------------------------------


class _Worker:
    def __init__(self, loop: asyncio.AbstractEventLoop, service: SearchService) -> None:
        self.loop = loop
        self.service = service
        self.stats_version: int | None = None


_worker: _Worker | None = None


def _start_worker(open_service: OpenService, database: str) -> None:
    global _worker
    # Below the bot's own process: when the cores are busy, acknowledgements and digest
    # posts (the event loop's work) go before the searches' CPU.
    os.nice(WORKER_NICENESS)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    service, close = loop.run_until_complete(open_service(database))
    _worker = _Worker(loop, service)

    def stop() -> None:
        # The storage's threads would keep the process from exiting.
        loop.run_until_complete(close())
        loop.close()

    # Run as the worker process exits, before it waits for its threads.
    multiprocessing.util.Finalize(_worker, stop, exitpriority=10)


def _search(text: str | None, options: dict[str, Any], stats_version: int) -> SearchResponse:
    assert _worker is not None, "not a search worker process"
    service = _worker.service
    if stats_version != _worker.stats_version and service.meaning is not None:
        service.meaning.forget_stats()
        _worker.stats_version = stats_version
    return _worker.loop.run_until_complete(service.search(text, **options))


def _title_choices(text: str, limit: int) -> list[tuple[int, str]]:
    assert _worker is not None, "not a search worker process"
    return _worker.loop.run_until_complete(_worker.service.title_choices(text, limit))
