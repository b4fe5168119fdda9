"""One benchmark run: build (or reuse) the corpus database, measure every phase, write
the results next to those of other sizes, and print them."""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import shutil
import sqlite3
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

from bench.corpus import CorpusGenerator
from bench.errors import BenchError
from bench.measure_baselines import (
    empty_fts5_result,
    empty_tantivy_result,
    measure_fts5,
    measure_tantivy,
    tantivy_available,
)
from bench.measure_bot import measure_bot
from bench.measure_daily import measure_daily_job
from bench.measure_digest import measure_digest
from bench.measure_ingest import measure_ingest
from bench.measure_relevance import measure_relevance
from bench.measure_search import measure_search
from bench.measure_zones import measure_zone_autocomplete
from bench.report import (
    burst_markdown,
    markdown_run,
    print_json,
    relevance_markdown,
    write_outputs,
)
from bench.stats import Progress, current_rss_mb, mapped_file_mb, peak_rss_mb, ratio
from storage import open_storage
from storage.base import Storage

GENERATOR_VERSION = 2  # bump when the corpus generator's output changes
META_KEY = "bench_corpus"


async def run(args: argparse.Namespace) -> int:
    progress = Progress(not args.quiet)
    if args.existing and not args.bench_db:
        raise BenchError("--existing measures the database given with --db: give --db PATH")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.relevance:
        return await _run_relevance(args, out, progress)
    if args.burst:
        return await _run_burst(args, out, progress)
    if args.import_records:
        return await _run_import(args, out, progress)
    scratch = Path(tempfile.mkdtemp(prefix="paperbot-bench-"))
    try:
        result = await _run(args, out, scratch, progress)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        print_json(result)
    else:
        print(markdown_run(result))
    return 0


async def _run_import(args: argparse.Namespace, out: Path, progress: Progress) -> int:
    """`--import N`: the snapshot import against its floor, printed and saved as
    import-results-N.json."""
    from bench.measure_import import import_markdown, run_import_bench

    kept = Path(args.bench_db) if args.bench_db else None
    if kept is not None and kept.exists():
        raise BenchError(f"--import imports into a new database; {kept} exists already")
    scratch = Path(tempfile.mkdtemp(prefix="paperbot-bench-import-"))
    try:
        result = await run_import_bench(
            args.import_records, args.seed, scratch, progress, args.postgres, args.repeat, kept
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    name = f"import-results-{args.import_records}.json"
    (out / name).write_text(json.dumps(result, indent=2), encoding="utf-8")
    if args.json:
        print_json(result)
    else:
        print(import_markdown(result))
    return 0


async def _run_relevance(args: argparse.Namespace, out: Path, progress: Progress) -> int:
    """`--relevance`: the evaluation table and the ranked DM fan-out, printed and saved
    as relevance-results.json."""
    from bench.measure_relevance_fanout import evaluation_table, measure_ranked_fanout

    result: dict[str, Any] = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_avg_at_start": _load(),
    }
    result.update(evaluation_table(progress))
    result.update(await measure_ranked_fanout(args.relevance_members, progress, args.seed))
    result["load_avg_at_end"] = _load()
    (out / "relevance-results.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    if args.json:
        print_json(result)
    else:
        print(relevance_markdown(result))
    return 0


async def _run_burst(args: argparse.Namespace, out: Path, progress: Progress) -> int:
    """`--burst N`: the corpus (built, or reused from --db), then the bursts against a
    copy of it; printed and saved as burst-results-<papers>.json."""
    from bench.measure_burst import measure_burst

    result: dict[str, Any] = {
        "papers": args.papers,
        "seed": args.seed,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_avg_at_start": _load(),
    }
    scratch = Path(tempfile.mkdtemp(prefix="paperbot-bench-"))
    try:
        db_path = str(Path(args.bench_db)) if args.bench_db else str(scratch / "bench.db")
        storage = await open_storage(db_path)
        try:
            newest = await _corpus(storage, args, progress, result, None)
        finally:
            await storage.close()
        bot_db = str(scratch / "bot.db")
        _copy_store(db_path, bot_db)
        profile = out / f"profile-burst-{args.burst}.txt" if args.profile else None
        result.update(
            await measure_burst(
                bot_db, newest, args.burst, args.burst_fanout_channels, progress, profile
            )
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result["load_avg_at_end"] = _load()
    (out / f"burst-results-{args.papers}.json").write_text(
        json.dumps(result, indent=2), encoding="utf-8"
    )
    if args.json:
        print_json(result)
    else:
        print(burst_markdown(result))
    return 0


async def _corpus(
    storage: Storage,
    args: argparse.Namespace,
    progress: Progress,
    result: dict[str, Any],
    profiler: cProfile.Profile | None,
) -> dt.date:
    """Reuse the corpus the database holds, or ingest it (timed); its newest day."""
    corpus = {"papers": args.papers, "seed": args.seed, "generator": GENERATOR_VERSION}
    stored = await storage.get_meta(META_KEY)
    count = (await storage.stats())["papers"]
    if getattr(args, "existing", False):
        if not count:
            raise BenchError(f"--db {args.bench_db} holds no papers to measure")
        progress(f"measuring the database as it is ({count} papers); nothing ingested")
        result.update({"corpus": "existing", "ingest_reused": True, "ingest_papers_per_s": None})
    elif stored is not None and json.loads(stored) == corpus:
        progress(f"reusing the corpus in the database ({count} papers); ingest not timed")
        result.update({"ingest_reused": True, "ingest_papers_per_s": None})
    elif count or stored is not None:
        raise BenchError(f"--db {args.bench_db} holds other data; give a new path or delete it")
    else:
        generator = CorpusGenerator(args.papers, seed=args.seed)
        progress(f"ingest: {args.papers} papers through ingest_bytes, one dump per day")
        ingest = await measure_ingest(storage, generator, progress, profiler)
        if ingest.errors:
            raise BenchError(f"ingest failed: {ingest.errors[0]}")
        result.update(ingest.to_dict())
        result["ingest_reused"] = False
        await storage.set_meta(META_KEY, json.dumps(corpus))
    days = await storage.days(limit=1)
    if not days and count:  # e.g. only a snapshot import: no day of a daily dump
        raise BenchError(
            f"--db {args.bench_db} holds no daily dump (the digest and For you measure the "
            "newest day): ingest some first, e.g. `python -m bench.corpus --papers 9000 "
            "--out DIR` and `paperbot ingest DIR --db PATH`"
        )
    if not days:
        raise BenchError("the database holds no papers")
    return days[0]


async def _run(
    args: argparse.Namespace, out: Path, scratch: Path, progress: Progress
) -> dict[str, Any]:
    db_path = str(Path(args.bench_db)) if args.bench_db else str(scratch / "bench.db")
    profilers: dict[str, cProfile.Profile] = {}
    if args.profile:  # ingest: only inside ingest_bytes; search: the whole phase
        profilers = {"ingest": cProfile.Profile(), "search": cProfile.Profile()}
    result: dict[str, Any] = {
        "papers": args.papers,
        "seed": args.seed,
        "repeat": args.repeat,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "load_avg_at_start": _load(),
    }

    storage = await open_storage(db_path)
    try:
        newest = await _corpus(storage, args, progress, result, profilers.get("ingest"))
        result["papers_stored"] = (await storage.stats())["papers"]
        if args.existing:  # filed and shown under the size it has
            result["papers"] = result["papers_stored"]
        else:
            # Generated repeats that dedupe did not recognise (each became a second paper).
            result["dedupe_unrecognised_repeats"] = result["papers_stored"] - args.papers
        result["newest_day"] = newest.isoformat()
        rss = result["rss_mb_after_phase"] = {"ingest": current_rss_mb()}

        progress("search: the fixed 200-query mix through SearchService.search")
        if "search" in profilers:
            profilers["search"].enable()
        try:
            result.update(await measure_search(storage, db_path, newest, args.repeat, progress))
        finally:
            if "search" in profilers:
                profilers["search"].disable()
        result.update(measure_zone_autocomplete(progress))
        rss["search"] = current_rss_mb()
        # Searching maps the index files in: how much of the resident set is those pages.
        result["rss_file_mb_after_search"] = mapped_file_mb()
        result.update(await measure_digest(storage, newest, args.digest_channels, progress))
        rss["digest"] = current_rss_mb()
        if args.skip_relevance:
            progress("relevance: skipped (--skip-relevance)")
        else:
            result.update(await measure_relevance(storage, progress, args.seed))
            rss["relevance"] = current_rss_mb()
    finally:
        await storage.close()
    result["db_mb"] = _size_mb([Path(db_path)])
    # A search index the product keeps beside the database file (e.g. `<db>.search`).
    result["derived_index_mb"] = _size_mb(_derived(db_path))

    # The bot writes subscriptions and a delivery ledger: give it a copy, so a kept
    # database stays reusable and every run posts afresh.
    bot_db = str(scratch / "bot.db")
    _copy_store(db_path, bot_db)
    fanout = 0 if args.skip_fanout else args.fanout_channels
    result.update(await measure_bot(bot_db, newest, fanout, progress))
    if fanout == 0:
        result.update(
            {"fanout_posts_per_s": None, "fanout_sustained_posts_per_s": None, "fanout_429s": None}
        )
    rss["bot"] = current_rss_mb()
    # Serving alone (search, digest, relevance, the bot), before the daily job's peak.
    result["peak_rss_mb_serving"] = peak_rss_mb()
    # The daily job at this size, on the bot's copy (the kept database stays as it was).
    progress("daily job: one daily dump ingested, the search index committed")
    result.update(await measure_daily_job(Path(bot_db), vectors=not args.skip_relevance))
    if result["daily_job_ms"] is None:
        progress("daily job: not timed, the database holds the sample dump's papers already")
    rss["daily_job"] = current_rss_mb()
    for path in [Path(bot_db), *_derived(bot_db)]:
        _remove(path)
    result["peak_rss_mb"] = peak_rss_mb()  # the product's phases only

    if args.no_fts5:
        progress("baseline fts5: skipped (--no-fts5)")
        result.update(empty_fts5_result())
    else:
        result.update(measure_fts5(db_path, newest, args.repeat, progress, scratch))
    if args.no_tantivy or not tantivy_available():
        why = "--no-tantivy" if args.no_tantivy else "the tantivy package is not installed"
        progress(f"baseline tantivy: skipped ({why})")
        result.update(empty_tantivy_result())
    else:
        result.update(measure_tantivy(db_path, newest, args.repeat, progress, scratch))
    rss["baselines"] = current_rss_mb()
    result["peak_rss_mb_with_baselines"] = peak_rss_mb()
    _ratios(result)
    result["elapsed_s"] = round(time.perf_counter() - progress.start, 1)
    result["load_avg_at_end"] = _load()  # other work on the machine skews timings

    if args.profile:
        stem = f"profile-{args.papers}"
        for phase, profiler in profilers.items():
            text = _hotspots(phase, profiler)
            (out / f"{stem}-{phase}.txt").write_text(text, encoding="utf-8")
        (out / f"{stem}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
        progress(f"profiles written to {out}/{stem}-*.txt (timings inflated, not saved)")
    else:
        written = write_outputs(out, result)
        progress("wrote " + ", ".join(str(p) for p in written))
    return result


def _ratios(result: dict[str, Any]) -> None:
    p99 = result.get("search_p99_ms")
    common = result.get("common_word_p99_ms")
    result["ratio_p99_vs_fts5"] = ratio(p99, result.get("fts5_p99_ms"))
    result["ratio_p99_vs_tantivy"] = ratio(p99, result.get("tantivy_p99_ms"))
    result["ratio_common_word_p99_vs_fts5"] = ratio(common, result.get("fts5_common_word_p99_ms"))
    result["ratio_common_word_p99_vs_tantivy"] = ratio(
        common, result.get("tantivy_common_word_p99_ms")
    )
    result["fts5_p99_vs_tantivy_p99"] = ratio(
        result.get("fts5_p99_ms"), result.get("tantivy_p99_ms")
    )
    ours = result.get("search_class_p99_ms") or {}
    for engine in ("fts5", "tantivy"):
        theirs = result.get(f"{engine}_class_p99_ms")
        result[f"ratio_class_p99_vs_{engine}"] = (
            {cls: ratio(p99, theirs.get(cls)) for cls, p99 in ours.items()} if theirs else None
        )


def _hotspots(phase: str, profiler: cProfile.Profile) -> str:
    """The top functions by own time and by cumulative time. cProfile sees the event
    loop's thread only: SQLite work in aiosqlite's thread shows up as waiting (epoll)."""
    text = io.StringIO()
    for order in ("tottime", "cumulative"):
        text.write(f"==== {phase}: top 40 by {order} ====\n")
        stats = pstats.Stats(profiler, stream=text)
        stats.strip_dirs().sort_stats(order).print_stats(40)
    return text.getvalue()


def _derived(db_path: str) -> list[Path]:
    """Files and folders the product keeps beside its database (`bench.db.search`),
    not SQLite's own -wal/-shm/-journal files."""
    db = Path(db_path)
    if not db.parent.is_dir():
        return []
    return sorted(p for p in db.parent.iterdir() if p.name.startswith(db.name + "."))


def _copy_store(source: str, target: str) -> None:
    """The database (consistently, through SQLite's backup API) and whatever the
    product derived from it, as a restarted bot would find them."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    for path in _derived(source):
        copy = Path(target + path.name[len(Path(source).name) :])
        if path.is_dir():
            shutil.copytree(path, copy)
        else:
            shutil.copy2(path, copy)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with suppress(OSError):
            path.unlink()


def _size_mb(paths: list[Path]) -> float | None:
    total = 0
    for path in paths:
        files = path.rglob("*") if path.is_dir() else [path, Path(f"{path}-wal")]
        for file in files:
            with suppress(OSError):
                if file.is_file():
                    total += file.stat().st_size
    return round(total / (1024 * 1024), 1) if total else None


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None
