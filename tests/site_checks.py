"""Checks of an exported site: every HTML page parses with html5lib's strict parser (any
parse error fails), every link inside the site resolves to one of its files, and every
feed is valid Atom to feedparser."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element

import feedparser
import html5lib


def parse_html(content: bytes) -> Element:
    """The page's tree; raises html5lib's ParseError on the first parse error."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return parser.parse(content)


def text_of(element: Element) -> str:
    return " ".join("".join(element.itertext()).split())


def is_internal(href: str) -> bool:
    parts = urlsplit(href)
    return not parts.scheme and not parts.netloc


def resolve(page: str, href: str) -> str:
    """The site path a relative link on `page` leads to (fragment and query dropped)."""
    target = unquote(urlsplit(href).path)
    return posixpath.normpath(posixpath.join(posixpath.dirname(page), target))


@dataclass
class SiteCheck:
    pages: int = 0
    feeds: int = 0
    feed_entries: int = 0


def check_page(site: Path, page: str) -> list[str]:
    """Problems with one page: its parse, its structure, and its internal links."""
    tree = parse_html((site / page).read_bytes())
    problems: list[str] = []
    if tree.get("lang") != "en":
        problems.append(f"{page}: no lang")
    if len(tree.findall(".//title")) != 1 or len(tree.findall(".//h1")) != 1:
        problems.append(f"{page}: not one title and one h1")
    if tree.findall(".//script"):
        problems.append(f"{page}: has a script element")
    ids = [e.get("id") for e in tree.iter() if e.get("id")]
    if len(ids) != len(set(ids)):
        problems.append(f"{page}: repeated ids")
    for element in tree.iter():
        for attribute in ("href", "src"):
            link = element.get(attribute)
            if link is None:
                continue
            if not link:
                problems.append(f"{page}: empty {attribute}")
            elif is_internal(link) and not (site / resolve(page, link)).is_file():
                problems.append(f"{page}: {link} leads nowhere")
    return problems


def check_feed(site: Path, feed: str) -> tuple[list[str], int]:
    parsed = feedparser.parse((site / feed).read_bytes())
    problems: list[str] = []
    if parsed.bozo:
        problems.append(f"{feed}: not well-formed: {parsed.bozo_exception}")
    if parsed.version != "atom10":
        problems.append(f"{feed}: version {parsed.version!r}, not Atom 1.0")
    for key in ("id", "title", "updated"):
        if not parsed.feed.get(key):
            problems.append(f"{feed}: no feed {key}")
    for entry in parsed.entries:
        for key in ("id", "title", "updated", "link"):
            if not entry.get(key):
                problems.append(f"{feed}: an entry has no {key}")
        link = entry.get("link", "")
        if is_internal(link) and not (site / resolve(feed, link)).is_file():
            problems.append(f"{feed}: entry link {link} leads nowhere")
    return problems, len(parsed.entries)


def check_site(site: Path) -> SiteCheck:
    """Every page and feed under `site`; fails with every problem found."""
    check = SiteCheck()
    problems: list[str] = []
    for path in sorted(site.rglob("*.html")):
        page = path.relative_to(site).as_posix()
        problems += check_page(site, page)
        check.pages += 1
    for path in sorted(site.rglob("*.atom")):
        found, entries = check_feed(site, path.relative_to(site).as_posix())
        problems += found
        check.feeds += 1
        check.feed_entries += entries
    assert problems == [], "\n".join(problems[:20])
    return check
