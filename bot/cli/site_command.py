"""`paperbot export-site DIR`: the papers as a static site with Atom feeds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from bot.cli.errors import CliError
from bot.core.topics import load_default_topics
from bot.core.wording import count_text, plural
from bot.services.site.export import ExportError, ExportReport, export_site
from bot.services.site.pages import Site
from storage import Storage


class Progress:
    """`day N of M` on one rewritten line, only on a terminal (a log stays clean)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = False
        self.on = stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self.on and (done == total or done % 10 == 1):
            self.stream.write(f"\rexporting the site: day {done:,} of {total:,}")
            self.stream.flush()
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def summary(report: ExportReport, folder: Path) -> str:
    removed = f", {count_text(report.removed)} removed" if report.removed else ""
    return (
        f"exported {plural(report.days, 'day')}, {plural(report.papers, 'paper')} and "
        f"{plural(report.feeds, 'feed')} to {folder}: {plural(report.written, 'file')} "
        f"written, {count_text(report.unchanged)} unchanged{removed}"
    )


async def export_to(storage: Storage, args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    site = Site(topics=load_default_topics(), base_url=args.base_url)
    progress = Progress(sys.stderr)
    try:
        report = await export_site(storage, site, folder, progress)
    except ExportError as exc:
        raise CliError(str(exc)) from None
    finally:
        progress.clear()
    print(summary(report, folder))
    return 0
