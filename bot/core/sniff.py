"""Telling a paper dump from other text: a feed, a web page or a document.

The text reader pairs any title-like line with the paragraph after it, so an RSS feed
or an HTML page would come out as dozens of "papers" made of tags. Such files are
refused by their shape first, with a reason that names what the file looks like.
arXiv's listings are XML too, but a known format: `bot.core.parse_arxiv` reads them
before anything here is asked.
"""

from __future__ import annotations

import re

# A line that starts with a tag: `<item>`, `</p>`, `<link href=...>`, `<?xml`, `<!--`.
# Discord mentions (`<@123>`), `<3` and `a < b` do not: a tag name starts with a letter.
_TAG_LINE = re.compile(r"[ \t]*<(?:[?!][A-Za-z-]|/?[A-Za-z][\w:.-]*(?:[\s/>]|$))")
_ELEMENT = re.compile(r"<([A-Za-z][\w:.-]*)")
_HTML_DOCTYPE = re.compile(r"<!doctype\s+html", re.IGNORECASE)
# Markdown structure (headings, code fences, table rows); inline `**bold**` or
# `[link](url)` in a title is fine, a page never has these at the start of a line.
_MARKDOWN_LINE = re.compile(r" {0,3}(?:#{1,6}[ \t]|```|~~~|\|.*\|[ \t]*$)")
_FEED_ROOTS = {"rss", "feed", "rdf:rdf", "rdf"}  # RSS 2.0, Atom, RSS 1.0
# A dump may quote a stray tag or heading in an abstract; a document is made of them.
MARKUP_SHARE = 0.2
MIN_MARKUP_LINES = 3
# A heading that opens a paragraph: "## Install", or a line underlined with === or ---.
_HEADING = re.compile(r" {0,3}(?:#{1,6}[ \t]+\S|\S[^\n]*\n {0,3}(?:=+|-+)[ \t]*(?:\n|$))")
_UNDERLINE = re.compile(r"\n {0,3}(?:=+|-+)[ \t]*(?:\n|$)")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
# Prose between headings dilutes the share of markup lines, but a document is still
# organised by its headings: paragraphs opening with one, this share of them (and at
# least MIN_MARKUP_LINES), make Markdown. A dump's paragraphs are titles and
# abstracts, which never open with a heading.
HEADING_SHARE = 0.05
_MARKDOWN_REASON = (
    "looks like a Markdown document (headings, code or tables), not a paper dump; "
    "a dump is the daily-papers page saved as plain text or the API's JSON"
)


def markup_refusal(text: str) -> str | None:
    """Why `text` is markup rather than a paper dump, or None when it is not markup."""
    head = text.lstrip()
    if head.startswith("<") and _TAG_LINE.match(head):
        return _markup_kind(head)
    headed = "#" in text or _UNDERLINE.search(text) is not None
    if "<" not in text and not headed and not any(mark in text for mark in "`~|"):
        return None  # nothing below could match: most dumps stop here
    lines = [line for line in text.split("\n") if line.strip()]
    enough = max(MIN_MARKUP_LINES, MARKUP_SHARE * len(lines))
    if "<" in text and sum(1 for line in lines if _TAG_LINE.match(line)) >= enough:
        return _markup_kind(text)
    if sum(1 for line in lines if _MARKDOWN_LINE.match(line)) >= enough:
        return _MARKDOWN_REASON
    if not headed:
        return None
    paragraphs = [p.strip("\n") for p in _PARAGRAPH_BREAK.split(text) if p.strip()]
    headings = sum(1 for paragraph in paragraphs if _HEADING.match(paragraph))
    if headings >= max(MIN_MARKUP_LINES, HEADING_SHARE * len(paragraphs)):
        return _MARKDOWN_REASON
    return None


def _markup_kind(text: str) -> str:
    element = _ELEMENT.search(text)
    root = element[1].casefold() if element else ""
    if root == "html" or _HTML_DOCTYPE.search(text[:4096]):
        return (
            "looks like an HTML web page, not a paper dump; save the daily-papers page "
            "as plain text (select all, copy, paste into a .txt file)"
        )
    # arXiv's own feeds never get here: bot.core.parse_arxiv reads them first.
    if root == "oai-pmh":
        return f"looks like an OAI-PMH response, which paperbot does not read; {_ARXIV_FORMATS}"
    if root in _FEED_ROOTS:
        kind = "an Atom feed" if root == "feed" else "an RSS feed"
        where = _feed_host(text)
        origin = f" from {where}" if where else ""
        return f"looks like {kind}{origin}, not an arXiv listing or a paper dump"
    shown = f" (<{element[1]}>)" if element else ""
    return f"looks like an XML document{shown}, not a paper dump"


_ARXIV_FORMATS = (
    "save arXiv's announcement feed (rss.arxiv.org) or an API response "
    "(export.arxiv.org/api/query) instead"
)
# The feed's own link: RSS `<link>https://...</link>`, Atom `<link href="https://...">`.
_FEED_LINK = re.compile(r"<link(?:\s[^>]*?href=[\"']|>)\s*https?://([\w.-]+)", re.IGNORECASE)


def _feed_host(text: str) -> str | None:
    """The host the feed says it is from (its first link), to name it in the refusal."""
    found = _FEED_LINK.search(text[:8192])
    return found[1].lower() if found else None
