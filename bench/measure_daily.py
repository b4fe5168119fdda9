"""The daily job at the corpus' size: one normal daily dump (the bundled real sample, 98
papers) through `ingest_bytes` with its search-index commit, the part that holds up
/search, then apart its new papers' vectors."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import TypedDict

from bench.errors import BenchError
from bot.core.ingest import ingest_bytes
from bot.core.topics import load_default_topics
from bot.services.relevance_service import RelevanceService
from bot.services.topics import TopicCatalog
from storage import open_storage

SAMPLE_DUMP = Path(__file__).resolve().parent.parent / "bot" / "data" / "sample_dump.txt"
DUMP_DAY = dt.date(2030, 3, 14)  # after every corpus' newest day


class DailyJobRecord(TypedDict):
    daily_job_new_papers: int
    # None when the database held the sample's papers already (see below).
    daily_job_ms: float | None
    daily_job_cpu_ms: float | None  # every thread of the process (tantivy's commit included)
    daily_job_vectors_ms: float | None


async def measure_daily_job(db: Path, vectors: bool = True) -> DailyJobRecord:
    """Ingest the sample into ``db`` (a copy: it changes). Its vectors are timed only
    with ``vectors``: encoding catches up every paper still without one, which for a
    database never encoded is the whole corpus, not a day's work."""
    storage = await open_storage(str(db))
    try:
        await storage.sync_search_index()  # caught up already: this only opens it
        started, cpu = time.perf_counter(), time.process_time()
        report = await ingest_bytes(
            storage, SAMPLE_DUMP.read_bytes(), SAMPLE_DUMP.name, cli_date=DUMP_DAY, today=None
        )
        ingested, cpu = time.perf_counter(), time.process_time() - cpu
        if report.error:
            raise BenchError(f"the daily dump failed: {report.error}")
        if report.new == 0:
            # A database the sample was ingested into once already (by hand, or by an
            # older bench): the ingest only recognised its papers, which is not a
            # day's work, so there is nothing to time.
            return {
                "daily_job_new_papers": 0,
                "daily_job_ms": None,
                "daily_job_cpu_ms": None,
                "daily_job_vectors_ms": None,
            }
        vectors_ms = None
        if vectors:
            topics = TopicCatalog(storage, load_default_topics())
            await RelevanceService(store=storage, papers=storage, topics=topics).sync_vectors()
            vectors_ms = round((time.perf_counter() - ingested) * 1000, 1)
    finally:
        await storage.close()
    return {
        "daily_job_new_papers": report.new,
        "daily_job_ms": round((ingested - started) * 1000, 1),
        "daily_job_cpu_ms": round(cpu * 1000, 1),
        "daily_job_vectors_ms": vectors_ms,
    }
