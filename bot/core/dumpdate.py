"""Which day a dump belongs to, from the most to the least explicit evidence."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from bot.core.models import DaySource, DumpFormat, ParsedDump

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# A date inside a file name; not part of a longer run of digits (an id, a timestamp).
_NAME_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
# How far back to look for a year in which a yearless date line exists (Feb 29).
_MAX_YEARS_BACK = 8


def parse_cli_date(s: str) -> dt.date:
    """Parse a `--date` value (YYYY-MM-DD). Raises ValueError with a one-line message."""
    m = _ISO.fullmatch(s.strip())
    if not m:
        raise ValueError(f"invalid --date {s!r}: expected YYYY-MM-DD, e.g. 2024-03-14")
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as exc:
        raise ValueError(f"invalid --date {s!r}: {exc}") from None


def _name_day(source_name: str) -> dt.date | None:
    base = re.split(r"[\\/]", source_name)[-1]
    for m in _NAME_DATE.finditer(base):
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            continue  # "9999-99-99" in a name is not a date; try a later match
    return None


def _json_day(days: list[dt.date], today: dt.date) -> dt.date | None:
    """The most common submission day not after today; ties go to the most recent."""
    counts = Counter(day for day in days if day <= today)
    if not counts:
        return None
    return max(counts, key=lambda day: (counts[day], day))


def most_recent(month: int, day: int, today: dt.date) -> dt.date | None:
    """The latest date with this month and day that is not after `today`."""
    for year in range(today.year, today.year - _MAX_YEARS_BACK - 1, -1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue  # Feb 29 outside a leap year
        if candidate <= today:
            return candidate
    return None


def resolve_dump_day(
    parsed: ParsedDump, source_name: str, cli_date: dt.date | None, today: dt.date
) -> tuple[dt.date, DaySource]:
    """(day, how it was found): the `--date` given, the file name, the JSON's
    submission days, an arXiv listing's own day, the date lines, or today.

    The page's date lines carry no year, so the year is the one that makes the date the
    most recent such day not after `today` (a `Dec 31` ingested on Jan 1 is last year's).
    An arXiv listing names its own day (see bot.core.parse_arxiv): the announcement
    day of a feed, the day an API query ran.
    """
    if cli_date is not None:
        return cli_date, DaySource.OPTION
    named = _name_day(source_name)
    if named is not None:
        return named, DaySource.FILE_NAME
    if parsed.format == DumpFormat.JSON:
        submitted = _json_day(parsed.json_days, today)
        if submitted is not None:
            return submitted, DaySource.JSON
    if parsed.feed_day is not None:
        return parsed.feed_day, DaySource.FEED
    seen = [most_recent(month, day, today) for month, day in parsed.date_lines]
    dated = [day for day in seen if day is not None]
    if dated:
        return max(dated), DaySource.DATE_LINE
    return today, DaySource.TODAY
