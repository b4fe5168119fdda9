"""Search and autocomplete latency through the product's `SearchService`, as `/search`
and `/paper` use it (one service, its in-memory indexes built on first use)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import statistics
import time
from collections.abc import Sequence

from bench.queries import Query, autocomplete_inputs, query_mix, topic_only_mix
from bench.records import SearchRecord, SlowQuery
from bench.stats import Progress, by_class_p99, ms, summary_ms
from bot.core.topics import load_default_topics
from bot.services.search import SearchService
from storage.base import Storage

LIMIT = 10


async def _run_mix(
    service: SearchService,
    mix: Sequence[Query],
    newest: dt.date,
    repeat: int,
    per_query: list[list[float]] | None = None,
    cpu: list[tuple[str, float]] | None = None,
) -> tuple[list[tuple[str, float]], dict[str, int]]:
    """(class, seconds) per search and result counts by class; each query's own
    timings go to ``per_query`` when given, (class, CPU seconds) to ``cpu``."""
    samples: list[tuple[str, float]] = []
    hits: dict[str, int] = {}
    for _ in range(repeat):
        for i, query in enumerate(mix):
            start, cpu_start = time.perf_counter(), time.process_time()
            response = await service.search(
                query.text, topic=query.topic, since=query.since(newest), limit=LIMIT
            )
            elapsed = time.perf_counter() - start
            if cpu is not None:
                cpu.append((query.cls, time.process_time() - cpu_start))
            samples.append((query.cls, elapsed))
            if per_query is not None:
                per_query[i].append(elapsed)
            hits[query.cls] = hits.get(query.cls, 0) + len(response.hits)
    return samples, hits


def slowest(mix: Sequence[Query], per_query: list[list[float]], count: int = 10) -> list[SlowQuery]:
    """The queries with the highest median time: where the p99 comes from."""
    medians = [(statistics.median(times), q) for q, times in zip(mix, per_query, strict=True)]
    medians.sort(key=lambda item: -item[0])
    return [
        {
            "ms": ms(seconds),
            "class": q.cls,
            "query": q.text,
            "topic": q.topic,
            "since_days": q.since_days,
        }
        for seconds, q in medians[:count]
    ]


def first_titles(db_path: str, count: int) -> list[str]:
    """The titles of the first stored papers (fixed for a seed): what people type."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT title FROM papers ORDER BY id LIMIT ?", (count,))
        return [title for (title,) in rows]
    finally:
        conn.close()


async def measure_search(
    storage: Storage, db_path: str, newest: dt.date, repeat: int, progress: Progress
) -> SearchRecord:
    service = SearchService(storage, load_default_topics())
    # The first call builds the in-memory vocabulary, title and name indexes.
    start = time.perf_counter()
    await service.search("language model", limit=LIMIT)
    first = time.perf_counter() - start
    mix = query_mix()
    progress(f"search: first call {first * 1000:.0f} ms; warm-up pass over {len(mix)} queries")
    await _run_mix(service, mix, newest, 1)
    progress(f"search: {repeat} measured pass(es) over {len(mix)} queries")
    per_query: list[list[float]] = [[] for _ in mix]
    cpu: list[tuple[str, float]] = []
    samples, hits = await _run_mix(service, mix, newest, repeat, per_query, cpu)
    total = summary_ms([s for _, s in samples])
    classes = by_class_p99(samples)
    topic_samples, _ = await _run_mix(service, topic_only_mix(), newest, repeat)
    titles = first_titles(db_path, 50)
    inputs = autocomplete_inputs(titles)
    await _autocomplete(service, inputs, 1)
    progress(f"autocomplete: {repeat} measured pass(es) over {len(inputs)} inputs")
    auto_cpu: list[float] = []
    auto = await _autocomplete(service, inputs, repeat, auto_cpu)
    auto_summary = summary_ms(auto)
    return {
        "search_first_call_ms": ms(first),
        "search_queries": len(mix),
        "search_samples": len(samples),
        "search_p50_ms": total["p50"],
        "search_p95_ms": total["p95"],
        "search_p99_ms": total["p99"],
        "search_max_ms": total["max"],
        "search_mean_ms": ms(sum(s for _, s in samples) / len(samples)),
        "common_word_p99_ms": classes.get("common"),
        "search_class_p99_ms": classes,
        "search_hits_per_query_by_class": {
            cls: round(n / (repeat * sum(1 for q in mix if q.cls == cls)), 1)
            for cls, n in hits.items()
        },
        "search_slowest_queries": slowest(mix, per_query),
        "topic_only_p99_ms": summary_ms([s for _, s in topic_samples])["p99"],
        "autocomplete_inputs": len(inputs),
        "autocomplete_p50_ms": auto_summary["p50"],
        "autocomplete_p99_ms": auto_summary["p99"],
        # CPU time (every thread of the process) per call: what a quiet machine's wall
        # time would be, near enough, on a machine shared with other work.
        "search_cpu_p50_ms": summary_ms([c for _, c in cpu])["p50"],
        "search_cpu_p99_ms": summary_ms([c for _, c in cpu])["p99"],
        "search_class_cpu_p99_ms": by_class_p99(cpu),
        "autocomplete_cpu_p99_ms": summary_ms(auto_cpu)["p99"],
    }


async def _autocomplete(
    service: SearchService, inputs: Sequence[str], repeat: int, cpu: list[float] | None = None
) -> list[float]:
    samples = []
    for _ in range(repeat):
        for text in inputs:
            start, cpu_start = time.perf_counter(), time.process_time()
            await service.title_choices(text)
            samples.append(time.perf_counter() - start)
            if cpu is not None:
                cpu.append(time.process_time() - cpu_start)
    return samples
