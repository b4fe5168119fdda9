"""The benchmark suite runs end to end at a tiny size and reports every key.

Performance is never asserted here: only that each number exists and is sane. The main
run hides tantivy, as CI without the `bench` extra has none.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import importlib.util
import json
import sqlite3
import sys

import pytest

from bench import main
from bench.corpus import SAMPLE_DUMP, CorpusGenerator
from bench.measure_baselines import measure_tantivy
from bench.queries import autocomplete_inputs, query_mix
from bench.report import burst_markdown, write_outputs
from bench.stats import Progress, percentile
from bot.cli.app import build_parser
from bot.core.ingest import ingest_bytes
from bot.core.parse import parse_dump
from storage import open_storage

REQUIRED = [
    "papers",
    "ingest_papers_per_s",
    "search_p50_ms",
    "search_p99_ms",
    "fts5_p99_ms",
    "tantivy_p99_ms",
    "common_word_p99_ms",
    "fts5_common_word_p99_ms",
    "autocomplete_p99_ms",
    "digest_layout_10k_channels_s",
    "peak_rss_mb",
    "fanout_posts_per_s",
    "fanout_sustained_posts_per_s",
    "fanout_429s",
    "ratio_p99_vs_fts5",
    "ratio_p99_vs_tantivy",
    "search_class_p99_ms",
    "fts5_class_p99_ms",
    "bot_start_ready_s",
    "relevance_click_p99_ms",
    "relevance_click_p99_vs_budget",
    "for_you_p99_ms",
    "related_p99_ms",
    "daily_job_ms",
    "zone_autocomplete_p99_ms",
]
TODAY = dt.date(2026, 11, 26)  # the sample's `Mar 14` is then 2026-03-14
CLASSES = {
    "common", "rare", "name", "two_words", "three_words", "phrase", "misspelled", "prefix",
    "topic_filter", "since_filter",
}  # fmt: skip


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main([*args, "--json", "--quiet"]) == 0
    return json.loads(capsys.readouterr().out)


def test_tiny_run_reports_every_key_without_the_bench_extra(tmp_path, monkeypatch, capsys):
    # The product's own modules load first (its storage may use tantivy itself); after
    # that, the benchmark's baseline and extras find nothing, as without `.[bench]`.
    importlib.import_module("storage.sqlite.store")
    for extra in ("tantivy", "psutil", "matplotlib"):
        monkeypatch.setitem(sys.modules, extra, None)  # `import tantivy` now fails
    out, db = tmp_path / "out", tmp_path / "bench.db"
    common = ["--papers", "600", "--repeat", "1", "--digest-channels", "50", "--out", str(out)]
    result = _run(capsys, *common, "--fanout-channels", "20", "--db", str(db))

    missing = [key for key in REQUIRED if key not in result]
    assert not missing
    assert result["papers"] == 600
    assert result["ingest_reused"] is False
    # Every generated paper is stored once; only a missed near-duplicate adds one.
    assert 600 <= result["papers_stored"] <= 600 + result["generated_edited_repeats"]
    assert result["ingest_known"] + result["ingest_merged"] > 0  # repeats were recognised
    assert result["ingest_papers_per_s"] > 0
    assert 0 < result["search_p50_ms"] <= result["search_p99_ms"]
    assert result["fts5_p99_ms"] > 0
    assert set(result["search_class_p99_ms"]) == CLASSES
    assert result["search_hits_per_query_by_class"]["common"] == 10
    assert result["autocomplete_p99_ms"] > 0
    assert 0 < result["zone_autocomplete_p50_ms"] <= result["zone_autocomplete_p99_ms"]
    assert result["digest_layout_10k_channels_s"] > 0
    assert result["digest_day_papers"] > 0
    assert result["peak_rss_mb"] > 0
    if sys.platform == "linux":
        assert 0 < result["rss_file_mb_after_search"] < result["peak_rss_mb"]
    assert result["bot_start_ready_s"] > 0
    assert result["relevance_encoded_papers"] == result["papers_stored"]
    assert 0 < result["relevance_click_p50_ms"] <= result["relevance_click_p99_ms"]
    assert result["relevance_click_p99_vs_budget"] > 0
    assert 0 < result["for_you_p50_ms"] <= result["for_you_p99_ms"]
    assert 0 < result["related_p50_ms"] <= result["related_p99_ms"]
    report = (out / "report.md").read_text(encoding="utf-8")
    for row in ("| autocomplete |", "| For you |", "| related |"):
        assert row in report  # beside the query classes in the p99 table
    assert result["fanout_posted"] == 20
    assert result["fanout_posts_per_s"] > 0
    assert result["fanout_sustained_posts_per_s"] > 0
    assert result["fanout_429s"] >= 0
    assert result["tantivy_p99_ms"] is None
    assert result["ratio_p99_vs_tantivy"] is None
    assert result["ratio_class_p99_vs_tantivy"] is None
    assert result["ratio_p99_vs_fts5"] > 0
    assert set(result["ratio_class_p99_vs_fts5"]) == CLASSES
    assert (out / "results-600.json").is_file()
    assert "| search p99 ms |" in (out / "report.md").read_text(encoding="utf-8")

    # The same --db again: the corpus is reused, not ingested a second time.
    again = _run(capsys, *common, "--skip-fanout", "--skip-relevance", "--db", str(db))
    assert again["ingest_reused"] is True
    assert "for_you_p99_ms" not in again and "relevance_click_p99_ms" not in again
    assert again["papers_stored"] == result["papers_stored"]
    assert again["fanout_posts_per_s"] is None and again["fanout_429s"] is None
    # Without relevance the daily job is its ingest and index commit: encoding would
    # catch up every paper a database never encoded, not a day's work.
    assert again["daily_job_ms"] > 0 and again["daily_job_vectors_ms"] is None


async def _sample_db(path) -> dt.date:
    """A database holding the bundled sample (98 papers on one day), made by paperbot."""
    storage = await open_storage(path)
    try:
        report = await ingest_bytes(storage, SAMPLE_DUMP.read_bytes(), "sample.txt", today=TODAY)
        assert report.error is None
        return (await storage.days(limit=1))[0]
    finally:
        await storage.close()


def test_a_database_holding_other_data_is_refused(tmp_path, capsys):
    db = tmp_path / "paperbot.db"
    asyncio.run(_sample_db(db))
    assert main(["--papers", "300", "--quiet", "--out", str(tmp_path), "--db", str(db)]) == 1
    assert "holds other data" in capsys.readouterr().err


def test_the_ratio_to_tantivy_is_reported_per_query_class(tmp_path, capsys):
    """With the tantivy baseline: paperbot p99 / tantivy p99 for every query class, in
    the JSON and in the report's class table, with the note that the baseline's index
    has no pair fields."""
    out = tmp_path / "out"
    result = _run(
        capsys, "--papers", "600", "--repeat", "1", "--digest-channels", "50",
        "--skip-fanout", "--out", str(out), "--db", str(tmp_path / "bench.db"),
    )  # fmt: skip
    ours, theirs = result["search_class_p99_ms"], result["tantivy_class_p99_ms"]
    ratios = result["ratio_class_p99_vs_tantivy"]
    assert set(ratios) == CLASSES
    for cls, value in ratios.items():
        assert value == pytest.approx(ours[cls] / theirs[cls], abs=0.006), cls
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| paperbot / tantivy |" in report
    assert "pair fields" in report.split("p99 ms by query class")[1]
    common_row = next(line for line in report.splitlines() if line.startswith("| common |"))
    shown = common_row.split("|")[6]  # | class | 3 engines | / fts5 | / tantivy | hits |
    assert float(shown) == pytest.approx(ratios["common"], rel=0.01), common_row
    assert "tantivy without pair fields" in report


def test_tantivy_baseline(tmp_path):
    # tantivy is a core dependency (it is the search engine), so this always runs.
    db = tmp_path / "paperbot.db"
    newest = asyncio.run(_sample_db(db))
    result = measure_tantivy(str(db), newest, 1, Progress(enabled=False))
    assert result["tantivy_p99_ms"] > 0
    assert result["tantivy_index_build_s"] >= 0
    assert set(result["tantivy_class_p99_ms"]) == CLASSES
    assert result["tantivy_hits_per_query"] > 0


def test_corpus_is_deterministic_and_parses_back():
    first = [d.raw for d in CorpusGenerator(700, seed=3).days()]
    again = [d.raw for d in CorpusGenerator(700, seed=3).days()]
    assert first == again
    days = list(CorpusGenerator(700, seed=3).days())
    assert sum(d.new for d in days) == 700
    assert sum(d.repeats for d in days) > 0
    for day in days:
        parsed = parse_dump(day.raw, day.source)
        assert len(parsed.papers) == day.new + day.repeats
        assert not parsed.warnings


def test_query_mix_is_fixed():
    mix = query_mix()
    assert len(mix) == 200
    assert mix == query_mix()
    assert {q.cls for q in mix} == CLASSES
    assert len(autocomplete_inputs([f"Title number {i}" for i in range(50)])) == 50


def test_percentile_and_plot(tmp_path):
    assert percentile([], 99) is None
    assert percentile([1.0, 2.0, 3.0], 50) == 2.0
    assert percentile([0.0, 10.0], 99) == pytest.approx(9.9)
    for papers, p99 in ((1000, 5.0), (10000, 20.0)):
        write_outputs(tmp_path, {"papers": papers, "search_p99_ms": p99, "fts5_p99_ms": 1.0})
    assert "10,000" in (tmp_path / "report.md").read_text()
    plot = tmp_path / "search_p99_vs_size.png"
    # The plot is optional (matplotlib is in the bench extra only): drawn when it is
    # installed, cleanly left out when it is not.
    if importlib.util.find_spec("matplotlib") is not None:
        assert plot.stat().st_size > 0
    else:
        assert not plot.exists()


def test_paperbot_bench_subcommand_parses():
    args = build_parser().parse_args(["bench", "--papers", "5000", "--skip-fanout", "--json"])
    assert (args.command, args.papers, args.skip_fanout, args.json) == ("bench", 5000, True, True)
    assert args.bench_db is None  # never the product's --db / PAPERBOT_DB
    assert Progress(enabled=False)("quiet") is None


def test_burst_reports_latencies_against_the_bot_in_its_own_process(tmp_path, capsys):
    """`--burst N`: N searches at once to the bot in its own process, autocompletes at
    once, and a burst during a fan-out; every figure is there and every search answered."""
    out, db = tmp_path / "out", tmp_path / "bench.db"
    args = ["--papers", "300", "--burst", "12", "--burst-fanout-channels", "40"]
    result = _run(capsys, *args, "--out", str(out), "--db", str(db))

    assert result["burst_searches"] == 12
    assert result["burst_unanswered"] == 0 and result["burst_failed"] == 0
    for name in ("burst_ack", "burst_final", "fanout_burst_ack", "fanout_burst_final"):
        assert 0 < result[f"{name}_p50_ms"] <= result[f"{name}_p99_ms"], name
    assert result["burst_ack_p99_ms"] <= result["burst_final_p99_ms"]
    assert result["burst_loop_cpu_ms_per_search"] > 0
    assert result["autocomplete_burst_answered"] == result["autocomplete_burst"] == 12
    assert 0 < result["autocomplete_burst_p50_ms"] <= result["autocomplete_burst_p99_ms"]
    assert result["fanout_burst_posted"] == 40
    assert result["fanout_posts_per_s_before"] > 0
    assert result["burst_bot_error_lines"] == 0
    for verdict in ("burst_meets_ack_p99", "burst_meets_final_p99", "autocomplete_meets_p99"):
        assert result[verdict] in ("yes", "no")
    assert (out / "burst-results-300.json").is_file()
    table = burst_markdown(result)
    assert "| search final p50 / p95 / p99 (ms) |" in table and "| p99 <= 3,000 |" in table


def test_import_bench_measures_the_floor_and_the_import_in_one_run(tmp_path, capsys):
    code = main(["--import", "300", "--json", "--quiet", "--out", str(tmp_path)])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["floor"]["records"] == result["import"]["papers"] == 300
    assert result["floor"]["papers_per_s"] > 0 and result["import"]["papers_per_s"] > 0
    assert result["ratio_to_floor"] > 0
    assert result["import"]["peak_rss_mb"] is None or result["import"]["peak_rss_mb"] > 10
    assert result["daily_job"]["new_papers"] == 98  # the sample dump, none imported before
    assert result["daily_job"]["ingest_and_index_ms"] > 0
    assert (tmp_path / "import-results-300.json").is_file()


def test_import_bench_keeps_the_imported_database_for_existing_runs(tmp_path, capsys):
    kept = tmp_path / "imported.db"
    argv = ["--import", "200", "--db", str(kept), "--json", "--quiet", "--out", str(tmp_path)]
    assert main(argv) == 0
    capsys.readouterr()
    with sqlite3.connect(kept) as conn:
        # the 200 records and the sample dump the daily job ingested on top
        assert conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0] == 200 + 98
    # a second import into it is refused: it would not measure a fresh import
    assert main(argv) == 1
    assert "exists already" in capsys.readouterr().err


def test_import_bench_compares_postgresql_with_sqlite_in_one_run(tmp_path, capsys, postgres_url):
    argv = ["--import", "300", "--postgres", postgres_url, "--repeat", "1"]
    code = main([*argv, "--json", "--quiet", "--out", str(tmp_path)])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    postgres = result["postgres"]
    assert postgres["import"]["papers"] == result["import"]["papers"] == 300
    assert postgres["import_time_vs_sqlite"] > 0
    for side in (postgres["search"], postgres["sqlite_search"]):
        assert side["samples"] == 200 and side["p99_ms"] > 0 and side["hits"] > 0
        assert set(side["class_p99_ms"]) >= {"common", "phrase", "prefix", "since_filter"}
    assert postgres["search_p99_vs_sqlite"] > 0


def test_the_ranked_dm_fan_out_runs_its_bot_in_a_process_of_its_own() -> None:
    """`bench --relevance`'s fan-out at a tiny size: both fan-outs send every DM through
    a bot process of their own, whose CPU per DM is reported apart from the fake's."""
    from bench.measure_relevance_fanout import measure_ranked_fanout

    result = asyncio.run(measure_ranked_fanout(12, lambda line: None))
    for name in ("unranked", "ranked"):
        assert result[f"relevance_fanout_{name}_dms"] > 0
        assert result[f"relevance_fanout_{name}_bot_errors"] == 0
        assert result[f"relevance_fanout_{name}_dm_channels_opened"] == 0
        assert result[f"relevance_fanout_{name}_bot_cpu_ms_per_dm"] > 0
        assert result[f"relevance_fanout_{name}_fake_cpu_ms_per_dm"] > 0
        assert 0 <= result[f"relevance_fanout_{name}_first_dm_s"] < 60
        assert result[f"relevance_fanout_{name}_posts_per_s"] > 0
    assert result["relevance_fanout_ranked_vs_unranked"] > 0
