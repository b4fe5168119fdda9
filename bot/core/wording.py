"""Words shared by every reply: counts with the right plural, days, result headers and
ingest summaries, so the CLI and Discord say the same thing the same way.

Pure text: the Discord layer passes a quoting function (a code span) where user text
is echoed back, the CLI passes plain double quotes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence

from bot.core.models import DaySource, DumpFormat, IngestReport

Quote = Callable[[str], str]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Phrases whose plural the rules below would get wrong (a noun and its verb).
_IRREGULAR = {"paper matches": "papers match"}


def count_text(n: int) -> str:
    """``6490`` -> ``6,490``: long counts read at a glance."""
    return f"{n:,}"


def plural_of(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u", ""):
        return word[:-1] + "ies"
    return word + "s"


def plural(n: int, singular: str, many: str | None = None) -> str:
    """``1 paper``, ``2 papers``, ``6,490 papers``; ``many`` for irregular plurals."""
    if n == 1:
        return f"1 {singular}"
    return f"{count_text(n)} {many or plural_of(singular)}"


def quoted(text: str) -> str:
    """The CLI's way of echoing user text: in double quotes, unless it holds double
    quotes already (a quoted phrase, `"language models"`), which would read doubled
    (`""language models""`); then as it was typed."""
    return text if '"' in text else f'"{text}"'


# --- days -----------------------------------------------------------------------------------


def format_day(day: dt.date) -> str:
    """``Thu 14 Mar 2026``: fixed English names so the locale cannot change it."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


# --- search results -------------------------------------------------------------------------


def total_text(total: int, exact: bool = True) -> str:
    """``6,490``, or ``1,000+`` when only a lower bound was counted."""
    return count_text(total) if exact else f"{count_text(total)}+"


def results_header(
    first: int,
    last: int,
    total: int,
    exact: bool,
    label: str,
    *,
    quote: Quote = quoted,
    fetched: int | None = None,
    every_word: int | None = None,
) -> str:
    """``Results 1–5 of 6,490 for `protein```, plus ``(top 50 shown)`` when only the
    ``fetched`` best of more matches can be paged through, and, when the search was
    widened because few papers hold every word, how many do (:func:`widened_text`)."""
    header = f"Results {first}–{last} of {total_text(total, exact)}"
    if label:
        header += f" for {quote(label)}"
    if fetched is not None and (total > fetched or not exact):
        header += f" (top {count_text(fetched)} shown)"
    if every_word is not None:
        header += f" — {widened_text(every_word)}"
    return header


def widened_text(every_word: int) -> str:
    """``3 hold every word, then papers with some of them``: why a search for several
    words lists papers that lack some (too few hold them all)."""
    if every_word == 0:
        return "no paper holds every word; these hold some of them"
    verb = "holds" if every_word == 1 else "hold"
    return f"{count_text(every_word)} {verb} every word, then papers with some of them"


def no_results_text(
    label: str, *, quote: Quote = quoted, older: int = 0, older_exact: bool = True
) -> str:
    """The reply to a search that found nothing. `older`: papers that match with no
    date limit (none since the date asked for), which make the date, not the words,
    the thing to change."""
    if older:
        count = total_text(older, older_exact)
        verb = "matches" if older == 1 and older_exact else "match"
        paper = "paper" if older == 1 and older_exact else "papers"
        return (
            f"No papers found for {quote(label)}, but {count} older {paper} {verb}: "
            "try an earlier date."
        )
    return f"No papers found for {quote(label)}. Try fewer or different words, or a topic."


def spelling_note(corrections: Sequence[tuple[str, str]], *, quote: Quote = quoted) -> str:
    """One line for the whole reply: ``Spelling corrected: protien → protein``."""
    fixes = ", ".join(f"{quote(wrong)} → {quote(right)}" for wrong, right in corrections)
    return f"Spelling corrected: {fixes}" if fixes else ""


def cooldown_text(retry_after: float) -> str:
    """The line for a member over an expensive command's limit: whole seconds, rounded
    up so "try again in 1 s" never comes too early."""
    return f"You're searching fast — try again in {max(1, math.ceil(retry_after))} s."


# --- ingest reports -------------------------------------------------------------------------


_FORMATS: dict[str, str] = {
    DumpFormat.TEXT: "text page",
    DumpFormat.JSON: "API JSON",
    DumpFormat.ARXIV_RSS: "arXiv RSS feed",
    DumpFormat.ARXIV_ATOM: "arXiv Atom feed",
    DumpFormat.ARXIV_API: "arXiv API response",
}
# Where a dump's day came from (`IngestReport.day_source`), said as a reader would.
_DAY_SOURCES: dict[str, str] = {
    DaySource.FILE_NAME: "from the file name",
    DaySource.DATE_LINE: "from the date line",
    DaySource.JSON: "from the JSON",
    DaySource.FEED: "from the feed",
    DaySource.TODAY: "no date in the dump, so today",
}


def ingest_summary(report: IngestReport, day: str) -> str:
    """``2026-03-14 (from the date line), text page: 98 papers — 98 new, …``; ``day`` is
    the report's day as the front end shows it (bold in Discord)."""
    source = _DAY_SOURCES.get(report.day_source, report.day_source)
    kind = _FORMATS.get(report.format, report.format)
    return f"{day} ({source}), {kind}: {ingest_counts(report)}"


def ingest_counts(report: IngestReport) -> str:
    """``98 papers — 98 new, 0 already known, 0 merged as near-duplicates``."""
    text = (
        f"{plural(report.parsed, 'paper')} — {count_text(report.new)} new, "
        f"{count_text(report.known)} already known, {count_text(report.merged)} merged as "
        "near-duplicates"
    )
    if report.duplicates_in_file:
        text += f", {count_text(report.duplicates_in_file)} repeated in the file"
    if report.updated:
        text += f", {count_text(report.updated)} updated by arXiv replacements"
    if report.day_update:
        text += "; " + day_update_text(report)
    return text


def day_update_text(report: IngestReport) -> str:
    """``updated the day already stored: 2 papers added; upvotes changed on 30 papers,
    links on 1``."""
    text = f"updated the day already stored: {plural(report.added, 'paper')} added"
    changed = list(report.changed.items())
    if not changed:
        return text + "; nothing else changed"
    (kind, count), rest = changed[0], changed[1:]
    parts = [f"{kind} changed on {plural(count, 'paper')}"]
    parts += [f"{kind} on {count_text(count)}" for kind, count in rest]
    return text + "; " + ", ".join(parts)


def already_stored_text(report: IngestReport, *, how_to_redate: str | None = None) -> str:
    """What re-ingesting a stored dump says: the day it is stored under, or where
    `--redate` moved it. ``how_to_redate`` (with ``{day}`` for the day) is how this
    front end re-dates a dump; Discord has no way, so it passes None."""
    if report.redated_from is not None:
        return (
            f"already ingested for {report.redated_from}; moved to {report.day} "
            f"({plural(report.moved, 'paper')} moved, nothing else changed)"
        )
    text = f"already ingested for {report.day}; nothing changed"
    if how_to_redate:
        wanted = report.wanted_day
        where = str(wanted) if wanted else "another day"
        text += f". To store it under {where}, " + how_to_redate.format(day=wanted or "YYYY-MM-DD")
    return text
