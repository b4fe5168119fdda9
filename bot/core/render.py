"""Message layout shared by search, /paper and digests, as plain REST payload dicts.

Nothing here imports discord: every function returns the exact JSON body Discord's
REST API takes, so the layout is testable against :mod:`bot.core.limits` without a
client, and the Discord layer only adds components (buttons) and sends it.

Every piece of dump text is escaped (:func:`bot.core.markdown.escape_markdown`) and
every payload carries ``allowed_mentions={"parse": []}``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from bot.core.hf_extras import web_url
from bot.core.limits import (
    EMBED_CHAR_BUDGET,
    MAX_EMBED_DESCRIPTION,
    MAX_EMBED_TITLE,
    MAX_EMBEDS,
    MAX_FOOTER_TEXT,
    embed_length,
)
from bot.core.markdown import ZWSP, clean_text, escape_markdown, teaser, truncate
from bot.core.models import SearchResponse, StoredPaper, Topic
from bot.core.payloads import AllowedMentions, Embed, MessagePayload
from bot.core.sources import ALL_SOURCES, SourceFilter
from bot.core.topic_lookup import topic_label
from bot.core.wording import format_day as format_day  # re-exported: layouts use it
from bot.core.wording import no_results_text, plural, results_header, spelling_note

ARXIV_ABS_URL = "https://arxiv.org/abs/"
ARXIV_PDF_URL = "https://arxiv.org/pdf/"
HF_PAPER_URL = "https://huggingface.co/papers/"  # + arXiv id: the paper's HF page
HF_SEARCH_URL = "https://huggingface.co/papers?q="
# Hugging Face has pages for new-style arXiv ids (2403.15447) only.
_NEW_STYLE_ID = re.compile(r"\d{4}\.\d{4,5}")
EMBED_COLOR = 0xB31B1B  # arXiv red: one colour for every paper embed

TEASER_CHARS = 300
# Caps for the metadata lines under the teaser. They keep one paper embed far below
# the 6000-char message budget, so packing rarely has to shorten anything.
_TOPICS_CHARS = 300
_WHY_CHARS = 300
_TLDR_CHARS = 400
_KEYWORDS_CHARS = 300
_ORGANIZATION_CHARS = 100
_AUTHORS_CHARS = 240
_AUTHORS_CHARS_FULL = 900
_AUTHORS_SHOWN = 3
_AUTHORS_SHOWN_FULL = 40
# A percent-encoded CJK title is ~9x its length; cap the search query in the fallback
# URL so it stays short (Discord rejects URLs over 2048 chars and the link line of the
# description counts towards the embed budget).
_MAX_QUERY_CHARS = 240
_CODE_SPAN_CHARS = 100
_NO_ABSTRACT = "*No abstract in the dump.*"
# A paper no daily dump listed (the arXiv snapshot import stores such papers, dated the
# day arXiv first announced them): paperbot has seen it on no day.
NO_DUMP_YET = "in no daily dump yet"
_UNTITLED = "(untitled)"

EmbedBuilder = Callable[[int | None], Embed]


def no_mentions() -> AllowedMentions:
    """A fresh ``allowed_mentions`` value that pings nobody (fresh: callers may mutate)."""
    return {"parse": []}


# --- links ------------------------------------------------------------------------------


def paper_url(paper: StoredPaper) -> str:
    """The paper's canonical link: its arXiv abstract page, else a Hugging Face search."""
    arxiv_id = (paper.arxiv_id or "").strip()
    if arxiv_id:
        return ARXIV_ABS_URL + quote(arxiv_id, safe="/.")
    return HF_SEARCH_URL + _quoted_query(paper.title)


def page_url(paper: StoredPaper) -> str:
    """The best page for a paper, which its title links to: its Hugging Face page (with
    the discussion) when it has a new-style arXiv id, else its arXiv page, else a
    Hugging Face search for its title."""
    arxiv_id = (paper.arxiv_id or "").strip()
    if _NEW_STYLE_ID.fullmatch(arxiv_id):
        return HF_PAPER_URL + arxiv_id
    return paper_url(paper)


def pdf_url(paper: StoredPaper) -> str | None:
    arxiv_id = (paper.arxiv_id or "").strip()
    return ARXIV_PDF_URL + quote(arxiv_id, safe="/.") if arxiv_id else None


def _quoted_query(title: str) -> str:
    text = " ".join(clean_text(title).split())
    encoded = quote(text, safe="")
    if len(encoded) <= _MAX_QUERY_CHARS:
        return encoded
    # Encode char by char so the cap never splits a %XX sequence.
    parts: list[str] = []
    size = 0
    for ch in text:
        piece = quote(ch, safe="")
        if size + len(piece) > _MAX_QUERY_CHARS:
            break
        parts.append(piece)
        size += len(piece)
    return "".join(parts).removesuffix("%20")


# --- small text pieces --------------------------------------------------------------------


def one_line(text: str) -> str:
    """Collapse all whitespace (titles arrive with newlines from wrapped dumps)."""
    return " ".join(clean_text(text).split())


def search_label(
    query: str | None,
    topic: Topic | None,
    since: dt.date | None,
    source: SourceFilter = ALL_SOURCES,
    author: str | None = None,
    *,
    max_chars: int | None = None,
) -> str:
    """What a results header says was searched for, in the CLI and in Discord.
    `max_chars` cuts the query and the author first, so a pasted essay cannot push
    the filters out of view."""

    def shown(text: str) -> str:
        line = one_line(text)
        return truncate(line, max_chars) if max_chars is not None else line

    parts = [shown(query)] if query and query.strip() else []
    if author:
        parts.append(f"by {shown(author)}")
    if topic is not None:
        parts.append(f"topic: {one_line(topic.name)}")
    if not source.everything:
        parts.append(f"from {source.label()}")
    if since is not None:
        parts.append(f"since {since.isoformat()}")
    return " · ".join(parts)


def safe_inline(text: str, limit: int, *, keep_urls: bool = True) -> str:
    """Untrusted text as one escaped line of at most ``limit`` chars."""
    return truncate(escape_markdown(one_line(text), keep_urls=keep_urls), limit)


def code_span(text: str, limit: int = _CODE_SPAN_CHARS) -> str:
    """Show user input (a search query) as inline code that cannot break out.

    Backslashes do not escape inside a code span, so backticks are swapped for a
    look-alike; mention-looking text still gets a zero-width space.
    """
    shown = one_line(text).replace("`", "ˋ")
    shown = re.sub(r"@(?=everyone|here)|(?<=<)@", "@" + ZWSP, shown)
    shown = truncate(shown, limit)
    return f"`{shown}`" if shown else "`…`"


def topic_display_names(
    slugs: Sequence[str],
    topic_names: Mapping[str, str] | None,
    unknown_server_topic: str | None = None,
) -> list[str]:
    """Display names for topic keys, without repeats: a built-in's slug when unnamed; a
    server topic not in `topic_names` (another server's, or removed) as
    `unknown_server_topic`, or left out when that is None. Never a raw key."""
    names: list[str] = []
    for slug in slugs:
        label = topic_label(slug, topic_names or {})
        name = unknown_server_topic if label is None else one_line(label) or slug
        if name is not None and name not in names:
            names.append(name)
    return names


# --- the paper embed ------------------------------------------------------------------------


def paper_embed(
    paper: StoredPaper,
    *,
    full: bool = False,
    why: tuple[str, ...] = (),
    topic_names: Mapping[str, str] | None = None,
    max_length: int | None = None,
) -> Embed:
    """One paper as an embed dict.

    Title (escaped, <= 256) links to :func:`page_url`, the paper's one main link. The
    description is a teaser (or with ``full=True`` the whole abstract, cut to fit
    4096) followed by lines for HF's AI summary, topics, why it matched (with
    ``full``, HF's keywords), authors, organization, upvotes and comments, and one
    compact line of code, project and PDF links; no address appears twice. The footer
    says when it was first seen and on how many days.

    ``max_length`` caps :func:`embed_length` of the
    result (used when packing many embeds into one message): the abstract text gives
    way first, then the metadata lines, then the title.
    """
    parts = embed_parts(paper, full=full, topic_names=topic_names)
    return finish_embed(parts, why=why, max_length=max_length)


@dataclass(frozen=True)
class EmbedParts:
    """A paper's embed laid out but for why it was picked: `finish_embed` adds the why.
    A fan-out lays out each paper of the day once, then finishes it for every member
    it was picked for (`paper_embed` does both)."""

    title: str
    url: str
    footer: str
    body: str
    before_why: tuple[str, ...]  # metadata lines above the why line
    after_why: tuple[str, ...]  # and below it, the links last


def embed_parts(
    paper: StoredPaper, *, full: bool = False, topic_names: Mapping[str, str] | None = None
) -> EmbedParts:
    title = safe_inline(paper.title, MAX_EMBED_TITLE, keep_urls=False) or _UNTITLED
    footer = truncate(_footer_text(paper), MAX_FOOTER_TEXT)
    body = _body(paper, full)
    url = page_url(paper)
    before, after = _meta_parts(paper, topic_names, full, shown=(url, body))
    return EmbedParts(title, url, footer, body, before, after)


def finish_embed(
    parts: EmbedParts, *, why: tuple[str, ...] = (), max_length: int | None = None
) -> Embed:
    """The embed of `parts` with its why line (see `paper_embed`)."""
    reasons = [line for line in map(one_line, why) if line]
    why_line = ["**Why:** " + safe_inline(" · ".join(reasons), _WHY_CHARS)] if reasons else []
    meta = [*parts.before_why, *why_line, *parts.after_why]

    room = MAX_EMBED_DESCRIPTION
    if max_length is not None:
        room = min(room, max_length - len(parts.title) - len(parts.footer))
    description = _compose(parts.body, meta, room)

    embed: Embed = {"title": parts.title, "url": parts.url, "color": EMBED_COLOR}
    if description:
        embed["description"] = description
    if parts.footer:
        embed["footer"] = {"text": parts.footer}
    if max_length is not None and embed_length(embed) > max_length:
        _force_fit(embed, max_length)
    return embed


def _body(paper: StoredPaper, full: bool) -> str:
    if full:
        paragraphs = re.split(r"\n\s*\n", clean_text(paper.abstract))
        text = "\n\n".join(p for p in (" ".join(x.split()) for x in paragraphs) if p)
    else:
        text = teaser(paper.abstract, TEASER_CHARS)
    return escape_markdown(text) if text else _NO_ABSTRACT


def _meta_parts(
    paper: StoredPaper,
    topic_names: Mapping[str, str] | None,
    full: bool,
    shown: tuple[str, str] = ("", ""),
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Metadata lines, most important first (the fitting code drops from the end but
    keeps the last, the links), as those above where the why line goes and those
    below. `shown` is the title's link and the body: a link already there is not
    repeated."""
    before: list[str] = []
    after: list[str] = []
    link = _link_line(paper, shown)
    tldr = one_line(paper.hf.ai_summary)
    if tldr:
        before.append("**TL;DR** (HF's AI summary): " + safe_inline(tldr, _TLDR_CHARS))
    hits = sorted(paper.topics, key=lambda h: -h.score)
    names = topic_display_names([h.topic for h in hits], topic_names)
    if names:
        before.append("**Topics:** " + safe_inline(" · ".join(names), _TOPICS_CHARS))
    if full and paper.hf.ai_keywords:
        keywords = " · ".join(one_line(k) for k in paper.hf.ai_keywords)
        after.append("**Keywords:** " + safe_inline(keywords, _KEYWORDS_CHARS))
    people = _people_line(paper, full)
    if people:
        after.append(people)
    if link:
        after.append(link)
    return tuple(before), tuple(after)


def _people_line(paper: StoredPaper, full: bool) -> str:
    parts: list[str] = []
    authors = [one_line(a) for a in paper.authors if one_line(a)]
    if authors:
        shown_max = _AUTHORS_SHOWN_FULL if full else _AUTHORS_SHOWN
        shown = ", ".join(authors[:shown_max])
        if len(authors) > shown_max:
            shown += f" +{len(authors) - shown_max} more"
        limit = _AUTHORS_CHARS_FULL if full else _AUTHORS_CHARS
        parts.append("**Authors:** " + safe_inline(shown, limit))
    organization = one_line(paper.hf.organization)
    if organization:
        parts.append(safe_inline(organization, _ORGANIZATION_CHARS, keep_urls=False))
    if paper.upvotes is not None:
        parts.append(f"▲ {plural(paper.upvotes, 'upvote')}")
    if paper.hf.num_comments:
        parts.append(f"💬 {plural(paper.hf.num_comments, 'comment')}")
    return " · ".join(parts)


def _link_line(paper: StoredPaper, shown: tuple[str, str]) -> str:
    """Code (with its stars), project and PDF links on one line, each only when it is
    a web address not already shown (as the title's link, or in the abstract's text)."""
    title_url, body = shown
    seen = {_same_url(title_url), *(_same_url(u) for u in _ADDRESS.findall(body))}
    links: list[str] = []
    stars = paper.hf.github_stars
    for label, raw in (
        ("Code" + (f" ★ {_count(stars)}" if stars else ""), paper.hf.github_repo),
        ("Project", paper.hf.project_page),
        ("PDF", pdf_url(paper)),
    ):
        url = web_url(raw)
        if url is None or _same_url(url) in seen:
            continue
        seen.add(_same_url(url))
        links.append(f"[{label}]({url})")
    return " · ".join(links)


# A web address in shown text, as a reader's client would link it.
_ADDRESS = re.compile(r"https?://[^\s<>()\[\]\\]+")  # an escape ends it


def _same_url(url: str) -> str:
    """An address as compared for repeats: `https://github.com/a/b/.` is `…/a/b`."""
    return url.strip().rstrip(".,;:!?'\"").rstrip("/").removesuffix(".git").casefold()


def _count(number: int) -> str:
    """Stars, short: 950, 1.2k, 12k."""
    if number < 1000:
        return str(number)
    if number < 10_000:
        return f"{number / 1000:.1f}".rstrip("0").rstrip(".") + "k"
    return f"{number // 1000}k"


def _footer_text(paper: StoredPaper) -> str:
    if not paper.days:
        return f"Announced {paper.first_seen.isoformat()} · {NO_DUMP_YET}"
    seen = len(set(paper.days))
    return f"First seen {paper.first_seen.isoformat()} · seen on {plural(seen, 'day')}"


def _compose(body: str, meta: list[str], room: int) -> str:
    """Body + blank line + metadata within ``room`` chars; the body shrinks first."""
    if room <= 0:
        return ""
    meta = list(meta)
    min_body = min(len(body), 80)
    # Drop metadata lines (all but the link, which is last) from the least important
    # end until a sliver of body fits. The link outranks the body: it goes only when
    # it cannot fit on its own.
    while len(meta) > 1 and len("\n".join(meta)) + 2 + min_body > room:
        meta.pop(-2)
    if meta and len(meta[-1]) > room:
        meta.pop()
    meta_text = "\n".join(meta)
    if not meta_text:
        return truncate(body, room)
    body_room = room - len(meta_text) - 2
    body = truncate(body, body_room) if body_room > 0 else ""
    return f"{body}\n\n{meta_text}" if body else meta_text


def _force_fit(embed: Embed, max_length: int) -> None:
    """Last resort for tiny budgets: cut description, then footer, then title."""
    excess = embed_length(embed) - max_length
    if excess > 0 and "description" in embed:
        text = embed["description"]
        new = truncate(text, max(len(text) - excess, 0))
        if new:
            embed["description"] = new
        else:
            del embed["description"]
        excess -= len(text) - len(new)
    if excess > 0 and "footer" in embed:
        text = embed["footer"]["text"]
        new = truncate(text, max(len(text) - excess, 0))
        if new:
            embed["footer"]["text"] = new
        else:
            del embed["footer"]
        excess -= len(text) - len(new)
    if excess > 0 and "title" in embed:
        text = embed["title"]
        new = truncate(text, max(len(text) - excess, 1))
        if new:
            embed["title"] = new
        else:
            del embed["title"]


def fit_group(builders: Sequence[EmbedBuilder], budget: int = EMBED_CHAR_BUDGET) -> list[Embed]:
    """Build embeds that must share one message, shrinking the longest if needed.

    Each builder takes ``max_length`` (None = natural size). When the natural sizes
    sum over ``budget``, a common cap is chosen so the short embeds stay intact and
    only those above the cap are rebuilt shorter (water-filling), which guarantees
    the sum fits.
    """
    embeds = [build(None) for build in builders]
    lengths = [embed_length(e) for e in embeds]
    if sum(lengths) <= budget:
        return embeds
    cap = _water_level(lengths, budget)
    return [
        build(cap) if n > cap else e for build, e, n in zip(builders, embeds, lengths, strict=True)
    ]


def _water_level(lengths: Sequence[int], budget: int) -> int:
    """The largest cap c with sum(min(n, c)) <= budget."""
    remaining = budget
    ordered = sorted(lengths)
    for i, n in enumerate(ordered):
        share = remaining // (len(ordered) - i)
        if n > share:
            return share
        remaining -= n
    return ordered[-1] if ordered else budget


def page_count(n_items: int, per_page: int) -> int:
    """Number of pages for ``n_items`` at ``per_page`` (at least 1, for "page 1/1")."""
    return max(1, math.ceil(n_items / per_page))


# --- payloads --------------------------------------------------------------------------------


def search_page_payload(
    response: SearchResponse,
    query_label: str,
    page: int,
    per_page: int = 5,
    topic_names: Mapping[str, str] | None = None,
) -> MessagePayload:
    """One page of search results as a message body.

    ``page`` is 1-based and clamped into range, so a stale button cannot produce an
    empty page. The header reads "Results 6–10 of 6,490 for `protein` (top 50 shown)",
    plus one "Spelling corrected: …" line when the query was corrected. One embed per
    hit, with the hit's reasons as the "Why" line. No components: the Discord layer adds
    buttons (they do not count towards any text limit). No hits ->
    :func:`empty_search_payload`.
    """
    if not 1 <= per_page <= MAX_EMBEDS:
        raise ValueError(f"per_page must be 1..{MAX_EMBEDS}, got {per_page}")
    hits = response.hits
    if not hits:
        return empty_search_payload(query_label, response)
    pages = page_count(len(hits), per_page)
    page = min(max(page, 1), pages)
    start = (page - 1) * per_page
    chunk = hits[start : start + per_page]
    total = max(response.total, len(hits))

    header = results_header(
        start + 1,
        start + len(chunk),
        total,
        response.total_exact,
        query_label,
        quote=code_span,
        fetched=len(hits),
        every_word=response.every_word,
    )
    note = spelling_note(response.corrections, quote=code_span)
    if note:
        header += "\n" + note

    builders = [_builder(hit.paper, why=tuple(hit.why), topic_names=topic_names) for hit in chunk]
    return {"content": header, "embeds": fit_group(builders), "allowed_mentions": no_mentions()}


def empty_search_payload(
    query_label: str, response: SearchResponse | None = None
) -> MessagePayload:
    """The reply when a search finds nothing (saying so when older papers match)."""
    older, exact = (response.older, response.older_exact) if response else (0, True)
    content = no_results_text(query_label, quote=code_span, older=older, older_exact=exact)
    return {"content": content, "embeds": [], "allowed_mentions": no_mentions()}


def paper_detail_payload(
    paper: StoredPaper, topic_names: Mapping[str, str] | None = None
) -> MessagePayload:
    """``/paper``: one embed with the full abstract (cut to fit) and all metadata."""
    embed = paper_embed(paper, full=True, topic_names=topic_names, max_length=EMBED_CHAR_BUDGET)
    return {"content": "", "embeds": [embed], "allowed_mentions": no_mentions()}


def _builder(
    paper: StoredPaper,
    *,
    full: bool = False,
    why: tuple[str, ...] = (),
    topic_names: Mapping[str, str] | None = None,
) -> EmbedBuilder:
    def build(max_length: int | None) -> Embed:
        return paper_embed(
            paper, full=full, why=why, topic_names=topic_names, max_length=max_length
        )

    return build
