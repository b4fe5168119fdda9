"""What a page shows of a stored paper, decided once for the HTML pages and the feeds.

Every value here is plain text; the templates and the feed writer escape it.
`paper_view` is the one place that chooses a paper's links and its TL;DR, so a new
stored field (a code link, a project page) is added here and shows everywhere.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from bot.core.markdown import teaser
from bot.core.models import StoredPaper
from bot.core.render import ARXIV_ABS_URL, one_line, paper_url
from bot.core.sources import SOURCE_NAMES
from bot.core.topic_lookup import is_guild_key

ARXIV_PDF_URL = "https://arxiv.org/pdf/"
HF_PAPER_URL = "https://huggingface.co/papers/"  # + arXiv id: the paper's page on HF
# Hugging Face has paper pages for new-style arXiv ids (2403.15447) only.
_NEW_STYLE_ID = re.compile(r"\d{4}\.\d{4,5}")
TEASER_CHARS = 300
AUTHORS_SHOWN = 3  # on a day page; a paper's own page lists every author
UNTITLED = "(untitled)"


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class TopicView:
    slug: str
    name: str


@dataclass(frozen=True)
class PaperView:
    id: int
    key: str  # the stored paper's identity key: the feed entry's id is made from it
    title: str  # one line
    url: str  # the paper's main page outside the site: what the title links to
    links: tuple[Link, ...]  # the other pages about it, none repeating `url`
    tldr: str  # a one-line summary, when the store has one ("" otherwise)
    abstract: str
    teaser: str
    authors: tuple[str, ...]
    upvotes: int | None
    arxiv_id: str
    categories: tuple[str, ...]  # the primary one first
    sources: tuple[str, ...]  # display names: "Hugging Face", "arXiv"
    topics: tuple[TopicView, ...]
    days: tuple[dt.date, ...]  # every day it was listed, oldest first
    first_seen: dt.date
    last_seen: dt.date

    @property
    def authors_short(self) -> str:
        shown = ", ".join(self.authors[:AUTHORS_SHOWN])
        more = len(self.authors) - AUTHORS_SHOWN
        return f"{shown} +{more} more" if more > 0 else shown


def paper_view(paper: StoredPaper, topic_names: Mapping[str, str]) -> PaperView:
    """`topic_names`: the built-in topics' names by slug. A server's own topics are
    left out: the site is public and they belong to one server."""
    abstract = one_line(paper.abstract)
    arxiv_id = one_line(paper.arxiv_id or "")
    topics = tuple(
        TopicView(hit.topic, one_line(topic_names.get(hit.topic, "")) or hit.topic)
        for hit in paper.topics
        if not is_guild_key(hit.topic) and hit.topic in topic_names
    )
    return PaperView(
        id=paper.id,
        key=paper.key,
        title=one_line(paper.title) or UNTITLED,
        url=paper_url(paper),
        links=_links(paper, arxiv_id),
        tldr=one_line(paper.hf.ai_summary),
        abstract=abstract,
        teaser=teaser(abstract, TEASER_CHARS) if abstract else "",
        authors=tuple(a for a in (one_line(a) for a in paper.authors) if a),
        upvotes=paper.upvotes,
        arxiv_id=arxiv_id,
        categories=tuple(c for c in (one_line(c) for c in paper.categories) if c),
        sources=tuple(SOURCE_NAMES.get(s, s) for s in paper.sources),
        topics=topics,
        days=tuple(sorted(set(paper.days))) or (paper.first_seen,),
        first_seen=paper.first_seen,
        last_seen=paper.last_seen,
    )


def _links(paper: StoredPaper, arxiv_id: str) -> tuple[Link, ...]:
    """The paper's pages besides its main one, each address once."""
    candidates: list[Link] = []
    if arxiv_id:
        quoted = quote(arxiv_id, safe="/.")
        candidates.append(Link("arXiv", ARXIV_ABS_URL + quoted))
        candidates.append(Link("PDF", ARXIV_PDF_URL + quoted))
        if _NEW_STYLE_ID.fullmatch(arxiv_id):
            candidates.append(Link("Hugging Face", HF_PAPER_URL + arxiv_id))
    hf = paper.hf
    if hf.github_repo:
        stars = f" ★ {hf.github_stars:,}" if hf.github_stars else ""
        candidates.append(Link("Code" + stars, hf.github_repo))
    if hf.project_page:
        candidates.append(Link("Project", hf.project_page))
    seen = {paper_url(paper)}
    links: list[Link] = []
    for link in candidates:
        if link.url not in seen:
            seen.add(link.url)
            links.append(link)
    return tuple(links)
