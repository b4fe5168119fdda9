"""`paperbot bench --import N --postgres URL`: the same snapshot imported into
PostgreSQL, against SQLite with tantivy in the same run.

1. Search p99 over the bench's query mix (bench/queries.py) on the SQLite database the
   import just made, through the product's SearchService.
2. `paperbot import-arxiv-snapshot FILE --db URL` into a fresh schema of the server, as
   a child process (search indexes and vectors included).
3. The same query mix on the imported PostgreSQL database.
4. The ratios: PostgreSQL import time / SQLite import time, and search p99 PostgreSQL /
   SQLite. The schema is dropped afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
import uuid
from typing import Any

import asyncpg

from bench.errors import BenchError
from bench.measure_search import LIMIT, _run_mix, slowest
from bench.queries import query_mix
from bench.stats import Progress, by_class_p99, ms, ratio, summary_ms
from bot.core.sources import ALL_SOURCES
from bot.core.topics import load_default_topics
from bot.services.search import SearchService
from storage import open_storage
from storage.base import Storage
from storage.urls import redact

# Targets for PostgreSQL against SQLite with tantivy, measured in the same run.
IMPORT_TARGET_RATIO = 1.5  # its import takes at most this many times SQLite's
SEARCH_P99_TARGET_MS = 100.0  # its search p99 over the query mix, at 100k papers


async def search_latency(location: str, repeat: int) -> dict[str, Any]:
    """p50/p99, p99 by class and the slowest queries of the query mix on the database
    at `location`, after one warm-up pass."""
    storage = await open_storage(location)
    try:
        newest_day = await _newest_day(storage)
        service = SearchService(storage, load_default_topics())
        mix = query_mix()
        started = time.perf_counter()
        await service.search("language model", limit=LIMIT)
        first = time.perf_counter() - started
        await _run_mix(service, mix, newest_day, 1)
        per_query: list[list[float]] = [[] for _ in mix]
        samples, hits = await _run_mix(service, mix, newest_day, repeat, per_query)
    finally:
        await storage.close()
    total = summary_ms([s for _, s in samples])
    return {
        "first_call_ms": ms(first),
        "samples": len(samples),
        "p50_ms": total["p50"],
        "p99_ms": total["p99"],
        "max_ms": total["max"],
        "class_p99_ms": by_class_p99(samples),
        "hits": sum(hits.values()),
        "slowest": slowest(mix, per_query, 5),
    }


async def _newest_day(storage: Storage) -> dt.date:
    """The newest paper's day (imported papers have no appearance, so no dump day):
    what the query mix's `since` filters count back from."""
    newest = await storage.recent_matches(source=ALL_SOURCES, since=None, limit=1, count_up_to=1)
    if not newest.ranked:
        raise BenchError("the imported database holds no papers")
    [paper] = await storage.get_papers([newest.ranked[0][0]])
    return paper.last_seen


async def _schema(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}search_path={schema}"


def import_into(snapshot: str, location: str) -> dict[str, Any]:
    """`paperbot import-arxiv-snapshot` as a child process; its summary and time."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "bot.cli", "import-arxiv-snapshot", snapshot]
    done = subprocess.run(
        [*command, "--db", location, "--json", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(f"the PostgreSQL import failed: {done.stderr.strip()[-500:]}")
    summary = json.loads(done.stdout)
    papers = int(summary["imported"]) + int(summary["merged"])
    return {
        "papers": papers,
        "seconds": round(seconds, 3),
        "papers_per_s": round(papers / seconds, 1),
        "phases_s": summary["phases"],
    }


async def measure_postgres(
    snapshot: str,
    sqlite_db: str,
    sqlite_import: dict[str, Any],
    url: str,
    repeat: int,
    progress: Progress,
) -> dict[str, Any]:
    """The PostgreSQL import and search against the SQLite ones, in one run."""
    import asyncio

    progress(f"search: the query mix on the imported SQLite database ({repeat} passes)")
    sqlite_search = await search_latency(sqlite_db, repeat)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        await _schema(url, f"CREATE SCHEMA {schema}")
    except (OSError, asyncpg.PostgresError) as exc:
        raise BenchError(f"cannot use the PostgreSQL server {redact(url)}: {exc}") from None
    location = with_schema(url, schema)
    try:
        progress(f"import-arxiv-snapshot into PostgreSQL ({redact(url)}, schema {schema})")
        imported = await asyncio.to_thread(import_into, snapshot, location)
        progress(f"search: the query mix on the imported PostgreSQL database ({repeat} passes)")
        postgres_search = await search_latency(location, repeat)
    finally:
        await _schema(url, f"DROP SCHEMA {schema} CASCADE")
    import_ratio = ratio(imported["seconds"], sqlite_import["seconds"])
    p99_ratio = ratio(postgres_search["p99_ms"], sqlite_search["p99_ms"])
    return {
        "server": redact(url),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "import": imported,
        "import_time_vs_sqlite": import_ratio,
        "search": postgres_search,
        "sqlite_search": sqlite_search,
        "search_p99_vs_sqlite": p99_ratio,
        "targets": {
            "import_time_vs_sqlite_at_most": IMPORT_TARGET_RATIO,
            "search_p99_ms_at_most": SEARCH_P99_TARGET_MS,
            "import_met": import_ratio is not None and import_ratio <= IMPORT_TARGET_RATIO,
            "search_met": (postgres_search["p99_ms"] or 0) <= SEARCH_P99_TARGET_MS,
        },
    }


def postgres_markdown(result: dict[str, Any], sqlite_import: dict[str, Any]) -> str:
    pg, sq = result["search"], result["sqlite_search"]
    rows = [
        (
            "import papers/s (indexes and vectors included)",
            f"{sqlite_import['papers_per_s']:,.0f}",
            f"{result['import']['papers_per_s']:,.0f}",
        ),
        (
            "import phases s",
            ", ".join(f"{k} {v}" for k, v in sqlite_import["phases_s"].items()),
            ", ".join(f"{k} {v}" for k, v in result["import"]["phases_s"].items()),
        ),
        ("search p50 ms", str(sq["p50_ms"]), str(pg["p50_ms"])),
        ("search p99 ms", str(sq["p99_ms"]), str(pg["p99_ms"])),
    ]
    for cls in pg["class_p99_ms"]:
        rows.append(
            (f"  p99 {cls} ms", str(sq["class_p99_ms"].get(cls)), str(pg["class_p99_ms"][cls]))
        )
    rows.append(
        (
            "PostgreSQL / SQLite",
            "",
            f"import time {result['import_time_vs_sqlite']}×, "
            f"search p99 {result['search_p99_vs_sqlite']}×",
        )
    )
    lines = ["| import and search | SQLite + tantivy | PostgreSQL |", "|---|---|---|"]
    return "\n".join(lines + [f"| {a} | {b} | {c} |" for a, b, c in rows])
