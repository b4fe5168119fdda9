"""Where papers come from (Hugging Face's daily papers, arXiv's listings), arXiv
categories, and the filter a digest or a search applies to both.

A paper is listed by one source or both: an HF page or JSON, and an arXiv announcement
feed or API response. Papers from both merge by arXiv id (text dumps by title), so one
stored paper can carry both sources; on a given day it was listed by one or both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.models import DumpFormat

HF = "hf"
ARXIV = "arxiv"
SOURCES = (HF, ARXIV)
SOURCE_NAMES = {HF: "Hugging Face", ARXIV: "arXiv"}
# Dump formats (ParsedDump.format) and the source each one is.
ARXIV_FORMATS = (DumpFormat.ARXIV_RSS, DumpFormat.ARXIV_ATOM, DumpFormat.ARXIV_API)


def source_of_format(dump_format: str) -> str:
    """The source a dump of this format lists papers from."""
    return ARXIV if dump_format in ARXIV_FORMATS else HF


# arXiv's archives today (https://arxiv.org/category_taxonomy): what a category a person
# types may start with. Feeds are read by shape only, since old papers carry archives
# that have since been merged (`cmp-lg`, `solv-int`).
ARCHIVES = frozenset(
    {
        "astro-ph", "cond-mat", "cs", "econ", "eess", "gr-qc", "hep-ex", "hep-lat",
        "hep-ph", "hep-th", "math", "math-ph", "nlin", "nucl-ex", "nucl-th", "physics",
        "q-bio", "q-fin", "quant-ph", "stat",
    }
)  # fmt: skip
# `cs.CL`, `math.AG`, `astro-ph.GA`, `physics.acc-ph`, `cond-mat.mes-hall`, `hep-th`.
_CATEGORY = re.compile(r"([a-z][a-z-]*)(?:\.([A-Za-z][A-Za-z-]*))?")
MAX_CATEGORIES = 20  # in one filter; a feed of them all would be the archive itself


def feed_category(term: str) -> str | None:
    """A category term as a feed writes it (`cs.CL`), or None when the term is not an
    arXiv category (an MSC code such as `53D10, 53D15` or an ACM class such as `I.2.7`,
    which the API lists among the categories)."""
    found = _CATEGORY.fullmatch(term.strip())
    return _canonical(found) if found else None


def _canonical(found: re.Match[str]) -> str:
    archive, subject = found[1].lower(), found[2]
    if subject is None:
        return archive
    # Two-letter subject classes are upper case (`cs.CL`, `math.AG`), longer ones lower
    # case (`physics.acc-ph`, `cond-mat.mes-hall`).
    subject = subject.upper() if len(subject) == 2 else subject.lower()
    return f"{archive}.{subject}"


def typed_category(text: str) -> str:
    """A category as a person types it (`cs.cl`, `CS.CL`, `cs`) in arXiv's spelling;
    ValueError with a one-line reason when it is not one."""
    found = _CATEGORY.fullmatch(text.strip().lower())
    if found is None:
        raise ValueError(
            f"{text.strip()!r} is not an arXiv category; write it like cs.CL, math.AG or hep-th"
        )
    if found[1] not in ARCHIVES:
        raise ValueError(
            f"{text.strip()!r} is not an arXiv category: arXiv has no archive {found[1]!r} "
            "(e.g. cs, math, stat, physics, q-bio, eess)"
        )
    return _canonical(found)


def typed_categories(text: str) -> tuple[str, ...]:
    """Comma- (or space- or plus-) separated categories in arXiv's spelling, each once."""
    parts = [part for part in re.split(r"[\s,+]+", text) if part]
    if not parts:
        raise ValueError("name at least one arXiv category, e.g. cs.CL")
    found = tuple(dict.fromkeys(typed_category(part) for part in parts))
    if len(found) > MAX_CATEGORIES:
        raise ValueError(f"at most {MAX_CATEGORIES} categories, not {len(found)}")
    return found


def category_matches(wanted: str, categories: Iterable[str]) -> bool:
    """`cs.CL` matches a paper in cs.CL; an archive (`cs`, `math`) matches every
    category in it (`cs.CL`, `cs.LG`)."""
    return any(c == wanted or c.startswith(wanted + ".") for c in categories)


def category_terms(categories: Iterable[str]) -> tuple[str, ...]:
    """What a search index holds for a paper's categories: each one and its archive, so
    a filter on `cs.CL` or on `cs` is one term lookup."""
    terms: dict[str, None] = {}
    for category in categories:
        terms[category] = None
        terms[category.split(".", 1)[0]] = None
    return tuple(terms)


def search_sources(sources: Iterable[str], categories: Iterable[str]) -> tuple[str, ...]:
    """The sources a search's filter sees a paper as listed by: the dumps that listed
    it, and arXiv whenever its arXiv categories are known. Only arXiv gives categories
    (its listings and the metadata snapshot import), and an imported paper was listed
    by no dump, yet it is as much an arXiv paper as one a listing brought."""
    found = dict.fromkeys(sources)
    if any(True for _ in categories):
        found[ARXIV] = None
    return tuple(found)


@dataclass(frozen=True)
class SourceFilter:
    """What a digest (or a search) takes: every source, only Hugging Face's, or only
    arXiv's, perhaps only some categories of it (`arxiv:cs.CL,cs.LG`)."""

    source: str | None = None  # None: every source
    categories: tuple[str, ...] = ()  # with ARXIV: any of these (empty: any category)

    @property
    def everything(self) -> bool:
        return self.source is None

    def accepts(self, sources: Iterable[str], categories: Iterable[str]) -> bool:
        """Whether a paper listed by `sources` (on the day shown) with `categories`
        passes."""
        if self.source is None:
            return True
        if self.source not in set(sources):
            return False
        wanted = list(categories)
        return not self.categories or any(category_matches(c, wanted) for c in self.categories)

    def stored(self) -> str:
        """The text it is stored as and typed as: `all`, `hf`, `arxiv`, `arxiv:cs.CL,cs.LG`."""
        if self.source is None:
            return "all"
        if self.categories:
            return f"{self.source}:{','.join(self.categories)}"
        return self.source

    def label(self) -> str:
        """As a header says it: `Hugging Face`, `arXiv cs.CL, cs.LG`, `all sources`."""
        if self.source is None:
            return "all sources"
        name = SOURCE_NAMES[self.source]
        return f"{name} {', '.join(self.categories)}" if self.categories else name


ALL_SOURCES = SourceFilter()
SOURCE_HELP = "use hf, arxiv, arxiv:cs.CL,cs.LG (arXiv categories) or all"


def parse_source_filter(text: str | None) -> SourceFilter:
    """`hf`, `arxiv`, `arxiv:cs.CL,cs.LG` or `all` (empty: all); ValueError with a
    one-line reason otherwise."""
    raw = (text or "").strip()
    if not raw or raw.lower() == "all":
        return ALL_SOURCES
    head, colon, rest = raw.partition(":")
    source = head.strip().lower()
    if source in ("huggingface", "hugging face"):
        source = HF
    if source not in SOURCES:
        raise ValueError(f"{raw!r} is not a source; {SOURCE_HELP}")
    if not colon:
        return SourceFilter(source)
    if source != ARXIV:
        raise ValueError(f"only arXiv papers have categories; {SOURCE_HELP}")
    return SourceFilter(ARXIV, typed_categories(rest))


def source_reason(wanted: SourceFilter, categories: Sequence[str]) -> str | None:
    """Why a paper passed a search's source filter, as a result line says it: `arXiv
    cs.CV` (the paper's categories the filter asked for), `Hugging Face`; None without
    a filter."""
    if wanted.source is None:
        return None
    name = SOURCE_NAMES[wanted.source]
    matched = [c for c in categories if any(category_matches(w, [c]) for w in wanted.categories)]
    return f"{name} {', '.join(matched)}" if matched else name


def source_choices(typed: str, seen: Sequence[str], limit: int) -> list[str]:
    """Autocomplete for a `source` option: what `typed` can become among `all`, `hf`,
    `arxiv` and `arxiv:` with the categories `seen` in the store (most papers first).
    After `arxiv:cs.CL,` the last category is the one being typed."""
    text = typed.strip()
    lowered = text.lower()
    head, colon, rest = text.partition(":")
    if not colon:
        if "." in text:  # `cs.CV` typed without `arxiv:`
            head, rest = ARXIV, text
        else:
            fixed = [s for s in ("all", HF, ARXIV) if s.startswith(lowered)]
            more = [f"{ARXIV}:{c}" for c in seen if c.lower().startswith(lowered)]
            return [*fixed, *more][:limit]
    if head.strip().lower() != ARXIV:
        return []
    *done, last = re.split(r"[\s,+]+", rest)
    chosen = [part for part in done if part]
    prefix = f"{ARXIV}:" + "".join(f"{part}," for part in chosen)
    # A category already chosen is not offered again.
    taken = {part.lower() for part in chosen}
    found = [c for c in seen if c.lower().startswith(last.lower()) and c.lower() not in taken]
    return [prefix + c for c in found][:limit]
