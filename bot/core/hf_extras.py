"""What the Hugging Face daily_papers JSON says about a paper beyond its title, abstract,
authors and upvotes: HF's AI summary and keywords, code and project links, the
submitting organization and the discussion's size.

The API's two shapes are described by the TypedDicts below. Every field is optional:
today's shape leaves out what a paper lacks (no `null`), the 2024 shape never had most
of them, and a hand-edited file may hold anything, so every value is checked before use.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TypedDict

# An absolute web address with no whitespace or characters that end a masked link.
_WEB_URL = re.compile(r"https?://[^\s<>\"'`()\[\]{}|\\^]+", re.IGNORECASE)
_MAX_URL_CHARS = 500
_MAX_SUMMARY_CHARS = 1000
_MAX_KEYWORDS = 30
_MAX_KEYWORD_CHARS = 80
_MAX_NAME_CHARS = 200


class HfOrganization(TypedDict, total=False):
    name: str
    fullname: str


class HfAuthor(TypedDict, total=False):
    name: str
    hidden: bool


class HfPaper(TypedDict, total=False):
    """`item["paper"]`: 2024 has only id, authors, publishedAt, title, summary, upvotes."""

    id: str
    title: str
    summary: str
    authors: list[HfAuthor]
    publishedAt: str
    submittedOnDailyAt: str  # the Daily Papers day (date part); absent in 2024
    upvotes: int
    discussionId: str
    ai_summary: str
    ai_keywords: list[str]
    githubRepo: str
    githubStars: int
    projectPage: str
    organization: HfOrganization


class HfItem(TypedDict, total=False):
    """One entry of the `/api/daily_papers` list. `title` is the clean title; the
    paper's own may keep arXiv's line wraps. 2024 has `mediaUrl`, today `mediaUrls`."""

    paper: HfPaper
    title: str
    summary: str
    publishedAt: str
    numComments: int
    organization: HfOrganization
    mediaUrl: str
    mediaUrls: list[str]
    thumbnail: str


@dataclass(frozen=True)
class HfExtras:
    """The HF JSON's extra fields of one paper; empty values mean "not given"."""

    ai_summary: str = ""  # HF's one-line AI summary (TL;DR)
    ai_keywords: tuple[str, ...] = ()
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    organization: str = ""  # the organization's display name
    num_comments: int | None = None

    def __bool__(self) -> bool:
        return self != _EMPTY


_EMPTY = HfExtras()


def web_url(value: object) -> str | None:
    """An http(s) address as given, or None for anything else (a relative path, a
    `javascript:` link, text with spaces, a link too long to show)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if len(value) > _MAX_URL_CHARS or not _WEB_URL.fullmatch(value):
        return None
    return value


def _count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and math.isfinite(value) and value >= 0:
        return round(value)
    return None


def _line(value: object, limit: int) -> str:
    """A string value on one line (every whitespace run one space), at most `limit`."""
    if not isinstance(value, str):
        return ""
    return " ".join(value.split())[:limit]


def _keywords(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    found: dict[str, str] = {}  # casefolded -> as first written
    for entry in value:
        word = _line(entry, _MAX_KEYWORD_CHARS)
        if word:
            found.setdefault(word.casefold(), word)
    return tuple(found.values())[:_MAX_KEYWORDS]


def _organization(*values: object) -> str:
    for value in values:
        if isinstance(value, dict):
            name = _line(value.get("fullname"), _MAX_NAME_CHARS) or _line(
                value.get("name"), _MAX_NAME_CHARS
            )
            if name:
                return name
    return ""


def hf_extras(item: dict[str, object], paper: dict[str, object]) -> HfExtras:
    """The extras of one daily_papers item (`paper` is `item["paper"]`, or {})."""
    return HfExtras(
        ai_summary=_line(paper.get("ai_summary"), _MAX_SUMMARY_CHARS),
        ai_keywords=_keywords(paper.get("ai_keywords")),
        github_repo=web_url(paper.get("githubRepo")),
        github_stars=_count(paper.get("githubStars")),
        project_page=web_url(paper.get("projectPage")),
        organization=_organization(item.get("organization"), paper.get("organization")),
        num_comments=_count(item.get("numComments")),
    )
