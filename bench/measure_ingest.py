"""Ingest throughput through the product's real ingest (`ingest_bytes`, one dump a day).

Only the `ingest_bytes` calls are timed: generating the synthetic pages is not. The
parse, dedupe, topic tagging, the transaction and the FTS5 triggers all are.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import time
from dataclasses import dataclass, field

from bench.corpus import CorpusGenerator
from bench.stats import Progress, ms, percentile
from bot.core.ingest import ingest_bytes, ingest_taxonomy
from storage.base import Storage


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
    first_day: dt.date | None = None
    last_day: dt.date | None = None

    def rate(self, part: slice | None = None) -> float | None:
        days = self.day_seconds[part] if part else self.day_seconds
        seconds = sum(s for _, s in days)
        return round(sum(n for n, _ in days) / seconds, 1) if seconds > 0 else None

    def to_dict(self) -> dict:
        tenth = max(1, len(self.day_seconds) // 10)
        return {
            "ingest_s": round(self.seconds, 2),
            "ingest_papers_per_s": self.rate(),
            "ingest_papers_per_s_first_10pct_days": self.rate(slice(0, tenth)),
            "ingest_papers_per_s_last_10pct_days": self.rate(slice(-tenth, None)),
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
    """Ingest every generated day; ``profiler`` (if any) runs only inside `ingest_bytes`."""
    result = IngestResult()
    topics = await ingest_taxonomy(storage)  # once, as `ingest_paths` does
    report_every = max(1, generator.papers // 10)
    next_report = report_every
    for dump in generator.days():
        today = dump.day + dt.timedelta(days=1)
        if profiler is not None:
            profiler.enable()
        start = time.perf_counter()
        report = await ingest_bytes(storage, dump.raw, dump.source, today=today, topics=topics)
        elapsed = time.perf_counter() - start
        if profiler is not None:
            profiler.disable()
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
    return result
