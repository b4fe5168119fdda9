"""Command-line options of the benchmark, shared by `python -m bench` and `paperbot bench`.

`paperbot bench` loads this module only when it runs (bot.cli.app.bench_parser); kept free
of heavy imports all the same, so `paperbot bench --help` answers at once.
"""

from __future__ import annotations

import argparse

DEFAULT_OUT = "bench_results"


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _positive(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--papers",
        type=_positive,
        default=10_000,
        help="synthetic corpus size in distinct papers (default 10000; try 100000)",
    )
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--skip-fanout", action="store_true", help="no fan-out (the bot start is still timed)"
    )
    parser.add_argument(
        "--fanout-channels",
        type=_count,
        default=300,
        help="subscribed channels posted to at once in the fan-out (default 300)",
    )
    parser.add_argument(
        "--digest-channels",
        type=_positive,
        default=10_000,
        help="channel settings the digest layout is timed for (default 10000)",
    )
    parser.add_argument(
        "--repeat",
        type=_positive,
        default=2,
        help="measured passes over the query mix, after one warm-up pass (default 2)",
    )
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        help=f"folder for results-<papers>.json, report.md and the plot (default {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--db",
        dest="bench_db",
        default=None,
        metavar="PATH",
        help="keep the benchmark database here; a later run with the same --papers and "
        "--seed reuses it and skips ingest; with --import, the imported database (a new "
        "file), ready for --existing (default: a temporary file, deleted)",
    )
    parser.add_argument(
        "--existing",
        action="store_true",
        help="with --db: measure the database as it is, whatever made it (e.g. `paperbot "
        "import-arxiv-snapshot`): nothing generated or ingested, --papers taken from it",
    )
    parser.add_argument(
        "--no-tantivy", action="store_true", help="skip the tantivy baseline even if installed"
    )
    parser.add_argument(
        "--no-fts5",
        action="store_true",
        help="skip the raw FTS5 baseline (building its index takes many minutes at 1M papers)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also run cProfile over ingest and search and write the hotspots to --out "
        "(timings of a profiled run are inflated, so it is not saved as a result)",
    )
    parser.add_argument(
        "--relevance",
        action="store_true",
        help="only personal relevance: the offline evaluation table (each method beside "
        "the random and keyword-topic baselines) and the members' DM fan-out with and "
        "without ranking, from the same run",
    )
    parser.add_argument(
        "--relevance-members",
        type=_positive,
        default=1000,
        help="members DM'd in each --relevance fan-out, ranked and unranked (default 1000)",
    )
    parser.add_argument(
        "--skip-relevance",
        action="store_true",
        help="no vectors, clicks, For you or /related (encoding every paper's vector takes "
        "an hour or more at 1M papers when the database has none yet)",
    )
    parser.add_argument(
        "--burst",
        type=_positive,
        default=None,
        metavar="N",
        help="only many members at once: N /search interactions from 20 servers sent at "
        "once to the bot in its own process (try 1000), 300 autocompletes at once, and a "
        "300-search burst during a digest fan-out (needs the corpus: give --db to reuse it)",
    )
    parser.add_argument(
        "--burst-fanout-channels",
        type=_positive,
        default=600,
        metavar="N",
        help="channels of the digest fan-out --burst searches during (default 600: about "
        "13 s of posting, the burst in the middle)",
    )
    parser.add_argument(
        "--import",
        dest="import_records",
        type=_positive,
        default=None,
        metavar="N",
        help="only the arXiv snapshot import: N records in the snapshot's format, imported "
        "by `paperbot import-arxiv-snapshot` against a floor measured in the same run "
        "(json + sqlite3 executemany + FTS5 rebuild), with peak RSS and the daily job on "
        "the imported database",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=None,
        help="with --import: also import into a fresh schema of this PostgreSQL server and "
        "compare its import rate and search p99 with SQLite's, in the same run",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark paperbot on a synthetic corpus: ingest, search, autocomplete, "
        "digest layout, bot start and fan-out, against FTS5 and tantivy baselines.",
    )
    add_arguments(parser)
    return parser
