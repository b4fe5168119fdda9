"""Atom 1.0 feeds (RFC 4287) of the site's papers, written with ElementTree so every
piece of dump text is escaped as XML.

Ids are `urn:uuid:` names derived from the paper's stored key and the feed's path: the
same paper keeps the same id in every export and feed reader. Timestamps come from the
days a paper was listed (midnight UTC), so exporting the same store twice writes the
same bytes.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.services.site.paths import INDEX, paper_page
from bot.services.site.views import PaperView

ATOM_NS = "http://www.w3.org/2005/Atom"
GENERATOR = "paperbot"
ARXIV_CATEGORIES = "https://arxiv.org/category_taxonomy"  # the scheme of arXiv's categories
# XML 1.0 cannot hold these characters at all, escaped or not: dump text may carry them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class FeedInfo:
    path: str  # the feed's own site path, e.g. "feeds/all.atom"
    title: str
    subtitle: str
    newest_day: dt.date | None  # the store's newest day: `updated` of a feed with no entries


def entry_id(paper: PaperView) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"paperbot:paper:{paper.key}").urn


def feed_id(path: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"paperbot:feed:{path}").urn


def _stamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = _empty(parent, tag, **attrs)
    element.text = _NOT_XML.sub("", text)
    return element


def _empty(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, tag, {k: _NOT_XML.sub("", v) for k, v in attrs.items()})


def atom_feed(
    info: FeedInfo,
    papers: Sequence[PaperView],
    href: Callable[[str], str],
) -> bytes:
    """The feed as UTF-8 bytes. `href(site_path)` turns a page of the site into the link
    the feed carries (relative to the feed, or absolute under a base URL)."""
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _text(feed, "title", info.title)
    _text(feed, "subtitle", info.subtitle)
    _text(feed, "id", feed_id(info.path))
    newest = max((p.last_seen for p in papers), default=info.newest_day or _EPOCH)
    _text(feed, "updated", _stamp(newest))
    _empty(feed, "link", rel="self", type="application/atom+xml", href=href(info.path))
    _empty(feed, "link", rel="alternate", type="text/html", href=href(INDEX))
    _text(feed, "generator", GENERATOR)
    author = ET.SubElement(feed, "author")  # for entries whose authors are unknown
    _text(author, "name", GENERATOR)
    for paper in papers:
        _entry(feed, paper, href)
    body = ET.tostring(feed, encoding="unicode", xml_declaration=False)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n").encode("utf-8")


def _entry(feed: ET.Element, paper: PaperView, href: Callable[[str], str]) -> None:
    entry = ET.SubElement(feed, "entry")
    _text(entry, "title", paper.title, type="text")
    _text(entry, "id", entry_id(paper))
    _text(entry, "published", _stamp(paper.first_seen))
    _text(entry, "updated", _stamp(paper.last_seen))
    _empty(entry, "link", rel="alternate", type="text/html", href=href(paper_page(paper.id)))
    _empty(entry, "link", rel="related", href=paper.url)
    for link in paper.links:
        _empty(entry, "link", rel="related", href=link.url, title=link.label)
    for name in paper.authors:
        author = ET.SubElement(entry, "author")
        _text(author, "name", name)
    for topic in paper.topics:
        _empty(entry, "category", term=topic.slug, label=topic.name)
    for category in paper.categories:
        _empty(entry, "category", term=category, scheme=ARXIV_CATEGORIES)
    summary = paper.tldr or paper.abstract
    if summary:
        _text(entry, "summary", summary, type="text")
