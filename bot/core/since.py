"""What a search's `since` says, read the same way in `/search` and `paperbot search`:
a day (`2026-03-14`), a year from its first day (`2025`), or days back from today
(`7`, `7d`, `30 days`)."""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum

_RELATIVE = re.compile(r"(\d{1,4})\s*d(?:ays?)?", re.IGNORECASE)
# A bare number is days back too (`7`, as people type it), up to three digits: four are
# a year (`2024`, from its first day), as `paperbot import-arxiv-snapshot --since` reads.
_BARE_DAYS = re.compile(r"(\d{1,3})")
_YEAR = re.compile(r"(?:19|20)\d{2}")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class SinceProblem(Enum):
    UNREADABLE = "unreadable"  # no form of a date (`yesterday`, `2026-3-1`)
    NOT_A_DAY = "not a day"  # the form of one, but no such day (`2026-13-01`)
    FUTURE = "future"


class SinceError(ValueError):
    """Why `text` is no `since`; callers word it for where it was typed."""

    def __init__(self, problem: SinceProblem, text: str) -> None:
        super().__init__(f"{text!r}: {problem.value}")
        self.problem = problem
        self.text = text


def parse_since(text: str | None, today: dt.date) -> dt.date | None:
    """The first day `text` means (None when it is empty); SinceError otherwise."""
    if text is None or not text.strip():
        return None
    raw = text.strip()
    relative = _RELATIVE.fullmatch(raw) or _BARE_DAYS.fullmatch(raw)
    if relative:
        return today - dt.timedelta(days=int(relative[1]))
    day_text = f"{raw}-01-01" if _YEAR.fullmatch(raw) else raw
    if not _ISO_DAY.fullmatch(day_text):
        raise SinceError(SinceProblem.UNREADABLE, raw)
    try:
        day = dt.date.fromisoformat(day_text)
    except ValueError:
        raise SinceError(SinceProblem.NOT_A_DAY, raw) from None
    if day > today:
        raise SinceError(SinceProblem.FUTURE, raw)
    return day
