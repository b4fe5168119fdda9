"""Reader for Hugging Face `/api/daily_papers` JSON output (already decoded by json.loads).

The API shape drifts and hand-edited files are common, so every field is read
tolerantly: a wrong type means "absent", never a crash. Only a missing title drops an
item. For JSON, `SkippedParagraph.line` is the item's 1-based index in the list.

The item shapes (2024's and today's) are `bot.core.hf_extras.HfItem`. Some real saved
days hold each item as the Python repr of the object (`"{'paper': {...}, 'hidden':
False}"`), sometimes wrapped as `{"status", "date", "count", "data": [...]}`: both are
read as the objects they spell.
"""

from __future__ import annotations

import ast
import datetime as dt
import math
import re
from typing import Any

from bot.core.hf_extras import hf_extras
from bot.core.models import (
    DumpError,
    DumpFormat,
    NotADump,
    ParsedDump,
    ParsedPaper,
    SkippedParagraph,
)
from bot.core.parse_text import collapse_ws, snippet
from bot.core.wording import plural

_ARXIV_NEW = re.compile(r"(\d{4}\.\d{4,5})(?:v\d+)?")
_ARXIV_OLD = re.compile(r"([a-z][a-z-]*(?:\.[a-z]{2})?/\d{7})(?:v\d+)?", re.I)
_UPVOTES = re.compile(r"(\d{1,15}(?:\.\d{1,6})?)\s*([km]?)", re.I)
_ISO_DAY = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})")
# A Python-repr item longer than this is not read (literal_eval's cost grows with it).
_MAX_REPR_CHARS = 1_000_000


def _repr_item(item: object) -> object:
    """An item saved as the Python repr of a dict, read back as that dict (literal_eval
    evaluates literals only, never code); anything else as it is."""
    if not (isinstance(item, str) and item.lstrip().startswith("{")):
        return item
    if len(item) > _MAX_REPR_CHARS:
        return item
    try:
        value = ast.literal_eval(item)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return item
    return value if isinstance(value, dict) else item


def _items(data: object) -> list[Any]:
    """The list of paper items in any accepted top-level shape."""
    if isinstance(data, dict):
        if isinstance(data.get("papers"), list):
            data = data["papers"]
        elif isinstance(data.get("data"), list) and "status" in data:
            data = data["data"]  # a downloader's {status, date, count, data} wrapper
        elif isinstance(data.get("paper"), dict) or "title" in data:
            data = [data]  # a single item saved on its own
        elif isinstance(data.get("error"), str):
            raise DumpError(f"the JSON is an error response: {snippet(data['error'])}")
        else:
            raise NotADump(
                "the JSON holds no papers: expected a list of daily_papers items "
                'or an object with a "papers" list'
            )
    if not isinstance(data, list):
        raise NotADump(f"the JSON holds no papers: expected a list, got {type(data).__name__}")
    if not data:
        raise DumpError("the JSON list is empty: no papers")
    return [_repr_item(item) for item in data]


def _daily_papers_item(item: object) -> bool:
    """Shaped like an API item (today's and 2024's: a "paper" object) or a hand-written
    one with an abstract; other programs' lists of titled things are not dumps."""
    return isinstance(item, dict) and (isinstance(item.get("paper"), dict) or "summary" in item)


def _text(*values: object) -> str:
    """The first value that is a non-blank string, whitespace-collapsed; else ""."""
    for value in values:
        if isinstance(value, str) and value.strip():
            return collapse_ws(value)
    return ""


def _first(*values: int | None) -> int | None:
    return next((value for value in values if value is not None), None)


def _describe(value: object) -> str:
    """A short one-line description of a JSON value, without recursing into it."""
    if isinstance(value, dict):
        return "{" + ", ".join(str(key) for key in list(value)[:6]) + "}"
    if isinstance(value, list):
        return f"list of {len(value)}"
    return snippet(str(value))


def arxiv_id(value: object) -> str | None:
    """The version-less arXiv id in `value`, or None when it does not look like one."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if value.casefold().startswith("arxiv:"):
        value = value[len("arxiv:") :]
    m = _ARXIV_NEW.fullmatch(value) or _ARXIV_OLD.fullmatch(value)
    return m[1] if m else None


def upvotes(value: object) -> int | None:
    """Upvotes from an int, float or string such as "12", "1,234" or "1.2k"; else None."""
    if value is None or isinstance(value, bool):  # bool is an int subclass
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return round(value) if math.isfinite(value) and value >= 0 else None
    if isinstance(value, str):
        m = _UPVOTES.fullmatch(value.strip().replace(",", ""))
        if m:
            scale = {"": 1, "k": 1_000, "m": 1_000_000}[m[2].casefold()]
            return round(float(m[1]) * scale)
    return None


def authors(value: object) -> tuple[str, ...]:
    """Author names from a list of {"name": ...} objects and/or strings."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return ()
    names = []
    for entry in value:
        name = _text(entry.get("name")) if isinstance(entry, dict) else _text(entry)
        if name:
            names.append(name)
    return tuple(names)


def iso_day(value: object) -> dt.date | None:
    """The calendar day of an ISO timestamp such as "2024-03-14T00:00:00.000Z"."""
    if not isinstance(value, str):
        return None
    m = _ISO_DAY.match(value)
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def parse_json(data: object) -> ParsedDump:
    """Parse decoded daily_papers JSON. Raises DumpError when no usable paper is found."""
    dump = ParsedDump(format=DumpFormat.JSON, papers=[])
    items = _items(data)
    if not any(_daily_papers_item(item) for item in items):
        raise NotADump(
            "the JSON is not Hugging Face daily_papers output: no item has a "
            '"paper" object or a "summary"'
        )
    if isinstance(data, dict) and "status" in data and (day := iso_day(data.get("date"))):
        dump.json_days.append(day)
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            dump.skipped.append(
                SkippedParagraph(index, _describe(item), "JSON item is not an object")
            )
            continue
        paper = item.get("paper")
        paper = paper if isinstance(paper, dict) else {}
        title = _text(item.get("title"), paper.get("title"))
        if not title:
            dump.skipped.append(SkippedParagraph(index, _describe(item), "JSON item has no title"))
            continue
        abstract = _text(paper.get("summary"), item.get("summary"))
        if not abstract:
            dump.warnings.append(f"item {index}: no abstract for '{snippet(title)}'")
        raw_authors = paper.get("authors")
        dump.papers.append(
            ParsedPaper(
                title=title,
                abstract=abstract,
                # Position counts papers only, like the text format: 1..N without gaps.
                position=len(dump.papers) + 1,
                arxiv_id=arxiv_id(paper.get("id")) or arxiv_id(item.get("id")),
                authors=authors(raw_authors if raw_authors is not None else item.get("authors")),
                upvotes=_first(upvotes(paper.get("upvotes")), upvotes(item.get("upvotes"))),
                published=iso_day(paper.get("publishedAt")) or iso_day(item.get("publishedAt")),
                hf=hf_extras(item, paper),
            )
        )
        day = iso_day(paper.get("submittedOnDailyAt")) or iso_day(item.get("submittedOnDailyAt"))
        if day is not None:
            dump.json_days.append(day)
    if not dump.papers:
        count = len(dump.skipped)
        which = "its only item was" if count == 1 else f"all {plural(count, 'item')} were"
        reason = dump.skipped[0].reason.removeprefix("JSON ")
        raise DumpError(f"the JSON has no usable papers: {which} skipped ({reason})")
    return dump
