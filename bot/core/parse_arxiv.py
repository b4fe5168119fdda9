"""Readers for arXiv's listings: the announcement feeds (rss.arxiv.org, as RSS 2.0 or
Atom) and the API's Atom response (export.arxiv.org/api/query).

- Announcement feed: one day's announcements. Each item has `arxiv:announce_type`
  (`new`, `cross`, `replace`, `replace-cross`), a description starting
  `arXiv:IDvN Announce Type: new` then `Abstract: ...`, its categories (the primary
  one first) and one `dc:creator` holding every author, comma-separated. The listing's
  day is the feed's `pubDate` (the announcement day). An empty feed (weekends and
  holidays) is a valid listing of nothing.
- API response: the answer to a query, not a day's listing: entries span any dates. Each
  has a versioned id, `published` (v1), `arxiv:primary_category`, `category` terms and
  one `author` per author. The listing's day is the day the query ran (the feed's own
  `updated`), unless `--date` or the file name says otherwise; each paper's `published`
  is kept as its arXiv date. An error answer (an entry whose id is
  `http://arxiv.org/api/errors#...`) is refused with arXiv's message.

`parse_arxiv_listing` returns None for XML that is not an arXiv listing, so the caller
can say what the file is instead.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from bot.core.arxiv import listing_id
from bot.core.feed_xml import (
    ARXIV,
    ATOM,
    DC,
    HasDoctype,
    NotWellFormed,
    iso_day,
    load_xml,
    most_common_day,
    raw_text_of,
    rfc822_day,
    text_of,
)
from bot.core.models import DumpError, DumpFormat, ParsedDump, ParsedPaper, SkippedParagraph
from bot.core.parse_text import snippet
from bot.core.sources import feed_category
from bot.core.wording import plural

# Marks of an arXiv listing in a file's first characters, even one cut short: arXiv's
# namespace on the root, or a link to its feed or API host.
_ARXIV_HEAD = re.compile(
    r'xmlns:arxiv\s*=\s*["\']http://arxiv\.org/schemas/atom'
    r"|//(?:rss\.|export\.)?arxiv\.org/(?:rss|atom|api)/",
    re.IGNORECASE,
)
_HEAD_CHARS = 4096
_ARXIV_HOST = re.compile(r"^https?://(?:[\w-]+\.)*arxiv\.org(?:[/?#]|$)", re.IGNORECASE)
# "arXiv:2604.22002v1 Announce Type: new \nAbstract: ..." Every part is optional: an
# item without the preamble keeps its whole description.
_PREAMBLE = re.compile(
    r"\s*(?:arxiv:\s*(?P<id>\S+)\s+)?(?:announce\s+type:\s*(?P<type>[\w-]+)\s*)?"
    r"(?:abstract:\s*)?",
    re.IGNORECASE,
)
# `A, B and C`, `A and B`, `A, B, and C`; doubled commas or spaces leave empty names.
_AUTHOR_SPLIT = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+")
WEEKEND_NOTE = "arXiv announces nothing on weekends and holidays"


def parse_arxiv_listing(text: str) -> ParsedDump | None:
    """The listing in `text`, or None when `text` is not an arXiv listing (other XML,
    a web page, a document with a DTD). Raises DumpError for a broken arXiv listing."""
    head = text[:_HEAD_CHARS]
    try:
        root = load_xml(text)
    except HasDoctype:
        return None  # arXiv's feeds have no DTD: some other document
    except NotWellFormed as exc:
        if not _ARXIV_HEAD.search(head):
            return None
        hint = "; the file looks cut short" if exc.at_end else ""
        raise DumpError(f"the arXiv feed is not well-formed XML ({exc}){hint}") from None
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None or not _arxiv_channel(channel):
            return None
        return _parse_rss(channel)
    if root.tag == f"{ATOM}feed":
        kind = _atom_kind(root)
        if kind == "announce":
            return _parse_atom_announcements(root)
        if kind == "api":
            return _parse_api(root)
    return None


# -- telling arXiv's feeds from others ------------------------------------------------------


def _arxiv_link(text: str) -> bool:
    return bool(_ARXIV_HOST.match(text.strip()))


def _arxiv_channel(channel: ET.Element) -> bool:
    if _arxiv_link(text_of(channel.find("link"))):
        return True
    return any(item.find(f"{ARXIV}announce_type") is not None for item in channel.iter("item"))


def _atom_kind(feed: ET.Element) -> str | None:
    """ "announce" (rss.arxiv.org/atom), "api" (export.arxiv.org/api) or None."""
    entries = feed.findall(f"{ATOM}entry")
    links = [text_of(feed.find(f"{ATOM}id"))]
    links += [link.get("href", "") for link in feed.findall(f"{ATOM}link")]
    if any(e.find(f"{ARXIV}announce_type") is not None for e in entries) or any(
        re.match(r"https?://rss\.arxiv\.org/", link, re.IGNORECASE) for link in links
    ):
        return "announce"
    if any(_arxiv_link(link) for link in links):
        return "api"
    ids = [text_of(e.find(f"{ATOM}id")) for e in entries]
    if entries and all(_arxiv_link(i) and listing_id(i) for i in ids):
        return "api"  # the entries are arXiv's papers, whatever the feed calls itself
    return None


# -- the announcement feed -----------------------------------------------------------------


class _Listing:
    """A ParsedDump being filled item by item (positions count papers only)."""

    def __init__(self, dump_format: DumpFormat) -> None:
        self.dump = ParsedDump(format=dump_format, papers=[])

    def skip(self, index: int, title: str, reason: str) -> None:
        self.dump.skipped.append(SkippedParagraph(index, snippet(title) or "(no title)", reason))

    def add(
        self,
        index: int,
        *,
        title: str,
        abstract: str,
        arxiv_id: str | None,
        authors: tuple[str, ...],
        categories: tuple[str, ...],
        announce: str = "",
        published: dt.date | None = None,
    ) -> None:
        if not title:
            self.skip(index, "", "feed entry has no title")
            return
        if not arxiv_id:
            self.skip(index, title, "feed entry has no arXiv id")
            return
        if not abstract:
            self.dump.warnings.append(f"entry {index}: no abstract for '{snippet(title)}'")
        paper = ParsedPaper(
            title=title,
            abstract=abstract,
            position=len(self.dump.papers) + 1,
            arxiv_id=arxiv_id,
            authors=authors,
            published=published,
            categories=categories,
            announce=announce,
        )
        self.dump.papers.append(paper)

    def finish(self, kind: str) -> ParsedDump:
        dump = self.dump
        if dump.papers:
            return dump
        if dump.skipped:
            count = len(dump.skipped)
            which = "its only entry was" if count == 1 else f"all {plural(count, 'entry')} were"
            raise DumpError(f"the {kind} has no usable papers: {which} skipped")
        return dump


def _parse_rss(channel: ET.Element) -> ParsedDump:
    title = text_of(channel.find("title"))
    if title.casefold().startswith("feed error"):
        raise DumpError(f"the arXiv feed is an error: {snippet(title)}")
    listing = _Listing(DumpFormat.ARXIV_RSS)
    items = channel.findall("item")
    for index, item in enumerate(items, start=1):
        description = raw_text_of(item.find("description"))
        guid = text_of(item.find("guid"))
        announce, abstract, named = _announcement(
            description, text_of(item.find(f"{ARXIV}announce_type"))
        )
        listing.add(
            index,
            title=text_of(item.find("title")),
            abstract=abstract,
            arxiv_id=listing_id(guid) or listing_id(text_of(item.find("link"))) or named,
            authors=_authors_in(text_of(c) for c in item.findall(f"{DC}creator")),
            categories=_categories(text_of(c) for c in item.findall("category")),
            announce=announce,
        )
    dump = listing.dump
    dump.feed_day = rfc822_day(text_of(channel.find("pubDate"))) or most_common_day(
        rfc822_day(text_of(item.find("pubDate"))) for item in items
    )
    if not items:
        dump.empty_note = f"no announcements in this arXiv feed ({WEEKEND_NOTE})"
    return listing.finish("arXiv feed")


def _parse_atom_announcements(feed: ET.Element) -> ParsedDump:
    """The announcement feed as Atom (rss.arxiv.org/atom/...): the RSS feed's items as
    entries; authors in `dc:creator` or in one comma-separated `author/name`."""
    title = text_of(feed.find(f"{ATOM}title"))
    if title.casefold().startswith("feed error"):
        raise DumpError(f"the arXiv feed is an error: {snippet(title)}")
    listing = _Listing(DumpFormat.ARXIV_ATOM)
    entries = feed.findall(f"{ATOM}entry")
    for index, entry in enumerate(entries, start=1):
        summary = raw_text_of(entry.find(f"{ATOM}summary"))
        announce, abstract, named = _announcement(
            summary, text_of(entry.find(f"{ARXIV}announce_type"))
        )
        links = [link.get("href", "") for link in entry.findall(f"{ATOM}link")]
        names = [text_of(c) for c in entry.findall(f"{DC}creator")]
        names += [text_of(a.find(f"{ATOM}name")) for a in entry.findall(f"{ATOM}author")]
        listing.add(
            index,
            title=text_of(entry.find(f"{ATOM}title")),
            abstract=abstract,
            arxiv_id=listing_id(text_of(entry.find(f"{ATOM}id")))
            or next((found for link in links if (found := listing_id(link))), None)
            or named,
            authors=_authors_in(names),
            categories=_categories(c.get("term", "") for c in entry.findall(f"{ATOM}category")),
            announce=announce,
        )
    dump = listing.dump
    dump.feed_day = most_common_day(
        iso_day(text_of(e.find(f"{ATOM}published"))) for e in entries
    ) or iso_day(text_of(feed.find(f"{ATOM}updated")))
    if not entries:
        dump.empty_note = f"no announcements in this arXiv feed ({WEEKEND_NOTE})"
    return listing.finish("arXiv feed")


def _announcement(description: str, typed: str) -> tuple[str, str, str | None]:
    """(announce type, abstract, id named in the preamble) of an item's description."""
    preamble = _PREAMBLE.match(description)
    assert preamble is not None  # every part is optional
    announce = (typed or preamble["type"] or "new").strip().lower()
    named = listing_id(preamble["id"]) if preamble["id"] else None
    abstract = " ".join(description[preamble.end() :].split())
    return announce, abstract, named


# -- the API response ----------------------------------------------------------------------


def _error_entry(entry: ET.Element) -> bool:
    return "/api/errors" in text_of(entry.find(f"{ATOM}id"))


def _parse_api(feed: ET.Element) -> ParsedDump:
    entries = feed.findall(f"{ATOM}entry")
    errors = [entry for entry in entries if _error_entry(entry)]
    if errors and len(errors) == len(entries):
        message = text_of(errors[0].find(f"{ATOM}summary")) or text_of(errors[0].find(f"{ATOM}id"))
        raise DumpError(f"the arXiv API answered with an error: {snippet(message)}")
    listing = _Listing(DumpFormat.ARXIV_API)
    for index, entry in enumerate(entries, start=1):
        title = text_of(entry.find(f"{ATOM}title"))
        if _error_entry(entry):
            reason = text_of(entry.find(f"{ATOM}summary")) or "error"
            listing.skip(index, title, f"arXiv API error entry: {snippet(reason)}")
            continue
        primary = entry.find(f"{ARXIV}primary_category")
        terms = [primary.get("term", "")] if primary is not None else []
        terms += [c.get("term", "") for c in entry.findall(f"{ATOM}category")]
        listing.add(
            index,
            title=title,
            abstract=text_of(entry.find(f"{ATOM}summary")),
            arxiv_id=listing_id(text_of(entry.find(f"{ATOM}id"))),
            authors=tuple(
                name
                for a in entry.findall(f"{ATOM}author")
                if (name := text_of(a.find(f"{ATOM}name")))
            ),
            categories=_categories(terms),
            published=iso_day(text_of(entry.find(f"{ATOM}published"))),
        )
    dump = listing.dump
    dump.feed_day = iso_day(text_of(feed.find(f"{ATOM}updated")))
    if not entries:
        dump.empty_note = "the arXiv API response holds no entries"
    return listing.finish("arXiv API response")


# -- shared ---------------------------------------------------------------------------------


def _authors_in(fields: Iterable[str]) -> tuple[str, ...]:
    """Author names from `dc:creator` (or Atom `name`) fields, each holding one name or
    all of them comma-separated, perhaps with a final "and"."""
    names: list[str] = []
    for field in fields:
        names += [name for name in _AUTHOR_SPLIT.split(field) if name.strip()]
    return tuple(" ".join(name.split()) for name in names)


def _categories(terms: Iterable[str]) -> tuple[str, ...]:
    """arXiv categories among `terms`, in order, each once (MSC and ACM codes dropped)."""
    found: dict[str, None] = {}
    for term in terms:
        category = feed_category(term)
        if category is not None:
            found[category] = None
    return tuple(found)
