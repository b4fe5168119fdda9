"""The arXiv metadata snapshot (the public bulk file, one JSON record a line) read into
papers, and the filters an import takes.

A record carries `id`, `title`, `abstract`, `authors_parsed` ([family, given, suffix]),
`categories` (space-separated) and `versions[{version, created}]`, `created` an RFC 2822
time. A paper's day is its first version's: the day arXiv first announced it. A record
that cannot become a paper is a `BadRecord` with a reason, counted by the import, never
fatal.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from bot.core.arxiv import canonical_id
from bot.core.sources import ARCHIVES, feed_category

# New-style ids (YYMM.NNNN, five digits from 2015) and old-style ones (`hep-th/9901001`,
# `math.GT/0309136`), as the snapshot writes them: without a version.
_ID = re.compile(r"\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Za-z]{2})?/\d{7}")
_MONTHS = {
    m: n
    for n, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


def collapse_whitespace(text: str) -> str:
    """Line wraps and runs of spaces (the snapshot wraps titles and abstracts) as one
    space, none at either end."""
    return " ".join(text.split())


class BadReason:
    """Why a record was not imported (the summary counts each reason)."""

    BROKEN_LINE = "broken JSON line"
    NOT_A_RECORD = "not a record"
    MISSING_ID = "missing id"
    BAD_ID = "bad id"
    MISSING_TITLE = "missing title"
    BAD_DATE = "bad or missing first-version date"


@dataclass(frozen=True)
class BadRecord:
    reason: str


@dataclass(frozen=True)
class SnapshotPaper:
    """One record as a paper: text collapsed, authors as "Given Family Suffix"."""

    arxiv_id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]  # arXiv's spelling, in the record's order (primary first)
    day: dt.date  # the first version's `created` (UTC)


def parse_record(line: str | bytes) -> SnapshotPaper | BadRecord:
    """One line of the snapshot as a paper, or why it is not one."""
    try:
        record = json.loads(line)
    except ValueError:  # also UnicodeDecodeError
        return BadRecord(BadReason.BROKEN_LINE)
    if not isinstance(record, dict):
        return BadRecord(BadReason.NOT_A_RECORD)
    raw_id = record.get("id")
    if not isinstance(raw_id, str) or not raw_id.strip():
        return BadRecord(BadReason.MISSING_ID)
    arxiv_id = raw_id.strip()
    if _ID.fullmatch(arxiv_id) is None:
        return BadRecord(BadReason.BAD_ID)
    title = record.get("title")
    title = collapse_whitespace(title) if isinstance(title, str) else ""
    if not title:
        return BadRecord(BadReason.MISSING_TITLE)
    day = first_version_day(record.get("versions"))
    if day is None:
        return BadRecord(BadReason.BAD_DATE)
    abstract = record.get("abstract")
    return SnapshotPaper(
        arxiv_id=canonical_id(arxiv_id),
        title=title,
        abstract=collapse_whitespace(abstract) if isinstance(abstract, str) else "",
        authors=record_authors(record),
        categories=record_categories(record.get("categories")),
        day=day,
    )


# Reasons that still say the line is a snapshot record (a JSON object with an id), only
# a damaged one; the others (broken JSON, not an object, no id) say nothing of the kind.
_RECORD_SHAPED = {BadReason.BAD_ID, BadReason.MISSING_TITLE, BadReason.BAD_DATE}
# How many of a file's first lines decide whether it is the snapshot at all.
SNIFF_LINES = 20


def not_a_snapshot(first_lines: Sequence[str | bytes]) -> str | None:
    """Why a file whose first non-blank lines are `first_lines` cannot be the snapshot
    (one line of text), or None when it can: when any of them is a record with an id,
    even a damaged one (a damaged line is counted by the import, never fatal)."""
    if not first_lines:
        return "it is empty; the arXiv metadata snapshot is JSON lines, one paper each"
    for line in first_lines:
        found = parse_record(line)
        if isinstance(found, SnapshotPaper) or found.reason in _RECORD_SHAPED:
            return None
    lines = (
        "its first line is not"
        if len(first_lines) == 1
        else (f"none of its first {len(first_lines)} lines is")
    )
    return (
        f"not the arXiv metadata snapshot: {lines} a JSON record with an arXiv id "
        "(expected JSON lines such as arxiv-metadata-oai-snapshot.json)"
    )


def first_version_day(versions: Any) -> dt.date | None:
    """The UTC day of the lowest-numbered version's `created`; None when there is none
    or it is not a date."""
    if not isinstance(versions, list) or not versions:
        return None
    first: tuple[int, str] | None = None
    for entry in versions:
        if not isinstance(entry, dict):
            return None
        label, created = entry.get("version"), entry.get("created")
        if not isinstance(created, str):
            return None
        number = _version_number(label)
        if first is None or number < first[0]:
            first = (number, created)
    return rfc2822_day(first[1]) if first else None


def _version_number(label: object) -> int:
    text = str(label or "").strip().lower().removeprefix("v")
    return int(text) if text.isdigit() else 1 << 30  # unlabelled versions sort last


def rfc2822_day(text: str) -> dt.date | None:
    """`Mon, 2 Apr 2007 19:18:42 GMT` -> 2007-04-02 (the UTC day)."""
    parts = text.split()
    # The common shape, without the email parser's cost: weekday, day, month, year,
    # time, GMT.
    if len(parts) == 6 and parts[5] == "GMT" and parts[1].isdigit() and parts[3].isdigit():
        month = _MONTHS.get(parts[2][:3].lower())
        if month is not None:
            try:
                return dt.date(int(parts[3]), month, int(parts[1]))
            except ValueError:
                return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return when.date()


def record_authors(record: dict[str, Any]) -> tuple[str, ...]:
    """Authors from `authors_parsed` ([family, given, suffix]); the `authors` string
    split at commas and "and" when that is missing."""
    parsed = record.get("authors_parsed")
    names: list[str] = []
    if isinstance(parsed, list):
        for entry in parsed:
            if isinstance(entry, list) and entry:
                family = str(entry[0] or "").strip()
                given = str(entry[1] or "").strip() if len(entry) > 1 else ""
                suffix = str(entry[2] or "").strip() if len(entry) > 2 else ""
                name = collapse_whitespace(" ".join(p for p in (given, family, suffix) if p))
                if name:
                    names.append(name)
        return tuple(names)
    text = record.get("authors")
    if isinstance(text, str):
        flat = collapse_whitespace(text)
        names = [n.strip() for n in re.split(r",|\band\b", flat) if n.strip()]
    return tuple(names)


def record_categories(text: Any) -> tuple[str, ...]:
    """The space-separated categories in arXiv's spelling, each once, order kept."""
    if not isinstance(text, str):
        return ()
    found = (feed_category(term) for term in text.split())
    return tuple(dict.fromkeys(c for c in found if c))


# -- filters -----------------------------------------------------------------------------
_GLOB = re.compile(r"[A-Za-z*?\[\]!.-]+")


@dataclass(frozen=True)
class CategoryGlobs:
    """`cs.*,stat.ML`: a paper passes when any of its categories matches any glob. A
    glob without wildcards or a dot (`cs`) also takes the whole archive."""

    globs: tuple[str, ...]

    def accepts(self, categories: Sequence[str]) -> bool:
        for glob in self.globs:
            for category in categories:
                if fnmatch.fnmatchcase(category, glob) or category.startswith(glob + "."):
                    return True
        return False


def parse_category_globs(text: str) -> CategoryGlobs:
    """Comma-separated category globs; ValueError with a one-line reason when one is
    not a glob over arXiv categories."""
    parts = [part.strip() for part in text.split(",")]
    if not any(parts):
        raise ValueError("--categories needs at least one category glob, e.g. 'cs.*,stat.ML'")
    globs: list[str] = []
    for part in parts:
        if not part:
            raise ValueError(f"empty category glob in {text!r}")
        if _GLOB.fullmatch(part) is None or part.count("[") != part.count("]"):
            raise ValueError(f"{part!r} is not a category glob; write it like cs.* or stat.ML")
        archive = part.split(".", 1)[0]
        if not any(c in archive for c in "*?[") and archive.lower() not in ARCHIVES | _OLD:
            raise ValueError(f"{part!r}: arXiv has no archive {archive!r}")
        globs.append(_spelled(part))
    return CategoryGlobs(tuple(dict.fromkeys(globs)))


# Archives of old papers since merged into others: the snapshot still carries them.
_OLD = frozenset(
    {
        "acc-phys", "adap-org", "alg-geom", "ao-sci", "atom-ph", "bayes-an", "chao-dyn",
        "chem-ph", "cmp-lg", "comp-gas", "dg-ga", "funct-an", "mtrl-th", "patt-sol",
        "plasm-ph", "q-alg", "solv-int", "supr-con",
    }
)  # fmt: skip


def _spelled(glob: str) -> str:
    """A glob in arXiv's spelling where it is a plain category (`cs.cl` -> `cs.CL`)."""
    if any(c in glob for c in "*?["):
        return glob
    return feed_category(glob) or glob


def parse_since(text: str) -> dt.date:
    """`2020` (its first day) or `2020-06-01`; ValueError otherwise."""
    raw = text.strip()
    if re.fullmatch(r"\d{4}", raw):
        year = int(raw)
        if year >= 1:
            return dt.date(year, 1, 1)
    try:
        return dt.date.fromisoformat(raw) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw) else _bad()
    except ValueError:
        pass
    raise ValueError(f"--since {text!r} is not a year or a date; write 2020 or 2020-06-01")


def _bad() -> dt.date:
    raise ValueError


@dataclass(frozen=True)
class SnapshotFilter:
    categories: CategoryGlobs | None = None
    since: dt.date | None = None

    def accepts(self, paper: SnapshotPaper) -> bool:
        if self.since is not None and paper.day < self.since:
            return False
        return self.categories is None or self.categories.accepts(paper.categories)

    def describe(self) -> str:
        """What the filter is, for the stored checkpoint: a rerun with another filter
        is another import."""
        globs = ",".join(self.categories.globs) if self.categories else ""
        return f"categories={globs};since={self.since.isoformat() if self.since else ''}"
