"""Writing the site to a folder (`paperbot export-site DIR`).

Exporting again is safe and cheap: a file whose content is unchanged is not rewritten
(its time stays, so a `git diff` or an rsync sees only what changed), every write goes
through a temporary file and a rename (a reader never sees half a page), and files an
earlier export wrote that are no longer part of the site are removed. Only those: a
list of them is kept in MANIFEST, and nothing else in the folder (a CNAME, a README) is
touched.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.core.ports import SiteReader
from bot.services.site.pages import Site, site_files

MANIFEST = ".paperbot-site"


class ExportError(OSError):
    """The folder cannot take the site; the message is one line for the user."""


@dataclass
class ExportReport:
    days: int = 0
    papers: int = 0
    feeds: int = 0
    written: int = 0  # files new or changed
    unchanged: int = 0
    removed: int = 0  # files of an earlier export no longer in the site


def prepare_folder(folder: Path) -> None:
    """Make sure `folder` is a writable folder (creating it), or raise ExportError."""
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"{folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f"{MANIFEST}.probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ExportError(f"cannot write to {folder}: {exc.strerror or exc}") from None


def _write_if_changed(target: Path, content: bytes) -> bool:
    try:
        if target.read_bytes() == content:
            return False
    except FileNotFoundError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_bytes(content)
    os.replace(temporary, target)
    return True


def _earlier_files(folder: Path) -> set[str]:
    try:
        listed = (folder / MANIFEST).read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return set()
    # Only plain site paths: a hand-edited manifest must not reach outside the folder.
    return {p for p in listed if p and not p.startswith("/") and ".." not in p.split("/")}


async def export_site(
    reader: SiteReader,
    site: Site,
    folder: Path,
    progress: Callable[[int, int], None] | None = None,
) -> ExportReport:
    """Write every page and feed of the site under `folder`. Raises ExportError when
    the folder cannot be written."""
    prepare_folder(folder)
    earlier = _earlier_files(folder)
    report = ExportReport()
    wrote: list[str] = []
    try:
        async for path, content in site_files(reader, site, progress):
            wrote.append(path)
            kind = path.split("/", 1)[0]
            report.days += kind == "days"
            report.papers += kind == "papers"
            report.feeds += kind == "feeds"
            if _write_if_changed(folder / path, content):
                report.written += 1
            else:
                report.unchanged += 1
        for stale in sorted(earlier - set(wrote)):
            try:
                (folder / stale).unlink()
                report.removed += 1
            except FileNotFoundError:
                pass
        _write_if_changed(folder / MANIFEST, ("\n".join(sorted(wrote)) + "\n").encode())
    except OSError as exc:
        where = exc.filename or folder
        raise ExportError(f"cannot write to {where}: {exc.strerror or exc}") from None
    return report
