"""The `paperbot` command line (argparse, and the dispatch to each command's handler): a
stable contract that tests and benchmarks rely on.

Exit codes: 0 success, 2 usage error (argparse) or a bad setting, 1 bad input or any
other failure, each with a one-line message on stderr and no traceback (`--debug` or
LOG_LEVEL=DEBUG adds the traceback, for a bug report).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import NoReturn

from bot import __version__
from bot.cli import event_loop, import_command
from bot.cli.commands import COMMANDS
from bot.cli.errors import CliError, report_failure
from bot.cli.settings import Settings, SettingsError
from bot.cli.settings_table import ALL_SCOPES, DATABASE, DEFAULTS, LOGGING, SettingScope
from bot.core.since import SinceError, SinceProblem, parse_since
from bot.core.typed_ids import typed_id
from bot.services.freed_memory import return_large_blocks

# The settings each command checks (and so may be stopped by): every command reads
# LOG_LEVEL; those that open the configured database read the database settings; the
# bot reads everything. The console and migrate-db never touch the configured database.
DATABASE_COMMANDS = (
    "ingest",
    "search",
    "paper",
    "digest",
    "topics",
    "stats",
    "export-site",
    "feedback",
    "recommend",
    "related",
    "reindex-vectors",
    "import-arxiv-snapshot",
)
RELEVANCE_COMMANDS = ("feedback", "recommend", "related", "reindex-vectors")
SETTINGS_USED: dict[str, frozenset[SettingScope]] = {
    **dict.fromkeys(DATABASE_COMMANDS, frozenset({DATABASE, LOGGING})),
    **dict.fromkeys(("run", "sync"), ALL_SCOPES),
    **dict.fromkeys(("console", "migrate-db", "bench"), frozenset({LOGGING})),
}


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}; use YYYY-MM-DD") from None


def _since(text: str) -> dt.date | None:
    try:
        return parse_since(text, dt.datetime.now(dt.UTC).date())
    except SinceError as exc:
        why = {
            SinceProblem.UNREADABLE: f"invalid date {text!r}",
            SinceProblem.NOT_A_DAY: f"{text!r} is not a real date",
            SinceProblem.FUTURE: f"{text!r} is in the future",
        }[exc.problem]
        raise argparse.ArgumentTypeError(
            f"{why}; use YYYY-MM-DD, a year (2025) or days back (7 or 7d)"
        ) from None


def _web_address(text: str) -> str:
    if not text.startswith(("http://", "https://")) or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError(f"not an http(s) address: {text!r}")
    return text


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _user(text: str) -> int:
    """A Discord user id: a positive whole number a database can hold."""
    user = typed_id(text)
    if user is None:
        raise argparse.ArgumentTypeError(f"not a Discord user id: {text!r}")
    return user


class OneLineErrors(argparse.ArgumentParser):
    """A parser whose usage errors are one line on stderr (exit 2), without the usage
    block: every paperbot command's, so a bad option reads the same everywhere."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


DEBUG_HELP = "on a failure, show the full traceback too (for a bug report)"


def _debug_flag() -> OneLineErrors:
    """`--debug` after COMMAND, as a parent parser."""
    debug = OneLineErrors(add_help=False)
    # SUPPRESS: the top-level flag is not reset when it is not repeated after COMMAND.
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    return debug


def bench_parser() -> argparse.ArgumentParser:
    """`paperbot bench`'s own arguments, from the benchmark (imported only now)."""
    from bench.options import add_arguments

    parser = argparse.ArgumentParser(prog="paperbot bench", parents=[_debug_flag()])
    add_arguments(parser)
    return parser


class CommandLine(OneLineErrors):
    """paperbot's parser. What follows `bench` goes to the benchmark's own parser,
    loaded only when `bench` runs, so no other command imports the benchmark."""

    # typeshed overloads this on the namespace's type; `paperbot` only uses the plain one.
    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, rest = super().parse_known_args(args, namespace)
        command = getattr(parsed, "command", None)
        if command == "bench":
            bench_parser().parse_args(rest, parsed)  # `--help` and errors exit from there
            rest = []
        elif command is not None and rest:
            # Said by the command, whose --help lists what it takes (parse_args would
            # name only `paperbot`).
            prog = f"{self.prog} {command}"
            self.exit(
                2, f"{prog}: unrecognized arguments: {' '.join(rest)} (see `{prog} --help`)\n"
            )
        return parsed, rest


def build_parser() -> argparse.ArgumentParser:
    parser = CommandLine(
        prog="paperbot",
        description="Daily research-paper digests: ingest dumps, search, lay out digests.",
    )
    parser.add_argument("--version", action="version", version=f"paperbot {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    debug = _debug_flag()
    common = OneLineErrors(add_help=False, parents=[debug])
    common.add_argument(
        "--db",
        default=None,
        help="database file, sqlite:///PATH or postgresql:// URL (default: DATABASE_URL, "
        f"then PAPERBOT_DB, from the environment or .env, then {DEFAULTS['PAPERBOT_DB']})",
    )
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=OneLineErrors
    )

    p = sub.add_parser("ingest", parents=[common], help="ingest dump files or folders")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--date", type=_date, help="the dump's day, overriding file name and content")
    p.add_argument(
        "--redate",
        action="store_true",
        help="a dump ingested before is moved to --date (its papers' days change)",
    )
    p.add_argument("--json", action="store_true", help="print the health reports as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress lines")

    p = sub.add_parser(
        "search",
        parents=[common],
        help=(
            "search papers by keyword, topic, source and/or author; "
            "an arXiv id or link shows that paper"
        ),
    )
    p.add_argument("query", nargs="?", default=None, metavar="QUERY")
    p.add_argument("--topic", help="only papers on this topic (see `paperbot topics`)")
    p.add_argument(
        "--since",
        type=_since,
        help="only papers seen on or after this day (2026-03-14), year (2025) or so many "
        "days back (7 or 7d), as /search takes it",
    )
    p.add_argument(
        "--source",
        help="only papers from hf, arxiv, or arXiv categories like arxiv:cs.CL,cs.LG (default all)",
    )
    p.add_argument(
        "--author", help="only this author's papers (accents and initials match: 'J. Alvarez')"
    )
    p.add_argument("--limit", type=_positive, default=10, help="how many results (default 10)")
    p.add_argument(
        "--for-user",
        type=_user,
        metavar="USER",
        help="the matches in this member's order (a Discord user id; their likes and follows)",
    )
    p.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "paper",
        parents=[common],
        help="show one paper in full: by arXiv id or link, title or part of a title",
    )
    p.add_argument("paper", nargs="+", metavar="ID_OR_TITLE")
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

    p = sub.add_parser(
        "export-site",
        parents=[common],
        help="write the papers as a static site with Atom feeds into DIR (safe to run "
        "again: unchanged files are left as they are)",
    )
    p.add_argument("folder", metavar="DIR")
    p.add_argument(
        "--base-url",
        type=_web_address,
        help="the address the site is published at, e.g. https://you.github.io/papers/: "
        "the feeds then carry absolute links (default: links relative to each feed)",
    )

    p = sub.add_parser(
        "feedback",
        parents=[common],
        help="rate papers for a member: more like this (--like), less (--dislike), "
        "--save, or --clear to undo",
    )
    p.add_argument("--user", type=_user, required=True, help="the member's Discord user id")
    p.add_argument(
        "papers",
        nargs="+",
        metavar="PAPER",
        help="a paper's id (from `search --json`) or its arXiv id",
    )
    action = p.add_mutually_exclusive_group(required=True)
    for flag, text in (
        ("--like", "more like this"),
        ("--dislike", "less like this"),
        ("--save", "keep it in the member's saved papers"),
        ("--clear", "forget the member's feedback on it"),
    ):
        action.add_argument(flag, action="store_true", help=text)

    p = sub.add_parser(
        "recommend",
        parents=[common],
        help="a member's For you list of a day: their ranking, papers they rated left out",
    )
    p.add_argument("--user", type=_user, required=True, help="the member's Discord user id")
    p.add_argument("--date", type=_date, help="the day (default: the newest day with papers)")
    p.add_argument("--limit", type=_positive, default=None, help="at most this many papers")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("related", parents=[common], help="papers most like a paper, with why")
    p.add_argument("paper", metavar="PAPER", help="its id (from `search --json`) or arXiv id")
    p.add_argument("--limit", type=_positive, default=5, help="how many papers (default 5)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "reindex-vectors",
        parents=[common],
        help="encode the relevance vectors of stored papers that lack one (the bot does "
        "it after every ingest and at start); --all encodes every paper again",
    )
    p.add_argument("--all", action="store_true", help="forget every vector and start over")

    import_command.add_parser(sub, common)

    sub.add_parser(
        "run",
        parents=[common],
        help="run the Discord bot (DISCORD_TOKEN from the environment or .env); "
        "with no token, explain and start the offline console (exit 1 when there is "
        "no input to read, as under a service manager)",
    )
    p = sub.add_parser(
        "console",
        parents=[common],
        help="try every slash command offline against a built-in fake Discord, on a "
        "throwaway database (or --db PATH's papers; never the configured database)",
    )
    p.add_argument(
        "--no-sample",
        action="store_true",
        help="don't ingest the bundled sample (it never goes into a --db database)",
    )
    sub.add_parser("sync", parents=[common], help="force a slash-command sync with Discord")

    p = sub.add_parser(
        "migrate-db",
        parents=[debug],
        help="copy a whole database (papers, subscriptions, follows, delivery records) "
        "into another, e.g. SQLite to PostgreSQL; safe to run again",
    )
    p.add_argument("--from", dest="source", required=True, metavar="URL", help="copy from")
    p.add_argument("--to", dest="target", required=True, metavar="URL", help="copy into")
    p.add_argument("--json", action="store_true", help="print the per-table counts as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress lines")

    p = sub.add_parser(
        "bench",
        parents=[debug],
        add_help=False,  # `paperbot bench --help` is the benchmark parser's
        help="measure ingest, search, digest layout and fan-out on a synthetic corpus "
        "(its own database, never --db's; see bench/README.md)",
    )
    return parser


# Long-running commands, whose memory over hours matters, and the bench, which measures
# them. A short command pays about 5% more system time for the mappings and frees
# everything at exit anyway.
RETURN_LARGE_BLOCKS = frozenset({"run", "import-arxiv-snapshot", "bench"})


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in RETURN_LARGE_BLOCKS:
        # Before any work: relevance batches would otherwise leave freed memory resident.
        return_large_blocks()
    debug = bool(getattr(args, "debug", False))
    secrets: list[str] = []
    try:
        # One loader for every command: environment, then .env, then defaults; --db wins.
        settings = Settings.load(db=getattr(args, "db", None), check=SETTINGS_USED[args.command])
        secrets = list(settings.secrets)
        args.debug = debug = debug or settings.debug
        args.settings = settings
        if DATABASE in SETTINGS_USED[args.command]:
            args.db = settings.db
        if args.command in RELEVANCE_COMMANDS:
            # Loaded only for these commands: the engine brings numpy and a tokenizer.
            from bot.cli.relevance_commands import RELEVANCE_COMMANDS as HANDLERS

            return asyncio.run(HANDLERS[args.command](args))
        if args.command == "import-arxiv-snapshot":
            return asyncio.run(import_command.cmd_import_snapshot(args))
        if args.command == "run":  # the bot: on uvloop where installed
            return event_loop.run(COMMANDS[args.command](args))
        return asyncio.run(COMMANDS[args.command](args))
    except SettingsError as exc:
        print(f"paperbot: bad setting {exc}", file=sys.stderr)
        return 2
    except CliError as exc:
        print(f"paperbot: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("paperbot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `paperbot search x | head`
        return 0
    except Exception as exc:  # a failure nobody foresaw: still one line, not a traceback
        return report_failure(exc, debug=debug, secrets=secrets)


def print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
