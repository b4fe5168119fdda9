"""Ingest: parse a dump, decide what is new, and write it in one transaction.

Parsing and dedupe are pure; only `IngestStore.ingest_transaction` touches the database,
so a dump that fails anywhere leaves the database exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.day_update import day_changes
from bot.core.dedupe import paper_blocks, paper_keys, plan_papers
from bot.core.dumpdate import resolve_dump_day
from bot.core.models import (
    DumpError,
    IngestPlan,
    IngestReport,
    NotADump,
    ParsedPaper,
    PlanAction,
    PlannedPaper,
    Topic,
    TopicHit,
)
from bot.core.parse import parse_dump
from bot.core.ports import GuildTopics, IngestStore, IngestTransaction
from bot.core.sources import source_of_format
from bot.core.text import normalize_title
from bot.core.topic_lookup import topic_key
from bot.core.topics import compile_topics, load_default_topics
from bot.core.wording import plural

# Text pages, HF's JSON, and arXiv's listings (RSS/Atom feeds and API responses).
DUMP_SUFFIXES = (".txt", ".json", ".text", ".md", ".xml", ".rss", ".atom")
# A dump is a day's page: a few hundred KB. Anything far larger is not one, and reading
# it whole would only waste memory before the parser refuses it.
MAX_DUMP_BYTES = 64 * 1024 * 1024

ProgressCallback = Callable[[int, int, IngestReport], None]


def _too_large(source: str, size: int) -> str:
    return (
        f"{source}: {size // (1024 * 1024):,} MB is too large for a daily dump "
        f"(limit {MAX_DUMP_BYTES // (1024 * 1024)} MB)"
    )


async def ingest_taxonomy(storage: GuildTopics) -> list[Topic]:
    """What every ingest tags papers with: the built-ins and every guild's own topics,
    each under the key it is stored with."""
    own = [
        Topic(topic_key(t), t.name, t.keywords, t.phrases, None)
        for t in await storage.guild_topics(None)
    ]
    return [*load_default_topics(), *own]


async def tag_stored_papers(storage: IngestStore, topic: Topic) -> int:
    """Tag every stored paper with a new (guild) topic; later ingests tag new papers.
    Returns how many papers matched."""
    key = topic_key(topic)
    matcher = compile_topics([Topic(key, topic.name, topic.keywords, topic.phrases)])
    hits: list[tuple[int, TopicHit]] = []
    async for batch in storage.paper_texts():
        for paper_id, title, abstract in batch:
            hits += [(paper_id, hit) for hit in matcher.match(title, abstract)]
    await storage.replace_topic_assignments(key, hits)
    return len(hits)


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


async def ingest_bytes(
    storage: IngestStore,
    raw: bytes,
    source: str,
    *,
    cli_date: dt.date | None = None,
    today: dt.date | None = None,
    topics: Sequence[Topic] | None = None,
    sync_index: bool = True,
    redate: bool = False,
) -> IngestReport:
    """Ingest one dump. Bad input comes back as `report.error`; nothing is written then.

    A dump ingested before changes nothing; the report then names the day it is stored
    under. Another dump of a day already stored (a later fetch of the same HF list)
    updates that day: upvotes, links and summaries, late additions, and the day's order
    (`report.day_update`, `added`, `changed`).

    With `redate` and a `cli_date` other than that day, the stored dump is moved to
    `cli_date` instead, in one transaction.

    With `sync_index`, the search index is brought up to date before returning (a
    folder ingest does it once at the end instead)."""
    report = IngestReport(source=source, content_hash=content_hash(raw))
    if len(raw) > MAX_DUMP_BYTES:
        report.error = _too_large(source, len(raw))
        return report
    try:
        parsed = parse_dump(raw, Path(source).name)
    except DumpError as exc:
        report.error = f"{source}: {exc}"
        report.not_a_dump = isinstance(exc, NotADump)
        return report
    day, day_source = resolve_dump_day(
        parsed, Path(source).name, cli_date, today or dt.date.today()
    )
    report.format, report.day, report.day_source = parsed.format, day, day_source
    report.parsed = len(parsed.papers)
    report.skipped, report.warnings = list(parsed.skipped), list(parsed.warnings)
    if parsed.empty_note:
        # An empty listing (an arXiv feed on a weekend) is not an error, and there is
        # nothing to store: no day without papers is made, as when no dump came at all.
        report.warnings.append(f"{parsed.empty_note}; nothing stored")
        return report
    taxonomy = list(topics) if topics is not None else await ingest_taxonomy(storage)

    matcher = compile_topics(taxonomy)  # once per dump, not once per paper

    def topics_for(title: str, abstract: str) -> tuple[TopicHit, ...]:
        return tuple(matcher.match(title, abstract))

    if redate and cli_date is not None and await _redate(storage, report, parsed.papers, cli_date):
        if sync_index:
            await storage.sync_search_index()  # last days moved: the index filters on them
        return report
    async with storage.ingest_transaction() as tx:
        stored = await tx.stored_dump(report.content_hash)
        if stored is not None:
            report.already_ingested = True
            report.known = report.parsed
            if day != stored.day:
                report.wanted_day = day
            report.day, report.day_source = stored.day, stored.day_source
            return report
        norms = [normalize_title(p.title) for p in parsed.papers]
        keys = [k for p, n in zip(parsed.papers, norms, strict=True) for k in paper_keys(p, n)]
        blocks = [b for p, n in zip(parsed.papers, norms, strict=True) for b in paper_blocks(p, n)]
        by_key = await tx.papers_by_keys(keys)
        candidates = await tx.papers_by_blocks(blocks)
        outcome = plan_papers(parsed.papers, by_key, candidates, topics_for)
        outcome.planned = _apply_replacements(outcome.planned, report)
        # Another dump of this day from the same source (a later fetch) updates the day.
        listed = await tx.day_listing(day, source_of_format(parsed.format))
        if listed:
            changes = day_changes(outcome.planned, listed)
            report.day_update, report.added, report.changed = True, changes.added, changes.changed
        report.new = sum(1 for p in outcome.planned if p.action == PlanAction.NEW)
        report.known = sum(1 for p in outcome.planned if p.action == PlanAction.KNOWN)
        report.merged = sum(1 for p in outcome.planned if p.action == PlanAction.MERGED)
        report.duplicates_in_file = outcome.duplicates_in_file
        report.merges = outcome.merges
        plan = IngestPlan(
            day=day,
            papers=outcome.planned,
            content_hash=report.content_hash,
            source=source,
            format=parsed.format,
            day_source=day_source,
            report_json=json.dumps(report.to_dict()),
            paper_source=source_of_format(parsed.format),
            day_update=report.day_update,
        )
        await tx.apply(plan)
    if sync_index:
        await storage.sync_search_index()
    return report


def _apply_replacements(planned: list[PlannedPaper], report: IngestReport) -> list[PlannedPaper]:
    """An arXiv `replace` announcement updates the paper it revises and is not listed as
    new that day; one for a paper never stored here is left out (the feed repeats only
    its latest version, which belongs to the day it was first announced)."""
    kept: list[PlannedPaper] = []
    unknown = 0
    for item in planned:
        if not item.paper.replacement:
            kept.append(item)
        elif item.action == PlanAction.NEW:
            unknown += 1
        else:
            item.action = PlanAction.UPDATED
            kept.append(item)
    report.updated = sum(1 for item in kept if item.action == PlanAction.UPDATED)
    if unknown:
        report.warnings.append(
            f"{plural(unknown, 'replacement')} of papers not stored here left out "
            "(a replacement updates a stored paper; it is not a new one)"
        )
    return kept


async def _redate(
    storage: IngestStore, report: IngestReport, papers: Sequence[ParsedPaper], day: dt.date
) -> bool:
    """Move the stored dump with this report's content to `day`, in one transaction;
    False (nothing written) when it is not stored or already on that day."""
    async with storage.ingest_transaction() as tx:
        stored = await tx.stored_dump(report.content_hash)
        if stored is None or stored.day == day:
            return False
        listed = await _listed_papers(tx, papers)
        report.moved = await tx.redate_dump(report.content_hash, day, listed)
    report.already_ingested, report.known = True, report.parsed
    report.redated_from = stored.day
    return True


async def _listed_papers(
    tx: IngestTransaction, papers: Sequence[ParsedPaper]
) -> list[tuple[int, int | None]]:
    """(stored paper id, position) of each paper a stored dump lists: every key a paper
    was seen with is registered, so each one is found by one of its own keys."""
    keyed = [paper_keys(p, normalize_title(p.title)) for p in papers]
    found = await tx.papers_by_keys([k for keys in keyed for k in keys])
    listed: dict[int, int | None] = {}
    for paper, keys in zip(papers, keyed, strict=True):
        known = next((found[k] for k in keys if k in found), None)
        if known is not None and known.id not in listed:
            listed[known.id] = paper.position
    return list(listed.items())


@dataclass
class DumpFiles:
    """What a walk over files and folders found."""

    files: list[Path] = field(default_factory=list)  # to ingest, in order
    named: set[Path] = field(default_factory=set)  # of those, the files named explicitly
    # In folders but not dumps: other kinds of files, hidden ones, and the database's
    # own files (a data folder holds the database, its -wal/-shm and its search index).
    skipped: list[Path] = field(default_factory=list)


def find_dump_files(paths: Iterable[str | Path], exclude: Collection[Path] = ()) -> DumpFiles:
    """Files as given, folders expanded to their dump files in name order (which is
    date order for dated names, so days are ingested oldest first). Inside a folder,
    `exclude` (files or folders), hidden entries and names without a dump suffix are
    skipped; a file named explicitly is always tried."""
    excluded = {_absolute(p) for p in exclude}
    found = DumpFiles()
    for raw_path in paths:
        path = Path(raw_path)
        if not path.is_dir():
            found.files.append(path)
            found.named.add(path)
            continue
        in_folder: list[Path] = []
        for folder, dirs, names in os.walk(path):
            here = Path(folder)
            for name in list(dirs):  # pruned here, so nothing inside is even listed
                if name.startswith(".") or _absolute(here / name) in excluded:
                    dirs.remove(name)
                    found.skipped.append(here / name)
            for name in names:
                entry = here / name
                unwanted = name.startswith(".") or _absolute(entry) in excluded
                if unwanted or entry.suffix.lower() not in DUMP_SUFFIXES:
                    found.skipped.append(entry)
                else:
                    in_folder.append(entry)
        found.files += sorted(in_folder)
    return found


def collect_dump_files(paths: Iterable[str | Path], exclude: Collection[Path] = ()) -> list[Path]:
    """The files `find_dump_files` would ingest."""
    return find_dump_files(paths, exclude).files


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


@dataclass
class IngestRun:
    reports: list[IngestReport]  # one per file tried, in order
    skipped: list[Path]  # files in the folders that are not dumps (never read or refused)


async def ingest_paths(
    storage: IngestStore,
    paths: Sequence[str | Path],
    *,
    cli_date: dt.date | None = None,
    today: dt.date | None = None,
    progress: ProgressCallback | None = None,
    exclude: Collection[Path] = (),
    redate: bool = False,
) -> IngestRun:
    """Ingest files and folders, one transaction per dump; a bad file never stops the rest.

    A file found in a folder that turns out not to be a dump at all (a feed, a README,
    another program's JSON) is skipped rather than reported as a failure; a file named
    explicitly is always reported."""
    found = find_dump_files(paths, exclude)
    topics = await ingest_taxonomy(storage)
    run = IngestRun(reports=[], skipped=list(found.skipped))
    for index, path in enumerate(found.files, start=1):
        try:
            # The size first: a file far too large (the whole arXiv snapshot, 4 GB) is
            # refused without being read into memory.
            size = path.stat().st_size
            raw = path.read_bytes() if size <= MAX_DUMP_BYTES else b""
        except OSError as exc:
            report = IngestReport(source=str(path), error=f"{path}: cannot read ({exc.strerror})")
        else:
            if size > MAX_DUMP_BYTES:
                report = IngestReport(source=str(path), error=_too_large(str(path), size))
            else:
                report = await ingest_bytes(
                    storage,
                    raw,
                    str(path),
                    cli_date=cli_date,
                    today=today,
                    topics=topics,
                    sync_index=False,
                    redate=redate,
                )
        if report.not_a_dump and path not in found.named:
            run.skipped.append(path)
        else:
            run.reports.append(report)
        if progress is not None:
            progress(index, len(found.files), report)
    await storage.sync_search_index()
    return run
