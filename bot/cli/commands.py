"""The handlers behind each `paperbot` subcommand (argument parsing is in bot.cli)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypedDict

from bot.cli.console_input import commands_to_read
from bot.cli.errors import CliError
from bot.cli.settings import Settings
from bot.core.authors import author_key
from bot.core.digest import DigestSettings, layout_digest
from bot.core.ingest import ingest_paths
from bot.core.models import IngestReport, SearchHit, SearchResponse, StoredPaper, Topic
from bot.core.parse_text import BOILERPLATE
from bot.core.query import parse_query
from bot.core.render import NO_DUMP_YET, paper_url, search_label
from bot.core.sources import parse_source_filter
from bot.core.topic_lookup import (
    UnknownTopic,
    or_list,
    resolve_topic,
    resolve_topic_list,
    topic_key,
)
from bot.core.topics import load_default_topics
from bot.core.wording import (
    already_stored_text,
    count_text,
    ingest_summary,
    no_results_text,
    plural,
    results_header,
    spelling_note,
)
from bot.services.search import SearchService
from storage import Storage, open_storage, sqlite_path
from storage.urls import is_postgres_url, redact


def require_database(db: str) -> None:
    """Refuse a SQLite database that is not there, before opening would create one
    (read-only commands must create nothing: no folders, no file, no index)."""
    if is_postgres_url(db):
        return
    try:
        path = Path(sqlite_path(db))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if path.is_dir():
        raise CliError(f"{path} is a folder, not a database file")
    if not path.exists():
        raise CliError(f"no database at {path}; run `paperbot ingest` first")


@asynccontextmanager
async def opened(db: str, *, must_exist: bool = False) -> AsyncIterator[Storage]:
    if must_exist:
        require_database(db)
    try:
        storage = await open_storage(db)
    except (sqlite3.Error, OSError, ValueError, RuntimeError) as exc:
        raise CliError(f"cannot open database {redact(db)}: {exc}") from None
    try:
        yield storage
    finally:
        await storage.close()


def _out(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


REDATE_HINT = "run again with --date {day} --redate"


def _report_line(report: IngestReport, redate: bool) -> str:
    if report.error:
        return f"error: {report.error}"
    if report.already_ingested:
        # Asked to re-date it to the day it already has: there is nothing to explain.
        hint = None if redate and report.wanted_day is None else REDATE_HINT
        return f"{report.source}: " + already_stored_text(report, how_to_redate=hint)
    return f"{report.source}: {ingest_summary(report, str(report.day))}"


def _print_report(report: IngestReport, redate: bool = False) -> None:
    print(_report_line(report, redate))
    if report.already_ingested:
        return  # its content was reported when it was stored
    for skipped in report.skipped:
        if skipped.reason == BOILERPLATE:
            continue  # page chrome is in every saved page: /ingest leaves it out too
        print(f"  skipped line {skipped.line}: {skipped.reason}: {skipped.text!r}")
    for warning in report.warnings:
        print(f"  warning: {warning}")
    for incoming, stored in report.merges:
        print(f"  merged: {incoming!r} is {stored!r}")


async def cmd_ingest(args: argparse.Namespace) -> int:
    show_progress = not args.quiet and not args.json

    def progress(done: int, total: int, report: IngestReport) -> None:
        if show_progress and total > 1:
            status = (
                "not a dump"
                if report.not_a_dump
                else "failed"
                if report.error
                else f"{report.new} new"
            )
            print(f"[{done}/{total}] {report.source}: {status}", file=sys.stderr, flush=True)

    redate = getattr(args, "redate", False)
    if redate and args.date is None:
        raise CliError("--redate needs --date: the day to move the dump to", exit_code=2)
    if not any(Path(p).exists() for p in args.paths):
        # Nothing to read: say so before a database is created for it.
        raise CliError(f"{', '.join(args.paths)}: cannot read (no such file or folder)")
    async with opened(args.db) as storage:
        run = await ingest_paths(
            storage,
            args.paths,
            cli_date=args.date,
            progress=progress,
            exclude=storage.own_files(),
            redate=redate,
        )
        # Also after a run that stored nothing new: one killed between its commit and
        # the encoding left papers without vectors, and they are caught up now.
        if await storage.papers_without_vectors(limit=1):
            await _encode_new_papers(storage)
    reports = run.reports
    if run.skipped:
        # A folder may hold anything (the data folder holds the database itself): what
        # is not a dump is passed over and counted, never a failure.
        print(_skipped_line(run.skipped), file=sys.stderr if args.json else sys.stdout)
    if not reports:
        if run.skipped:
            return 0
        raise CliError("no dump files found in " + ", ".join(args.paths))
    if args.json:
        _out([r.to_dict() for r in reports])
    else:
        for report in reports:
            if not report.error:
                _print_report(report, redate)
        if len(reports) > 1:
            ok = [r for r in reports if not r.error]
            print(
                f"total: {plural(len(reports), 'dump')}, "
                f"{plural(sum(r.new for r in ok), 'new paper')}, "
                f"{count_text(sum(r.merged for r in ok))} merged, "
                f"{count_text(len(reports) - len(ok))} failed"
            )
    errors = [r for r in reports if r.error]
    for report in errors:
        print(f"paperbot: {report.error}{_snapshot_hint(report.source)}", file=sys.stderr)
    return 1 if errors else 0


def _snapshot_hint(source: str) -> str:
    """A pointer to the right command when a file that failed to ingest is the arXiv
    metadata snapshot (JSON lines of records, which no daily dump is); "" otherwise."""
    from bot.services.snapshot_file import UNREADABLE
    from bot.services.snapshot_import import snapshot_problem

    try:
        if snapshot_problem(Path(source)) is not None:
            return ""
    except UNREADABLE:
        return ""
    return "; it is the arXiv metadata snapshot: use `paperbot import-arxiv-snapshot`"


async def _encode_new_papers(storage: Storage) -> None:
    """The new papers' relevance vectors, after their ingest committed (a failed ingest
    stored nothing, so there is nothing to encode for it)."""
    from bot.services.relevance_service import RelevanceService
    from bot.services.topics import TopicCatalog

    topics = TopicCatalog(storage, load_default_topics())
    await RelevanceService(store=storage, papers=storage, topics=topics).sync_vectors()


def _skipped_line(skipped: list[Path]) -> str:
    shown = [p.name + ("/" if p.is_dir() else "") for p in sorted(skipped)[:8]]
    names = ", ".join(shown) + (", …" if len(skipped) > len(shown) else "")
    if len(skipped) == 1:
        return f"skipped 1 file that is not a dump: {names}"
    return f"skipped {len(skipped)} files that are not dumps: {names}"


def _cli_topics(text: str | None, *, several: bool = False) -> tuple[Topic, ...]:
    """The built-in topics `--topic` (or, `several`, the comma-separated `--topics`)
    names, by slug or name in any case: the bot's own exact lookup."""
    if not several and not (text or "").strip():
        raise CliError(
            "--topic needs a topic's slug or name (run `paperbot topics` for the list)",
            exit_code=2,
        )
    taxonomy = load_default_topics()
    try:
        if several:
            return resolve_topic_list(taxonomy, text)
        return (resolve_topic(taxonomy, text or ""),)
    except UnknownTopic as exc:
        hint = f"; did you mean {or_list(exc.suggestions)}?" if exc.suggestions else ""
        raise CliError(
            f"unknown topic {exc.typed!r}{hint} (run `paperbot topics` for the list)"
        ) from None


class HitJson(TypedDict):
    """One search result in `paperbot search --json`."""

    id: int
    title: str
    dates: list[str]  # ISO days it appeared on
    topics: list[str]  # topic keys
    sources: list[str]  # where it is known from, as --source sees it: "arxiv", "hf"
    categories: list[str]  # arXiv categories, the primary one first
    score: float
    url: str
    why: list[str]


class PaperJson(TypedDict):
    """`paperbot paper --json`."""

    id: int
    arxiv_id: str | None
    title: str
    url: str
    authors: list[str]
    dates: list[str]
    topics: list[str]
    abstract: str


# The query and author as a results header echoes them: a pasted essay is cut, so the
# header stays one readable line with its filters in view.
LABEL_CHARS = 120


def hit_json(hit: SearchHit) -> HitJson:
    paper = hit.paper
    return {
        "id": paper.id,
        "title": paper.title,
        "dates": [d.isoformat() for d in paper.days],
        "topics": [t.topic for t in paper.topics],
        "sources": list(paper.sources),
        "categories": list(paper.categories),
        "score": hit.score,
        "url": paper_url(paper),
        "why": list(hit.why),
    }


async def cmd_search(args: argparse.Namespace) -> int:
    try:
        source = parse_source_filter(args.source)
    except ValueError as exc:
        raise CliError(f"--source: {exc}", exit_code=2) from None
    author = args.author.strip() if args.author and args.author.strip() else None
    if author is not None and not author_key(author):
        raise CliError("--author: an author's name needs letters", exit_code=2)
    if args.query and args.query.strip() and parse_query(args.query).empty:
        raise CliError(
            f"the query {args.query.strip()!r} has no words to search for: use letters or digits",
            exit_code=2,
        )
    nothing = not (args.query and args.query.strip()) and args.topic is None
    if nothing and source.everything and author is None:
        raise CliError(
            "search needs a QUERY, a --topic, a --source, an --author, or several", exit_code=2
        )
    topic = _cli_topics(args.topic)[0] if args.topic is not None else None
    from bot.services.relevance_service import RelevanceService
    from bot.services.topics import TopicCatalog

    async with opened(args.db, must_exist=True) as storage:
        topics = TopicCatalog(storage, load_default_topics())
        relevance = RelevanceService(store=storage, papers=storage, topics=topics)
        # Words and meaning (hybrid ranking), as the bot's /search.
        service = SearchService(storage, load_default_topics(), relevance)
        if args.for_user is not None and not await relevance.member_known(args.for_user):
            raise CliError(
                f"nothing is stored about user {args.for_user}: no feedback, follows or mutes"
            )
        # An arXiv id or link names one paper: that paper, not a search for its digits.
        named = await service.arxiv_paper(args.query) if args.query else None
        if named is None:
            response = await service.search(
                args.query,
                topic=topic_key(topic) if topic else None,
                since=args.since,
                limit=args.limit,
                source=source,
                author=author,
                for_user=args.for_user,
            )
    if named is not None:
        if named.paper is None:
            raise _not_stored(named.arxiv_id or "")
        hit = SearchHit(paper=named.paper, score=1.0, why=(f"arXiv id {named.arxiv_id}",))
        response = SearchResponse(hits=[hit], total=1)
    if args.json:
        _out([hit_json(h) for h in response.hits])
        return 0
    label = search_label(args.query, topic, args.since, source, author, max_chars=LABEL_CHARS)
    if not response.hits:
        print(no_results_text(label, older=response.older, older_exact=response.older_exact))
        return 0
    if named is None:  # an id names its paper: no count of matches to give
        header = results_header(
            1,
            len(response.hits),
            response.total,
            response.total_exact,
            label,
            every_word=response.every_word,
        )
        print(header)
    if response.corrections:
        print(spelling_note(response.corrections))
    for rank, hit in enumerate(response.hits, start=1):
        print(f"{rank:>2}. {hit.paper.title}")
        print(f"    {paper_url(hit.paper)}")
        print(f"    why: {'; '.join(hit.why) or '-'}  (score {hit.score:.3f})")
    return 0


def _not_stored(arxiv_id: str) -> CliError:
    return CliError(
        f"no paper with arXiv id {arxiv_id} is stored "
        "(papers from text dumps carry no arXiv id: try the title)"
    )


async def cmd_paper(args: argparse.Namespace) -> int:
    text = " ".join(args.paper).strip()
    if not text:
        raise CliError("paper needs an arXiv id, a link, a title or part of one", exit_code=2)
    async with opened(args.db, must_exist=True) as storage:
        found = await SearchService(storage, load_default_topics()).open_paper(text)
    paper = found.paper
    if paper is None:
        if found.arxiv_id is not None:
            raise _not_stored(found.arxiv_id)
        raise CliError(f"no paper matches {text!r}; try `paperbot search`")
    if args.json:
        _out(paper_json(paper))
        return 0
    print(paper.title)
    print(paper_url(paper))
    if paper.authors:
        print("authors: " + ", ".join(paper.authors))
    if paper.days:
        print("seen:    " + ", ".join(d.isoformat() for d in paper.days))
    else:
        print(f"seen:    {NO_DUMP_YET} (announced {paper.first_seen.isoformat()})")
    if paper.topics:
        print("topics:  " + ", ".join(t.topic for t in paper.topics))
    print()
    print(paper.abstract or "(no abstract)")
    return 0


def paper_json(paper: StoredPaper) -> PaperJson:
    return {
        "id": paper.id,
        "arxiv_id": paper.arxiv_id,
        "title": paper.title,
        "url": paper_url(paper),
        "authors": list(paper.authors),
        "dates": [d.isoformat() for d in paper.days],
        "topics": [t.topic for t in paper.topics],
        "abstract": paper.abstract,
    }


async def cmd_digest(args: argparse.Namespace) -> int:
    wanted = tuple(topic_key(t) for t in _cli_topics(args.topics, several=True))
    topics = load_default_topics()
    async with opened(args.db, must_exist=True) as storage:
        day = args.date
        if day is None:
            days = await storage.days(limit=1)
            day = days[0] if days else dt.date.today()
        papers = await storage.papers_on_day(day)
    settings = DigestSettings(topics=wanted, max_items=args.max)
    payloads = layout_digest(papers, day, settings, {t.slug: t.name for t in topics})
    if args.json:
        _out(payloads)
        return 0
    for number, payload in enumerate(payloads, start=1):
        print(f"--- message {number}/{len(payloads)} ---")
        if payload.get("content"):
            print(payload["content"])
        for embed in payload.get("embeds", []):
            print(f"* {embed.get('title', '')}  <{embed.get('url', '')}>")
            if embed.get("description"):
                print("  " + embed["description"].replace("\n", "\n  "))
    return 0


async def cmd_topics(args: argparse.Namespace) -> int:
    topics = load_default_topics()
    async with opened(args.db, must_exist=True) as storage:
        days = await storage.days(limit=1)
        today = await storage.topic_counts(days[0]) if days else {}
        total = await storage.topic_counts(None)
    rows = [
        {
            "slug": t.slug,
            "name": t.name,
            "latest_day": today.get(t.slug, 0),
            "total": total.get(t.slug, 0),
            "keywords": list(t.keywords),
            "phrases": list(t.phrases),
        }
        for t in topics
    ]
    if args.json:
        _out(rows)
        return 0
    print(f"{'topic':<24} {'newest day':>10} {'total':>7}  name")
    for row in rows:
        print(f"{row['slug']:<24} {row['latest_day']:>10} {row['total']:>7}  {row['name']}")
    return 0


async def cmd_stats(args: argparse.Namespace) -> int:
    async with opened(args.db, must_exist=True) as storage:
        stats = await storage.stats()
        own = {topic_key(t): f"{t.name} (server topic)" for t in await storage.guild_topics()}
    if args.json:
        _out(stats)
        return 0
    # A topic by its name: storage counts them by key (a server's is `<guild id>:<slug>`).
    names = {t.slug: t.name for t in load_default_topics()} | own
    counts = sorted((names.get(k, k), n) for k, n in stats["topics"].items())
    print(f"database:   {stats['database']}")
    print(f"papers:     {count_text(stats['papers'])}")
    newest = f"newest {stats['latest_day']}" if stats["latest_day"] else "no daily dump yet"
    print(f"days:       {count_text(stats['days'])} ({newest})")
    print(f"dumps:      {count_text(stats['dumps'])}")
    print("topics:     " + (", ".join(f"{name} {count_text(n)}" for name, n in counts) or "none"))
    return 0


async def cmd_export_site(args: argparse.Namespace) -> int:
    from bot.cli.site_command import export_to

    async with opened(args.db, must_exist=True) as storage:
        return await export_to(storage, args)


COMMANDS: dict[str, Callable[[argparse.Namespace], Coroutine[Any, Any, int]]] = {
    "ingest": cmd_ingest,
    "search": cmd_search,
    "paper": cmd_paper,
    "digest": cmd_digest,
    "topics": cmd_topics,
    "stats": cmd_stats,
    "export-site": cmd_export_site,
}


NO_TOKEN = (
    "no DISCORD_TOKEN is set (in the environment or .env), so the bot can't connect to "
    "Discord; copy .env.example to .env and add the bot's token"
)


async def cmd_run(args: argparse.Namespace) -> int:
    settings = args.settings
    if not settings.token:
        # A service manager gives no input: failing (exit 1) is what lets it notice.
        stdin = await commands_to_read(sys.stdin)
        if stdin is None:
            raise CliError(NO_TOKEN + " (and there are no console commands to read)")
        print(
            f"paperbot: {NO_TOKEN}.\nStarting the offline console instead, on a throwaway "
            "database: type slash commands and see the replies.",
            file=sys.stderr,
        )
        from bot.cli.console import run_console

        return await run_console(stdin=stdin, debug=args.debug)
    from bot.cli.runner import run_bot

    return await run_bot(_with_debug(settings, args.debug))


async def cmd_sync(args: argparse.Namespace) -> int:
    settings = args.settings
    if not settings.token:
        raise CliError("no DISCORD_TOKEN set; `paperbot sync` needs the real bot token")
    from bot.cli.runner import run_bot

    return await run_bot(_with_debug(settings, args.debug), sync_only=True)


def _with_debug(settings: Settings, debug: bool) -> Settings:
    """--debug is LOG_LEVEL=DEBUG for the bot."""
    return dataclasses.replace(settings, log_level="DEBUG") if debug else settings


async def cmd_console(args: argparse.Namespace) -> int:
    from bot.cli.console import run_console

    # Only a --db typed on this command line: the console never opens the configured
    # database (it is a sandbox; `paperbot run` against that database is the real bot).
    if args.db is not None:
        require_database(args.db)  # a typo must not leave a new, empty database behind
    return await run_console(
        db=args.db, ingest_sample=not getattr(args, "no_sample", False), debug=args.debug
    )


async def cmd_bench(args: argparse.Namespace) -> int:
    from bench.errors import BenchError
    from bench.runner import run

    try:
        return await run(args)
    except BenchError as exc:
        raise CliError(str(exc)) from None


async def cmd_migrate_db(args: argparse.Namespace) -> int:
    from pathlib import Path

    from storage import sqlite_path
    from storage.migrate import MigrationRefused, TableCount, copy_database
    from storage.urls import is_postgres_url

    if args.source.strip() == args.target.strip():
        raise CliError("--from and --to name the same database")
    if not is_postgres_url(args.source):
        try:
            source_file = Path(sqlite_path(args.source))
        except ValueError as exc:
            raise CliError(str(exc)) from None
        if not source_file.is_file():  # opening would create an empty one
            raise CliError(f"no database at {source_file}")
    show_progress = not args.quiet and not args.json

    def progress(count: TableCount) -> None:
        if show_progress:
            print(f"  {count.table}: {count.read} read, {count.new} new", file=sys.stderr)

    async with opened(args.source) as source, opened(args.target) as target:
        try:
            report = await copy_database(source, target, progress)
        except MigrationRefused as exc:
            raise CliError(str(exc)) from None
    if args.json:
        _out(report.to_dict())
        return 0
    print(f"{'table':<24} {'read':>9} {'new':>9} {'already there':>14}")
    for count in report.tables:
        print(f"{count.table:<24} {count.read:>9} {count.new:>9} {count.already:>14}")
    already = report.read - report.new
    print(
        f"total: {plural(report.read, 'row')} read, {count_text(report.new)} copied, "
        f"{count_text(already)} already there"
    )
    return 0


COMMANDS.update(
    {
        "run": cmd_run,
        "sync": cmd_sync,
        "console": cmd_console,
        "bench": cmd_bench,
        "migrate-db": cmd_migrate_db,
    }
)
