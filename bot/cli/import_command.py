"""`paperbot import-arxiv-snapshot FILE`: the arXiv metadata snapshot into the database,
resumable, with a progress bar on a terminal and one line per batch otherwise."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.commands import _out, opened
from bot.cli.errors import CliError
from bot.core.snapshot import SnapshotFilter, parse_category_globs, parse_since
from bot.core.snapshot_import import BATCH_LINES, ImportCounts
from bot.core.wording import plural

if TYPE_CHECKING:
    from bot.services.snapshot_import import ImportProgress, ImportResult


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "import-arxiv-snapshot",
        parents=[common],
        help="import the arXiv metadata snapshot (JSON lines; .gz, .bz2, .xz or the .zip "
        "download as they are): resumable, "
        "announces nothing (no digest or DM), searchable when done",
    )
    p.add_argument(
        "file", metavar="FILE", help="arxiv-metadata-oai-snapshot.json, compressed or not"
    )
    p.add_argument(
        "--categories",
        help="only papers in any of these categories: comma-separated globs, e.g. 'cs.*,stat.ML'",
    )
    p.add_argument("--since", help="only papers first announced on or after this year or day")
    p.add_argument(
        "--batch",
        type=int,
        default=BATCH_LINES,
        metavar="LINES",
        help=f"lines per transaction (default {BATCH_LINES:,}); a killed import resumes "
        "after the last one committed",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar or lines")


def _filter(args: argparse.Namespace) -> SnapshotFilter:
    try:
        globs = parse_category_globs(args.categories) if args.categories is not None else None
        since = parse_since(args.since) if args.since is not None else None
    except ValueError as exc:
        raise CliError(str(exc), exit_code=2) from None
    return SnapshotFilter(globs, since)


class _Progress:
    """A tqdm bar on a terminal; one line per batch on stderr otherwise."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: Any = None
        self.last = 0

    def __call__(self, step: ImportProgress) -> None:
        if self.quiet:
            return
        counts = step.counts
        if sys.stderr.isatty():
            if self.bar is None:
                from tqdm import tqdm

                # Bytes of the file, compressed or not, so the bar has a percentage and
                # an ETA; a resumed import starts at the bytes already imported.
                self.last = step.consumed
                sized = _stderr_has_size()
                self.bar = tqdm(
                    total=step.size,
                    initial=step.consumed,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    file=sys.stderr,
                    mininterval=0,  # one update a batch: each is worth showing
                    # A terminal that gives no size (under `script`, some CI runners)
                    # would have tqdm draw nothing at all.
                    ncols=None if sized else 100,
                    nrows=None if sized else 24,
                )
            else:
                self.bar.update(step.consumed - self.last)
                self.last = step.consumed
            self.bar.set_postfix_str(
                f"{counts.imported + counts.merged:,} papers, {step.papers_per_second:,.0f}/s"
            )
            return
        print(
            f"batch {step.batch}: {counts.lines:,} lines read, {counts.imported:,} imported, "
            f"{counts.merged:,} merged, {counts.filtered:,} filtered, "
            f"{sum(counts.bad.values()):,} bad; {step.papers_per_second:,.0f} papers/s",
            file=sys.stderr,
            flush=True,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _stderr_has_size() -> bool:
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except OSError:
        return False
    return size.columns > 0 and size.lines > 0


def summary_lines(path: Path, result: ImportResult) -> list[str]:
    counts = result.counts
    if result.already_imported:
        return [
            f"{path}: already imported ({plural(counts.imported, 'paper')} imported, "
            f"{counts.merged:,} merged); nothing changed"
        ]
    lines = [
        f"{path}: {plural(counts.imported, 'paper')} imported, {counts.merged:,} merged with "
        f"stored papers, {counts.filtered:,} skipped by the filter, "
        f"{plural(sum(counts.bad.values()), 'bad record')}"
    ]
    for reason, n in sorted(counts.bad.items()):
        lines.append(f"  bad: {plural(n, 'record')}: {reason}")
    if result.resumed_at:
        lines.append(f"  resumed at byte {result.resumed_at:,} (after the last committed batch)")
    lines.append(
        f"  {result.seconds:,.1f} s, {result.rate:,.0f} papers/s"
        + "".join(f"; {name} {seconds:,.1f} s" for name, seconds in result.phases.items())
    )
    return lines


def summary_json(path: Path, result: ImportResult) -> dict[str, object]:
    counts: ImportCounts = result.counts
    return {
        "file": str(path),
        "already_imported": result.already_imported,
        "lines": counts.lines,
        "imported": counts.imported,
        "merged": counts.merged,
        "filtered": counts.filtered,
        "bad": counts.bad,
        "resumed_at": result.resumed_at,
        "seconds": round(result.seconds, 3),
        "papers_per_second": round(result.rate, 1),
        "phases": {k: round(v, 3) for k, v in result.phases.items()},
    }


async def cmd_import_snapshot(args: argparse.Namespace) -> int:
    # Imported only for this command: the import brings numpy and the relevance engine,
    # which every other command's start-up would otherwise pay for.
    from bot.services.snapshot_file import UNREADABLE
    from bot.services.snapshot_import import import_snapshot, snapshot_problem
    from bot.services.snapshot_vectors import ImportVectors

    path = Path(args.file)
    if not path.is_file():
        what = "a folder, not a file" if path.is_dir() else "no such file"
        raise CliError(f"{path}: {what}", exit_code=2)
    wanted = _filter(args)
    if args.batch < 1:
        raise CliError("--batch must be at least 1", exit_code=2)
    try:
        problem = snapshot_problem(path)
    except UNREADABLE as exc:
        raise CliError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    if problem is not None:
        raise CliError(f"{path}: {problem}")  # before the database is opened: nothing written
    progress = _Progress(args.quiet or args.json)
    async with opened(args.db) as storage:

        async def vectors() -> int:
            from bot.cli.relevance_commands import relevance_service

            return await relevance_service(storage).sync_vectors()

        try:
            result = await import_snapshot(
                storage,
                path,
                wanted,
                progress=progress,
                encode_vectors=vectors,
                batch=args.batch,
                vectors=ImportVectors(storage),
            )
        except UNREADABLE as exc:
            # The batches before the damage are committed; a rerun resumes after them.
            raise CliError(
                f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})"
            ) from None
        except asyncio.CancelledError:
            # Ctrl-C (asyncio.run cancels this task): say that nothing is lost. (No count
            # of lines: a batch whose commit was under way may still have committed.)
            raise CliError(
                "interrupted; the same command resumes after the last committed batch",
                exit_code=130,
            ) from None
        finally:
            progress.close()
    if args.json:
        _out(summary_json(path, result))
    else:
        print("\n".join(summary_lines(path, result)))
    return 0
