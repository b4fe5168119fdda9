"""The `paperbot` command line: a stable contract that tests and benchmarks rely on.

Exit codes: 0 success, 2 usage error (argparse), 1 bad input with a one-line message
on stderr and no traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence

from bench.options import add_arguments as add_bench_arguments
from bot import __version__
from bot.cli_commands import COMMANDS, CliError

DEFAULT_DB = "data/paperbot.db"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}; use YYYY-MM-DD") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paperbot",
        description="Daily research-paper digests: ingest dumps, search, lay out digests.",
    )
    parser.add_argument("--version", action="version", version=f"paperbot {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        default=None,
        help="database file, sqlite:///PATH or postgresql:// URL "
        f"(default: $DATABASE_URL, then $PAPERBOT_DB, then {DEFAULT_DB})",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("ingest", parents=[common], help="ingest dump files or folders")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--date", type=_date, help="the dump's day, overriding file name and content")
    p.add_argument("--json", action="store_true", help="print the health reports as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress lines")

    p = sub.add_parser("search", parents=[common], help="search papers by keyword and/or topic")
    p.add_argument("query", nargs="?", default=None, metavar="QUERY")
    p.add_argument("--topic", help="only papers on this topic (see `paperbot topics`)")
    p.add_argument("--since", type=_date, help="only papers seen on or after this day")
    p.add_argument("--limit", type=_positive, default=10, help="how many results (default 10)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("digest", parents=[common], help="lay out a day's digest")
    p.add_argument("--date", type=_date, help="the day (default: the newest day with papers)")
    p.add_argument("--topics", default="", help="comma-separated topics to keep (slugs or names)")
    p.add_argument("--max", type=_positive, default=10, help="most papers to show (default 10)")
    p.add_argument("--json", action="store_true", help="print the Discord message payloads")

    p = sub.add_parser("topics", parents=[common], help="list the topics with paper counts")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("stats", parents=[common], help="database statistics")
    p.add_argument("--json", action="store_true")

    sub.add_parser(
        "run",
        parents=[common],
        help="run the Discord bot (DISCORD_TOKEN from the environment or .env); "
        "with no token, start the offline console",
    )
    p = sub.add_parser(
        "console",
        parents=[common],
        help="try every slash command offline against a built-in fake Discord",
    )
    p.add_argument("--no-sample", action="store_true", help="don't ingest the bundled sample")
    sub.add_parser("sync", parents=[common], help="force a slash-command sync with Discord")

    p = sub.add_parser(
        "migrate-db",
        help="copy a whole database (papers, subscriptions, follows, delivery records) "
        "into another, e.g. SQLite to PostgreSQL; safe to run again",
    )
    p.add_argument("--from", dest="source", required=True, metavar="URL", help="copy from")
    p.add_argument("--to", dest="target", required=True, metavar="URL", help="copy into")
    p.add_argument("--json", action="store_true", help="print the per-table counts as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress lines")

    p = sub.add_parser(
        "bench",
        help="measure ingest, search, digest layout and fan-out on a synthetic corpus "
        "(its own database, never --db's; see bench/README.md)",
    )
    add_bench_arguments(p)
    return parser


def resolve_db(arg: str | None) -> str | None:
    """--db, then DATABASE_URL, then PAPERBOT_DB; None lets the bot's settings (which
    read .env) decide."""
    return arg or os.environ.get("DATABASE_URL") or os.environ.get("PAPERBOT_DB")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.db = resolve_db(getattr(args, "db", None))
    if args.db is None and args.command not in ("run", "console", "sync", "migrate-db"):
        args.db = DEFAULT_DB
    handler = COMMANDS[args.command]
    try:
        return asyncio.run(handler(args))
    except CliError as exc:
        print(f"paperbot: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("paperbot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `paperbot search x | head`
        return 0


def print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    sys.exit(main())
