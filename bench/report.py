"""Results as JSON, Markdown tables and a plot of search p99 against corpus size."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.stats import ratio

RESULT_NAME = re.compile(r"^results-(\d+)\.json$")
PLOT_NAME = "search_p99_vs_size.png"
TARGET_P99_MS_1M = 50.0  # the search p99 target at a million papers
TARGET_P99_MS_3M = 100.0  # and at three million

# (label, key): the rows of the summary table.
ROWS: list[tuple[str, str]] = [
    ("papers (distinct, generated)", "papers"),
    ("papers stored after dedupe", "papers_stored"),
    ("repeats dedupe did not recognise", "dedupe_unrecognised_repeats"),
    ("dump entries (with repeats) / days", "dump_entries"),
    ("ingest papers/s (all days, index included)", "ingest_papers_per_s"),
    ("ingest papers/s, first 10% of days (no index)", "ingest_papers_per_s_first_10pct_days"),
    ("ingest papers/s, last 10% of days (no index)", "ingest_papers_per_s_last_10pct_days"),
    ("ingest total s (index included)", "ingest_s"),
    ("ingest index catch-up s", "ingest_index_sync_s"),
    ("daily ingest of the newest dump ms (index commit included)", "ingest_daily_dump_ms"),
    ("ingest new / known / merged", "ingest_new"),
    ("daily job: the sample dump ingested, index commit included, ms", "daily_job_ms"),
    ("daily job CPU ms", "daily_job_cpu_ms"),
    ("daily job: its new papers' vectors, ms", "daily_job_vectors_ms"),
    ("database MB", "db_mb"),
    ("search first call ms (builds indexes)", "search_first_call_ms"),
    ("search p50 ms", "search_p50_ms"),
    ("search p95 ms", "search_p95_ms"),
    ("search p99 ms", "search_p99_ms"),
    ("search CPU p50 / p99 ms (near a quiet machine's wall time)", "search_cpu_p50_ms"),
    ("fts5 baseline p99 ms", "fts5_p99_ms"),
    ("tantivy baseline p99 ms", "tantivy_p99_ms"),
    ("ratio paperbot p99 / fts5 p99", "ratio_p99_vs_fts5"),
    ("ratio paperbot p99 / tantivy p99 (tantivy without pair fields)", "ratio_p99_vs_tantivy"),
    ("common-word p99 ms", "common_word_p99_ms"),
    ("fts5 common-word p99 ms", "fts5_common_word_p99_ms"),
    ("tantivy common-word p99 ms", "tantivy_common_word_p99_ms"),
    ("topic-only search p99 ms", "topic_only_p99_ms"),
    ("autocomplete p50 ms", "autocomplete_p50_ms"),
    ("autocomplete p99 ms", "autocomplete_p99_ms"),
    ("autocomplete CPU p99 ms", "autocomplete_cpu_p99_ms"),
    ("time-zone autocomplete p50 ms (per keystroke)", "zone_autocomplete_p50_ms"),
    ("time-zone autocomplete p99 ms", "zone_autocomplete_p99_ms"),
    ("digest layout, 10k channels, s", "digest_layout_10k_channels_s"),
    ("digest pages (paged form), 10k channels, s", "digest_pages_10k_channels_s"),
    ("relevance vectors encoded per s", "relevance_encode_papers_per_s"),
    ("relevance: member model from 200 ratings, ms", "relevance_model_build_ms"),
    ("relevance click (rate + cached model update) p50 ms", "relevance_click_p50_ms"),
    ("relevance click p99 ms", "relevance_click_p99_ms"),
    ("relevance click p99 / 50 ms budget", "relevance_click_p99_vs_budget"),
    ("For you (newest day, member's model) p50 ms", "for_you_p50_ms"),
    ("For you p99 ms", "for_you_p99_ms"),
    ("/related p50 ms", "related_p50_ms"),
    ("/related p99 ms", "related_p99_ms"),
    ("For you / related CPU p99 ms", "for_you_cpu_p99_ms"),
    ("bot start-to-ready s (first start)", "bot_start_ready_s"),
    ("bot restart-to-ready s", "bot_restart_ready_s"),
    ("fan-out channels", "fanout_channels"),
    ("fan-out posts/s (start-up included)", "fanout_posts_per_s"),
    ("fan-out posts/s sustained (first to last post)", "fanout_sustained_posts_per_s"),
    ("fan-out 429s", "fanout_429s"),
    ("peak RSS MB serving (before the daily job)", "peak_rss_mb_serving"),
    ("peak RSS MB (product phases, daily job included)", "peak_rss_mb"),
    (
        "of the RSS after search, file-backed MB (mapped index, libraries)",
        "rss_file_mb_after_search",
    ),
    ("peak RSS MB (with baselines)", "peak_rss_mb_with_baselines"),
    ("tantivy index build s", "tantivy_index_build_s"),
    ("whole run s", "elapsed_s"),
]
# Said next to every paperbot / tantivy ratio: the two indexes are not the same.
PAIR_FIELDS_NOTE = (
    "paperbot's search index also has pair fields (adjacent common-word pairs in titles "
    "and abstracts, which phrase queries walk) that the tantivy baseline lacks: the "
    "baseline indexes title, abstract, topics and last-seen day only."
)
CLASS_ORDER = [
    "common", "rare", "name", "two_words", "three_words", "phrase", "misspelled", "prefix",
    "topic_filter", "since_filter",
]  # fmt: skip

# Rows of the class table beyond the query mix: (label, key of its p99).
OTHER_P99 = [
    ("autocomplete", "autocomplete_p99_ms"),
    ("topic only", "topic_only_p99_ms"),
    ("For you", "for_you_p99_ms"),
    ("related", "related_p99_ms"),
]

RELEVANCE_ROWS: list[tuple[str, str]] = [
    ("members DM'd per fan-out", "relevance_fanout_members"),
    ("ranking one member's 500-paper day, ms (CPU, why included)", "relevance_rank_ms_per_member"),
]
for _name, _said in (("unranked", "without ranking"), ("ranked", "with ranking")):
    RELEVANCE_ROWS += [
        (f"DMs sent {_said}", f"relevance_fanout_{_name}_dms"),
        (f"fan-out posts/s {_said}", f"relevance_fanout_{_name}_posts_per_s"),
        (f"first DM after, s, {_said}", f"relevance_fanout_{_name}_first_dm_s"),
        (f"DM channels opened {_said}", f"relevance_fanout_{_name}_dm_channels_opened"),
        (
            f"bot CPU per DM {_said}, ms (its process)",
            f"relevance_fanout_{_name}_bot_cpu_ms_per_dm",
        ),
        (
            f"event-loop CPU per DM {_said}, ms",
            f"relevance_fanout_{_name}_bot_loop_cpu_ms_per_dm",
        ),
        (f"posts/s one core allows {_said}", f"relevance_fanout_{_name}_one_core_posts_per_s"),
        (f"fake Discord CPU per DM {_said}, ms", f"relevance_fanout_{_name}_fake_cpu_ms_per_dm"),
        (f"load average at the end {_said}", f"relevance_fanout_{_name}_load_average"),
    ]
RELEVANCE_ROWS += [
    ("ranked / unranked posts/s", "relevance_fanout_ranked_vs_unranked"),
    ("ranked fan-out ≥ 45 posts/s", "relevance_fanout_ranked_meets_45"),
]


def relevance_markdown(result: dict[str, Any]) -> str:
    """`bench --relevance`: the evaluation table, then the fan-out figures."""
    rows = "\n".join(f"| {label} | {_cell(result, key)} |" for label, key in RELEVANCE_ROWS)
    return (
        "## Offline evaluation (labelled real papers, one seed)\n\n"
        f"{result['relevance_eval_table']}\n\n{result['relevance_eval_summary']}\n\n"
        "## Members' DM fan-out, ranked by each member's model\n\n"
        f"| measure | value |\n|---|---|\n{rows}\n"
    )


# (measure, key of the figure, target, key of the verdict)
BURST_ROWS = [
    ("searches sent at once, from servers", "burst_searches", "", None),
    ("search ack p50 / p95 / p99 (ms)", "burst_ack", "p99 <= 1,000", "burst_meets_ack_p99"),
    ("search final p50 / p95 / p99 (ms)", "burst_final", "p99 <= 3,000", "burst_meets_final_p99"),
    ("searches unanswered / failed", "burst_unanswered", "0 / 0", None),
    ("the fake: seconds to send them, its CPU per search (ms)", "burst_send_s", "", None),
    ("event-loop CPU per search (ms)", "burst_loop_cpu_ms_per_search", "", None),
    ("process CPU per search (ms)", "burst_process_cpu_ms_per_search", "", None),
    ("300 autocompletes p50/99 (ms)", "autocomplete_burst", "p99 <= 300", "autocomplete_meets_p99"),
    ("event-loop CPU per autocomplete (ms)", "autocomplete_loop_cpu_ms", "", None),
    ("fan-out posts/s before the search burst", "fanout_posts_per_s_before", "", None),
    ("fan-out posts/s during it", "fanout_posts_per_s_during", ">= 45", "fanout_burst_meets_floor"),
    ("during the fan-out: search ack p99 / final p99 (ms)", "fanout_burst", "", None),
    ("fan-out 429s", "fanout_burst_429s", "", None),
    ("bot ERROR lines", "burst_bot_error_lines", "0", None),
]  # fmt: skip


def _burst_cell(result: dict[str, Any], key: str) -> str:
    if key == "burst_searches":
        return f"{_fmt(result.get(key))} / {_fmt(result.get('burst_servers'))}"
    if key in ("burst_ack", "burst_final"):
        return " / ".join(_fmt(result.get(f"{key}_p{q}_ms")) for q in (50, 95, 99))
    if key == "burst_send_s":
        return f"{_fmt(result.get(key))} / {_fmt(result.get('burst_fake_cpu_ms_per_search'))}"
    if key == "burst_unanswered":
        return f"{_fmt(result.get(key))} / {_fmt(result.get('burst_failed'))}"
    if key == "autocomplete_burst":
        return " / ".join(_fmt(result.get(f"{key}_p{q}_ms")) for q in (50, 99))
    if key == "fanout_burst":
        return " / ".join(_fmt(result.get(f"fanout_burst_{n}_p99_ms")) for n in ("ack", "final"))
    return _fmt(result.get(key))


def burst_markdown(result: dict[str, Any]) -> str:
    """`bench --burst N`: each figure beside the issue's target and whether it is met."""
    lines = ["| measure | value | target | met |", "|---|---:|---|---|"]
    for label, key, target, verdict in BURST_ROWS:
        met = _fmt(result.get(verdict)) if verdict else ""
        lines.append(f"| {label} | {_burst_cell(result, key)} | {target} | {met} |")
    papers = _fmt(result.get("papers"))
    return f"## Many members at once ({papers} papers)\n\n" + "\n".join(lines) + "\n"


def print_json(result: dict[str, Any]) -> None:
    print(json.dumps(result, indent=2, ensure_ascii=False))


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:,.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _cell(result: dict[str, Any], key: str) -> str:
    if key == "dump_entries":
        return f"{_fmt(result.get(key))} / {_fmt(result.get('dump_days'))}"
    if key == "ingest_new":
        parts = ("ingest_new", "ingest_known", "ingest_merged")
        return " / ".join(_fmt(result.get(k)) for k in parts)
    if key == "search_cpu_p50_ms":
        return f"{_fmt(result.get(key))} / {_fmt(result.get('search_cpu_p99_ms'))}"
    if key == "for_you_cpu_p99_ms":
        return f"{_fmt(result.get(key))} / {_fmt(result.get('related_cpu_p99_ms'))}"
    if key == "digest_layout_10k_channels_s" and result.get("digest_layout_10k_is_estimate"):
        return _fmt(result.get(key)) + " (scaled)"
    return _fmt(result.get(key))


def summary_table(results: Sequence[dict[str, Any]]) -> str:
    head = "| metric | " + " | ".join(f"{r['papers']:,} papers" for r in results) + " |"
    lines = [head, "|---|" + "---:|" * len(results)]
    for label, key in ROWS:
        if all(r.get(key) is None for r in results) and key != "tantivy_p99_ms":
            continue
        lines.append(f"| {label} | " + " | ".join(_cell(r, key) for r in results) + " |")
    return "\n".join(lines)


def class_table(result: dict[str, Any]) -> str:
    engines = [
        ("paperbot", result.get("search_class_p99_ms") or {}),
        ("fts5", result.get("fts5_class_p99_ms") or {}),
        ("tantivy", result.get("tantivy_class_p99_ms") or {}),
    ]
    hits = result.get("search_hits_per_query_by_class") or {}
    lines = [
        f"p99 ms by query class, {result['papers']:,} papers:",
        "",
        "| class | paperbot | fts5 | tantivy | paperbot / fts5 | paperbot / tantivy"
        " | paperbot hits/query |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    classes = [c for c in CLASS_ORDER if c in engines[0][1]]
    classes += [c for c in engines[0][1] if c not in classes]
    for cls in classes:
        ours, fts5, tantivy = (e.get(cls) for _, e in engines)
        cells = [_fmt(v) for v in (ours, fts5, tantivy)]
        cells += [_fmt(ratio(ours, fts5)), _fmt(ratio(ours, tantivy)), _fmt(hits.get(cls))]
        lines.append(f"| {cls} | " + " | ".join(cells) + " |")
    # What else a member waits for, paperbot only (the baselines do not have them).
    for label, key in OTHER_P99:
        if result.get(key) is not None:
            lines.append(f"| {label} | {_fmt(result.get(key))} | – | – | – | – | – |")
    lines += ["", PAIR_FIELDS_NOTE]
    return "\n".join(lines)


def markdown_run(result: dict[str, Any]) -> str:
    return summary_table([result]) + "\n\n" + class_table(result) + "\n"


def load_results(out: Path) -> list[dict[str, Any]]:
    found = []
    for path in out.iterdir():
        if RESULT_NAME.match(path.name):
            try:
                found.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
    return sorted(found, key=lambda r: r.get("papers", 0))


def write_outputs(out: Path, result: dict[str, Any]) -> list[Path]:
    """results-<papers>.json for this run, then report.md (and the plot when two or more
    sizes exist) over every results file in ``out``."""
    written = []
    path = out / f"results-{result['papers']}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(path)
    results = load_results(out)
    report = ["# paperbot benchmark", "", summary_table(results), ""]
    for each in results:
        report += [class_table(each), ""]
    plot = out / PLOT_NAME
    if len(results) >= 2 and plot_p99(results, plot):
        report += [f"![search p99 vs corpus size]({PLOT_NAME})", ""]
        written.append(plot)
    (out / "report.md").write_text("\n".join(report), encoding="utf-8")
    written.append(out / "report.md")
    return written


def plot_p99(results: Sequence[dict[str, Any]], path: Path) -> bool:
    """Search p99 (all queries and common words) against corpus size, log-log; False
    when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["papers"] for r in results]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    series = [
        ("paperbot", "search_p99_ms", "common_word_p99_ms", "tab:red"),
        ("FTS5 bm25 (raw SQL)", "fts5_p99_ms", "fts5_common_word_p99_ms", "tab:blue"),
        ("tantivy", "tantivy_p99_ms", "tantivy_common_word_p99_ms", "tab:green"),
    ]
    for label, key, common_key, color in series:
        for k, style, suffix in (
            (key, "-o", "all queries, wall"),
            (common_key, "--x", "common words, wall"),
        ):
            points = [(s, r.get(k)) for s, r in zip(sizes, results, strict=True)]
            points = [(s, v) for s, v in points if v is not None]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, style, color=color, label=f"{label}, {suffix}")
    # CPU time per search: what a quiet machine's wall time would be (a shared machine
    # inflates wall times); quoted phrases set paperbot's p99 at 1M before.
    cpu_series = [
        ("all queries, CPU time", lambda r: r.get("search_cpu_p99_ms"), "-D"),
        (
            "quoted phrases, CPU time",
            lambda r: (r.get("search_class_cpu_p99_ms") or {}).get("phrase"),
            ":s",
        ),
    ]
    for suffix, value, style in cpu_series:
        points = [(s, value(r)) for s, r in zip(sizes, results, strict=True)]
        points = [(s, v) for s, v in points if v is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, style, color="tab:orange", label=f"paperbot, {suffix}")
    for where, target in (("1M", TARGET_P99_MS_1M), ("3M", TARGET_P99_MS_3M)):
        ax.axhline(target, color="grey", linewidth=0.8, linestyle="-.")
        ax.annotate(
            f"target at {where}: {target:g} ms", (min(sizes), target),
            textcoords="offset points", xytext=(2, 3), fontsize=8, color="grey",
        )  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    # Milliseconds as plain numbers (5, 10, 50, 100), not powers of ten.
    plain = matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.set_xlabel("papers in the corpus")
    ax.set_ylabel("search p99 latency (ms)")
    ax.set_title("Search p99 vs corpus size (200-query mix, top 10)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True
