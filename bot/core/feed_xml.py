"""Reading a feed's XML safely with the standard library, and the small helpers every
feed reader needs (namespaced names, text, dates).

Why ElementTree and not a feed library: the two formats read here are fixed and
namespaced, which ElementTree reads exactly, and parsing runs in the core (every ingest
path goes through `bot.core.parse.parse_dump`).

Why it is safe on hostile files: the document is parsed by defusedxml's ElementTree
parser with DTDs forbidden. A feed from the network cannot declare entities (no "billion
laughs", no quadratic blow-up) nor reach an external one; arXiv's feeds carry no DTD, so
a document with one is some other file.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable

import defusedxml
import defusedxml.ElementTree as SafeET

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"

_ISO_DAY = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})")


class HasDoctype(Exception):
    """The document declares a DTD; it is not one of the feeds read here."""


class NotWellFormed(Exception):
    """Expat's reason and where: `mismatched tag: line 12, column 4`."""

    def __init__(self, reason: str, at_end: bool) -> None:
        super().__init__(reason)
        self.at_end = at_end  # the error is at the end of the text: cut short


def load_xml(text: str) -> ET.Element:
    """The root element of `text`. Raises HasDoctype or NotWellFormed."""
    try:
        return SafeET.fromstring(text, forbid_dtd=True)
    except defusedxml.DTDForbidden as exc:
        raise HasDoctype(exc.name) from None
    except defusedxml.DefusedXmlException as exc:  # entities or external references
        raise HasDoctype(str(exc)) from None
    except ET.ParseError as exc:
        line, column = exc.position
        lines = text.rstrip().split("\n")
        at_end = line >= len(lines) and column >= len(lines[-1]) - 1
        raise NotWellFormed(str(exc), at_end) from None


def text_of(element: ET.Element | None) -> str:
    """The element's whole text (inner markup included), whitespace collapsed."""
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def raw_text_of(element: ET.Element | None) -> str:
    """The element's whole text, line breaks kept."""
    return "" if element is None else "".join(element.itertext())


def iso_day(value: str) -> dt.date | None:
    """The calendar day an ISO timestamp is written in (`2025-10-17T00:00:00-04:00` and
    `2026-04-30T17:33:16Z` alike): its date as written, in its own offset."""
    found = _ISO_DAY.match(value or "")
    if not found:
        return None
    try:
        return dt.date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def rfc822_day(value: str) -> dt.date | None:
    """The day an RSS date (`Mon, 27 Apr 2026 00:00:00 -0400`) is written in."""
    try:
        return email.utils.parsedate_to_datetime(value.strip()).date()
    except (TypeError, ValueError, IndexError):
        return None


def most_common_day(days: Iterable[dt.date | None]) -> dt.date | None:
    counts = Counter(day for day in days if day is not None)
    if not counts:
        return None
    return max(counts, key=lambda day: (counts[day], day))
