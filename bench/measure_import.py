"""`paperbot bench --import N`: the arXiv snapshot import against its floor, measured in
the same run.

1. N records in the snapshot's exact format (bench/snapshot_corpus.py) into a file.
2. The floor: plain `json` parsing, `sqlite3` `executemany` into one table (one
   transaction per 20,000 records) and an FTS5 rebuild over the same records.
3. The import: `paperbot import-arxiv-snapshot` as a child process (indexes and vectors
   included), its peak RSS read when it exits.
4. The daily job on the imported database: the bundled sample dump ingested, the
   search index committed (and, apart, its vectors encoded).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.errors import BenchError
from bench.snapshot_corpus import SnapshotGenerator
from bench.stats import Progress

FLOOR_BATCH = 20_000
SAMPLE_DUMP = Path(__file__).resolve().parent.parent / "bot" / "data" / "sample_dump.txt"


def write_snapshot(path: Path, records: int, seed: int) -> float:
    """Write the records; seconds taken."""
    started = time.perf_counter()
    workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    with path.open("w", encoding="ascii", newline="\n") as out:
        SnapshotGenerator(records, seed, workers=workers).write(out)
    return time.perf_counter() - started


def measure_floor(snapshot: Path, db: Path) -> dict[str, float]:
    """The floor: what parsing the file and storing it searchably costs at the least."""
    started = time.perf_counter()
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(
            "CREATE TABLE papers (id INTEGER PRIMARY KEY, arxiv_id TEXT, title TEXT,"
            " abstract TEXT, authors TEXT, categories TEXT, created TEXT)"
        )
        conn.execute(
            "CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract,"
            " content='papers', content_rowid='id')"
        )
        rows: list[tuple[Any, ...]] = []
        count = 0
        with snapshot.open("rb") as lines:
            for line in lines:
                try:
                    record = json.loads(line)
                    versions = record["versions"]
                    rows.append(
                        (
                            record["id"],
                            record["title"],
                            record["abstract"],
                            record["authors"],
                            record["categories"],
                            versions[0]["created"] if versions else None,
                        )
                    )
                except (ValueError, KeyError, TypeError):
                    continue
                if len(rows) >= FLOOR_BATCH:
                    count += _floor_batch(conn, rows)
                    rows = []
        count += _floor_batch(conn, rows)
        loaded = time.perf_counter()
        conn.execute("INSERT INTO papers_fts (papers_fts) VALUES ('rebuild')")
    finally:
        conn.close()
    done = time.perf_counter()
    return {
        "records": count,
        "load_s": round(loaded - started, 3),
        "fts_rebuild_s": round(done - loaded, 3),
        "seconds": round(done - started, 3),
        "papers_per_s": round(count / (done - started), 1),
    }


def _floor_batch(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> int:
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO papers (arxiv_id, title, abstract, authors, categories, created)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.execute("COMMIT")
    return len(rows)


def measure_import(snapshot: Path, db: Path) -> dict[str, Any]:
    """`paperbot import-arxiv-snapshot` as a child process: its summary, and the peak
    RSS of the largest process it ran (the importer or one of its workers)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    command = [sys.executable, "-m", "bot.cli", "import-arxiv-snapshot", str(snapshot)]
    done = subprocess.run(
        [*command, "--db", str(db), "--json", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(f"the import failed: {done.stderr.strip()[-500:]}")
    summary = json.loads(done.stdout)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    papers = int(summary["imported"]) + int(summary["merged"])
    return {
        "papers": papers,
        "seconds": round(seconds, 3),
        "papers_per_s": round(papers / seconds, 1),
        "phases_s": summary["phases"],
        "bad": summary["bad"],
        # ru_maxrss of children is the largest one's; when an earlier child was larger
        # (the generator's workers), this is theirs: reported only when it grew.
        "peak_rss_mb": round(peak_kib / 1024, 1) if peak_kib > before else None,
    }


async def measure_daily_job(db: Path) -> dict[str, float]:
    """One normal daily dump into the imported database: the ingest with its index
    commit (the daily job's part that holds up /search), then the vectors apart."""
    from bot.core.ingest import ingest_bytes
    from bot.core.topics import load_default_topics
    from bot.services.relevance_service import RelevanceService
    from bot.services.topics import TopicCatalog
    from storage import open_storage

    raw = SAMPLE_DUMP.read_bytes()
    storage = await open_storage(db)
    try:
        await storage.sync_search_index()  # caught up already: this only opens it
        started = time.perf_counter()
        report = await ingest_bytes(
            storage, raw, "sample_dump.txt", cli_date=dt.date(2030, 3, 14), today=None
        )
        ingested = time.perf_counter()
        if report.error:
            raise BenchError(f"the daily dump failed: {report.error}")
        topics = TopicCatalog(storage, load_default_topics())
        await RelevanceService(store=storage, papers=storage, topics=topics).sync_vectors()
        encoded = time.perf_counter()
    finally:
        await storage.close()
    return {
        "new_papers": report.new,
        "ingest_and_index_ms": round((ingested - started) * 1000, 1),
        "vectors_ms": round((encoded - ingested) * 1000, 1),
    }


async def run_import_bench(
    records: int,
    seed: int,
    scratch: Path,
    progress: Progress,
    postgres: str | None = None,
    repeat: int = 3,
    imported_db: Path | None = None,
) -> dict[str, Any]:
    """`imported_db`, when given, is where the import goes and stays (for `--existing`
    runs on it later); otherwise a file in `scratch`."""
    snapshot = scratch / "snapshot.jsonl"
    progress(f"writing {records:,} snapshot records")
    generated = await asyncio.to_thread(write_snapshot, snapshot, records, seed)
    result: dict[str, Any] = {
        "records": records,
        "seed": seed,
        "file_mb": round(snapshot.stat().st_size / (1024 * 1024), 1),
        "generate_s": round(generated, 1),
        "cpus": os.cpu_count(),
        "load_avg_at_start": list(os.getloadavg()),
    }
    progress("floor: json + sqlite3 executemany + FTS5 rebuild")
    result["floor"] = await asyncio.to_thread(measure_floor, snapshot, scratch / "floor.db")
    progress("import-arxiv-snapshot")
    db = imported_db or scratch / "import.db"
    result["import"] = await asyncio.to_thread(measure_import, snapshot, db)
    result["ratio_to_floor"] = round(
        result["import"]["seconds"] / max(result["floor"]["seconds"], 1e-9), 2
    )
    if postgres:
        from bench.measure_import_postgres import measure_postgres

        result["postgres"] = await measure_postgres(
            str(snapshot), str(db), result["import"], postgres, repeat, progress
        )
    progress("the daily job on the imported database")
    result["daily_job"] = await measure_daily_job(db)
    result["load_avg_at_end"] = list(os.getloadavg())
    return result


def import_markdown(result: dict[str, Any]) -> str:
    floor, imported, daily = result["floor"], result["import"], result["daily_job"]
    rows = [
        ("records", f"{result['records']:,} ({result['file_mb']:,} MB)"),
        ("floor papers/s (json + executemany + FTS5 rebuild)", f"{floor['papers_per_s']:,.0f}"),
        ("import papers/s (indexes and vectors included)", f"{imported['papers_per_s']:,.0f}"),
        ("import time / floor time", f"{result['ratio_to_floor']}×"),
        (
            "import phases s",
            ", ".join(f"{k} {v}" for k, v in imported["phases_s"].items()),
        ),
        ("import peak RSS MB (largest process)", str(imported["peak_rss_mb"])),
        ("daily dump ingest + index commit ms", str(daily["ingest_and_index_ms"])),
        ("daily dump vectors ms", str(daily["vectors_ms"])),
        (
            "load average start → end",
            f"{result['load_avg_at_start'][0]:.1f} → {result['load_avg_at_end'][0]:.1f}",
        ),
    ]
    lines = ["| import | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
    if "postgres" in result:
        from bench.measure_import_postgres import postgres_markdown

        lines += ["", postgres_markdown(result["postgres"], imported)]
    return "\n".join(lines)
