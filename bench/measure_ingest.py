"""Ingest throughput through the product's real ingest (`ingest_bytes`, one dump a day).

Only the `ingest_bytes` calls and the search-index catch-up are timed: generating the
synthetic pages is not. The parse, dedupe, topic tagging, the transaction and the
index all are.

Years of dumps are a bulk import, so they go in the way `ingest_paths` (`paperbot
ingest <folder>`) takes them: every dump in its own transaction, the search index
brought up to date once after them (timed, and counted in the rate). The newest day is
then ingested alone, as the daily job does it (its transaction and an index commit):
`ingest_daily_dump_ms` is what a day costs at this corpus size. Committing the index
after each of thousands of days would mostly time tantivy's fixed cost per commit
(~100 ms, its fsyncs), which a real import does not pay.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

from bench.corpus import CorpusGenerator
from bench.records import IngestRecord
from bench.stats import Progress, ms, percentile
from bot.core.ingest import ingest_bytes, ingest_taxonomy
from storage.base import Storage

T = TypeVar("T")


@dataclass
class IngestResult:
    seconds: float = 0.0
    entries: int = 0  # papers in the dumps, repeats included
    generated_new: int = 0
    repeats: int = 0
    edited: int = 0
    days: int = 0
    new: int = 0
    known: int = 0
    merged: int = 0
    errors: list[str] = field(default_factory=list)
    day_seconds: list[tuple[int, float]] = field(default_factory=list)  # (entries, s)
    index_seconds: float = 0.0  # the index catch-up after the bulk days
    daily_seconds: float | None = None  # the newest day alone, index commit included
    first_day: dt.date | None = None
    last_day: dt.date | None = None

    def rate(self, part: slice | None = None) -> float | None:
        """Entries per second: the parts' days (no index), or everything (index too)."""
        days = self.day_seconds[part] if part else self.day_seconds
        seconds = sum(s for _, s in days) + (0.0 if part else self.index_seconds)
        return round(sum(n for n, _ in days) / seconds, 1) if seconds > 0 else None

    def to_dict(self) -> IngestRecord:
        tenth = max(1, len(self.day_seconds) // 10)
        return {
            "ingest_s": round(self.seconds, 2),
            "ingest_papers_per_s": self.rate(),
            "ingest_papers_per_s_first_10pct_days": self.rate(slice(0, tenth)),
            "ingest_papers_per_s_last_10pct_days": self.rate(slice(-tenth, None)),
            "ingest_index_sync_s": round(self.index_seconds, 2),
            "ingest_daily_dump_ms": ms(self.daily_seconds),
            "ingest_day_p99_ms": _p99_ms([s for _, s in self.day_seconds]),
            "dump_days": self.days,
            "dump_entries": self.entries,
            "generated_repeats": self.repeats,
            "generated_edited_repeats": self.edited,
            "ingest_new": self.new,
            "ingest_known": self.known,
            "ingest_merged": self.merged,
            "ingest_errors": len(self.errors),
            "ingest_first_error": self.errors[0] if self.errors else None,
        }


def _p99_ms(values: list[float]) -> float | None:
    return ms(percentile(values, 99))


async def measure_ingest(
    storage: Storage,
    generator: CorpusGenerator,
    progress: Progress,
    profiler: cProfile.Profile | None = None,
) -> IngestResult:
    """Ingest every generated day; ``profiler`` (if any) runs only inside `ingest_bytes`
    and the index catch-up."""
    result = IngestResult()
    topics = await ingest_taxonomy(storage)  # once, as `ingest_paths` does
    report_every = max(1, generator.papers // 10)
    next_report = report_every
    days = generator.days()
    dump = next(days, None)
    while dump is not None:
        upcoming = next(days, None)
        newest = upcoming is None
        if newest:
            # Every earlier day is in: catch the index up once, as `ingest_paths` does.
            result.index_seconds = await _timed(profiler, storage.sync_search_index())
            progress(f"ingest: search index caught up in {result.index_seconds:.1f}s")
        today = dump.day + dt.timedelta(days=1)
        elapsed, report = await _timed_ingest(
            profiler,
            ingest_bytes(
                storage, dump.raw, dump.source, today=today, topics=topics, sync_index=newest
            ),
        )
        if newest:
            result.daily_seconds = elapsed
        result.seconds += elapsed
        entries = dump.new + dump.repeats
        result.day_seconds.append((entries, elapsed))
        result.entries += entries
        result.generated_new += dump.new
        result.repeats += dump.repeats
        result.edited += dump.edited
        result.days += 1
        result.first_day = result.first_day or dump.day
        result.last_day = dump.day
        dump = upcoming
        if report.error:
            result.errors.append(report.error)
            continue
        result.new += report.new
        result.known += report.known
        result.merged += report.merged
        if result.generated_new >= next_report:
            next_report += report_every
            rate = result.rate(slice(-10, None))
            progress(
                f"ingest: {result.generated_new}/{generator.papers} papers, "
                f"{result.days} days, {rate} papers/s over the last 10 days"
            )
    result.seconds += result.index_seconds
    return result


async def _timed(profiler: cProfile.Profile | None, work: Awaitable[object]) -> float:
    return (await _timed_ingest(profiler, work))[0]


async def _timed_ingest(profiler: cProfile.Profile | None, work: Awaitable[T]) -> tuple[float, T]:
    if profiler is not None:
        profiler.enable()
    start = time.perf_counter()
    try:
        value = await work
    finally:
        elapsed = time.perf_counter() - start
        if profiler is not None:
            profiler.disable()
    return elapsed, value
