"""`paperbot bench --existing --db PATH`: the serving figures measured on a database made
some other way (a snapshot import with daily dumps on top), in one run, the daily job
included, and the database left as it was."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from bench import main
from bench.corpus import write_days
from bench.measure_daily import measure_daily_job
from bench.measure_import import write_snapshot
from tests.forked_cli import run_cli

CLASSES = {
    "common", "rare", "name", "two_words", "three_words", "phrase", "misspelled", "prefix",
    "topic_filter", "since_filter",
}  # fmt: skip


def _paperbot(*args: str) -> None:
    done = run_cli(args)
    assert done.returncode == 0, done.stderr


def _imported(tmp_path: Path, records: int = 300) -> Path:
    """A database made by `paperbot import-arxiv-snapshot`, as a 1M-paper one is."""
    snapshot, db = tmp_path / "snapshot.jsonl", tmp_path / "imported.db"
    write_snapshot(snapshot, records, seed=5)
    _paperbot("import-arxiv-snapshot", str(snapshot), "--db", str(db), "--quiet")
    return db


def _papers(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0]
    finally:
        conn.close()


def test_an_imported_database_with_daily_dumps_is_measured_as_it_is(tmp_path, capsys):
    db = _imported(tmp_path)
    write_days(600, seed=7, out=tmp_path / "days")
    _paperbot("ingest", str(tmp_path / "days"), "--db", str(db), "--quiet")
    stored = _papers(db)
    out = tmp_path / "out"
    argv = ["--existing", "--db", str(db), "--skip-fanout", "--no-fts5", "--no-tantivy"]
    argv += ["--repeat", "1", "--digest-channels", "20", "--out", str(out), "--json", "--quiet"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)

    assert result["corpus"] == "existing" and result["ingest_reused"] is True
    assert result["papers"] == result["papers_stored"] == stored  # not --papers' default
    assert set(result["search_class_p99_ms"]) == CLASSES
    assert all(v > 0 for v in result["search_class_p99_ms"].values())
    assert 0 < result["for_you_p50_ms"] <= result["for_you_p99_ms"]
    assert 0 < result["related_p50_ms"] <= result["related_p99_ms"]
    assert result["autocomplete_p99_ms"] > 0
    # CPU time per call beside the wall time (a shared machine inflates only the latter).
    assert 0 < result["search_cpu_p50_ms"] <= result["search_cpu_p99_ms"]
    assert set(result["search_class_cpu_p99_ms"]) == CLASSES
    for key in ("autocomplete", "for_you", "related"):
        assert result[f"{key}_cpu_p99_ms"] > 0, key
    assert 0 < result["peak_rss_mb_serving"] <= result["peak_rss_mb"]
    # The daily job: the real sample dump (98 papers none of the corpus holds) into a
    # copy, its index commit included; the kept database is left as it was.
    assert result["daily_job_new_papers"] == 98
    assert result["daily_job_ms"] > 0 and result["daily_job_vectors_ms"] >= 0
    assert result["daily_job_cpu_ms"] > 0
    assert _papers(db) == stored
    assert result["fts5_p99_ms"] is None and result["tantivy_p99_ms"] is None
    assert (out / f"results-{stored}.json").is_file()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| daily job: the sample dump ingested, index commit included, ms |" in report


def test_an_import_without_any_daily_dump_is_refused_with_the_way_out(tmp_path, capsys):
    db = _imported(tmp_path, records=50)
    assert main(["--existing", "--db", str(db), "--quiet", "--out", str(tmp_path / "o")]) == 1
    error = capsys.readouterr().err.strip()
    assert "holds no daily dump" in error and "paperbot ingest" in error
    assert len(error.splitlines()) == 1


def test_existing_needs_a_database(tmp_path, capsys):
    assert main(["--existing", "--quiet", "--out", str(tmp_path)]) == 1
    assert "give --db PATH" in capsys.readouterr().err


def test_the_corpus_writes_a_dumps_folder_paperbot_ingest_reads(tmp_path):
    papers = 700
    written = write_days(papers, seed=2, out=tmp_path / "days")
    assert [p.name for p in written] == sorted(p.name for p in written)
    db = tmp_path / "days.db"
    _paperbot("ingest", str(tmp_path / "days"), "--db", str(db), "--quiet")
    assert _papers(db) >= papers  # only a missed near-duplicate adds one


async def test_a_database_holding_the_sample_already_has_no_daily_job_to_time(tmp_path):
    """The daily job ingests the bundled sample. Into a database that holds its papers
    already the ingest only recognises them: no figure, rather than a few milliseconds
    that look like a fast day's work."""
    db = tmp_path / "bench.db"
    fresh = await measure_daily_job(db, vectors=False)
    assert fresh["daily_job_new_papers"] == 98
    assert fresh["daily_job_ms"] is not None and fresh["daily_job_ms"] > 0
    again = await measure_daily_job(db, vectors=False)
    assert again == {
        "daily_job_new_papers": 0,
        "daily_job_ms": None,
        "daily_job_cpu_ms": None,
        "daily_job_vectors_ms": None,
    }
