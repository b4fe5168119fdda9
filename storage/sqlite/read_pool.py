"""Reads that decode what they read, off the event loop.

Loading papers is a few quick SELECTs and then the slow part: turning the rows into
StoredPaper objects (JSON columns, dates, topics). On the event loop thread that
decoding is what a burst of searches queues behind (about 3 ms for a page of fifty), so
the whole read, SQL and decoding, runs in one of a few worker threads instead. Each
thread has its own read-only connection (a sqlite3 connection serves one thread at a
time) and reads in one transaction, so the rows are one snapshot of the database even
while an ingest commits.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

THREADS = 2  # decoding holds the GIL: more threads would only take turns
BUSY_MS = 10_000


class ReadPool:
    def __init__(self, path: str, threads: int = THREADS) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="paperbot-read")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._closed = False

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # Closed from another thread, so not tied to this one; only ever used here.
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA query_only = ON")
            conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
            with self._lock:
                self._connections.append(conn)
            self._local.conn = conn
        return conn

    def _read(self, read: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._connection()
        conn.execute("BEGIN")
        try:
            return read(conn)
        finally:
            conn.execute("COMMIT")

    async def run(self, read: Callable[[sqlite3.Connection], T]) -> T:
        """`read(connection)` in a worker thread, inside one read transaction."""
        if self._closed:
            raise RuntimeError("the storage is closed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._read, read)

    def close(self) -> None:
        """Wait for running reads, then close every thread's connection."""
        self._closed = True
        self._executor.shutdown(wait=True)
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
