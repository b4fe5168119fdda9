"""Where each page of the site lives. Every link between pages is relative, so the site
works from any folder: a file:// path, GitHub Pages under /<repo>/, or the live server."""

from __future__ import annotations

import datetime as dt
import posixpath
import re

INDEX = "index.html"
STYLE = "style.css"
FEED_ALL = "feeds/all.atom"

_DAY_PAGE = re.compile(r"days/(\d{4}-\d{2}-\d{2})\.html")
_PAPER_PAGE = re.compile(r"papers/([1-9]\d{0,17})\.html")
_TOPIC_FEED = re.compile(r"feeds/topic/([-a-z0-9]{1,32})\.atom")


def day_page(day: dt.date) -> str:
    return f"days/{day.isoformat()}.html"


def paper_page(paper_id: int) -> str:
    return f"papers/{paper_id}.html"


def topic_feed(slug: str) -> str:
    return f"feeds/topic/{slug}.atom"


def relative(here: str, target: str) -> str:
    """The link from page `here` to page `target`, both site paths like `days/x.html`."""
    return posixpath.relpath(target, posixpath.dirname(here) or ".")


def day_of(path: str) -> dt.date | None:
    """The day a `days/YYYY-MM-DD.html` path names (None: not a day page)."""
    found = _DAY_PAGE.fullmatch(path)
    if not found:
        return None
    try:
        return dt.date.fromisoformat(found[1])
    except ValueError:
        return None


def paper_of(path: str) -> int | None:
    found = _PAPER_PAGE.fullmatch(path)
    return int(found[1]) if found else None


def topic_of(path: str) -> str | None:
    found = _TOPIC_FEED.fullmatch(path)
    return found[1] if found else None
