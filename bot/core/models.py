"""Plain data shared by the core, storage and the Discord layer.

Everything here is a frozen-ish dataclass with no behaviour beyond small helpers,
so storage backends and cogs can pass these around without importing each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Literal, TypedDict

from bot.core.hf_extras import HfExtras


class DumpFormat(StrEnum):
    TEXT = "text"  # the daily papers page as text
    JSON = "json"  # the daily papers API's JSON
    ARXIV_RSS = "arxiv-rss"  # arXiv's announcement feed, RSS
    ARXIV_ATOM = "arxiv-atom"  # the same feed as Atom
    ARXIV_API = "arxiv-api"  # an arXiv API query's answer (Atom)


class DaySource(StrEnum):
    """How a dump's day was found (stored with it, shown in its report)."""

    OPTION = "--date"  # given: `--date`, or a dump moved with `--redate`
    FILE_NAME = "file name"
    JSON = "json"  # the most common submission day in the API JSON
    FEED = "feed date"  # an arXiv listing's own day (announcement, or the query's)
    DATE_LINE = "date line"
    TODAY = "today"  # no date in the dump


class PlanAction(StrEnum):
    """What an ingest does with one incoming paper (decided by bot.core.dedupe)."""

    NEW = "new"
    KNOWN = "known"  # the same key as a stored paper
    MERGED = "merged"  # a near-duplicate of a stored paper, or a retitled one
    # An arXiv replacement of a stored paper: it changes the paper but is not listed on
    # the day (no appearance).
    UPDATED = "updated"


@dataclass(frozen=True)
class ParsedPaper:
    """One paper as read from a dump, before dedupe."""

    title: str
    abstract: str  # "" when the dump had no abstract for this title
    position: int  # 1-based order in the dump: the only popularity signal a text dump has
    arxiv_id: str | None = None
    authors: tuple[str, ...] = ()
    upvotes: int | None = None
    published: dt.date | None = None  # arXiv date (JSON `publishedAt`, API `published`)
    # arXiv categories, the primary one first (arXiv listings only; empty otherwise).
    categories: tuple[str, ...] = ()
    # An arXiv announcement's type: "new", "cross", "replace" or "replace-cross"; ""
    # for every other format. A replacement updates a known paper without listing it.
    announce: str = ""
    hf: HfExtras = field(default_factory=HfExtras)  # the HF JSON's TL;DR, links, ...

    @property
    def replacement(self) -> bool:
        return self.announce in ("replace", "replace-cross")


@dataclass(frozen=True)
class SkippedParagraph:
    line: int  # 1-based line where the paragraph starts
    text: str  # first characters, for the report
    reason: str


@dataclass
class ParsedDump:
    """The result of parsing one file; `day` is resolved later by `resolve_dump_day`."""

    format: DumpFormat
    papers: list[ParsedPaper]
    date_lines: list[tuple[int, int]] = field(default_factory=list)  # (month, day) seen
    json_days: list[dt.date] = field(default_factory=list)  # submittedOnDailyAt days
    feed_day: dt.date | None = None  # an arXiv listing's own date (see parse_arxiv)
    # A well-formed listing with nothing in it (arXiv announces nothing on weekends and
    # holidays): why, for the report. Such a listing is not an error and stores nothing.
    empty_note: str = ""
    skipped: list[SkippedParagraph] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class DumpError(ValueError):
    """A dump that cannot be ingested at all. The message is one user-facing line."""


class NotADump(DumpError):
    """The file is some other kind of file (a feed, a web page, a README, another
    program's JSON), not a damaged dump: a folder ingest passes over it quietly."""


@dataclass(frozen=True)
class StoredDump:
    """A dump already ingested, as its re-ingest needs to know it."""

    day: dt.date
    day_source: DaySource


@dataclass(frozen=True)
class DayEntry:
    """A paper already listed on a day, as a later dump of that day is compared with."""

    paper_id: int
    upvotes: int | None  # the day's upvotes
    abstract: str
    hf: HfExtras


@dataclass(frozen=True)
class KnownPaper:
    """A stored paper as the dedupe step needs to see it."""

    id: int
    key: str
    title: str
    arxiv_id: str | None
    abstract: str = ""  # filled for candidates found by blocking key (compared by text)
    blocks: tuple[str, ...] = ()  # the looked-up blocking keys this paper is stored under


@dataclass(frozen=True)
class TopicHit:
    topic: str  # topic slug
    score: float
    why: tuple[str, ...]  # the keywords/phrases that matched


@dataclass
class Topic:
    slug: str  # stable identifier, e.g. "speech-audio"
    name: str  # display name, e.g. "Speech & audio"
    keywords: tuple[str, ...] = ()  # single words; a trailing * makes a prefix
    phrases: tuple[str, ...] = ()  # multi-word phrases matched as a whole
    guild_id: int | None = None  # None for the built-in taxonomy


@dataclass(frozen=True)
class StoredPaper:
    """A paper as read back from storage for search results, digests and /paper."""

    id: int
    key: str
    title: str
    abstract: str
    arxiv_id: str | None
    authors: tuple[str, ...]
    upvotes: int | None
    first_seen: dt.date
    last_seen: dt.date
    days: tuple[dt.date, ...]
    topics: tuple[TopicHit, ...]
    position: int | None = None  # position on the day being shown, when known
    categories: tuple[str, ...] = ()  # arXiv categories, the primary one first
    # Every source it is known from: "hf", "arxiv" (the dumps that ever listed it, and
    # arXiv whenever its arXiv categories are known; see sources.search_sources).
    sources: tuple[str, ...] = ()
    # The sources that listed it on the day being shown, when a day was asked for.
    day_sources: tuple[str, ...] = ()
    hf: HfExtras = field(default_factory=HfExtras)
    day_upvotes: int | None = None  # upvotes the day being shown's dump gave, when known


@dataclass(frozen=True)
class SearchHit:
    paper: StoredPaper
    score: float
    why: tuple[str, ...]  # human-readable reasons: "title: protein", "topic: Biology"


@dataclass(frozen=True)
class PaperLookup:
    """What `/paper` (or a pasted arXiv link) found: the paper, or None; and the arXiv
    id the text named, when it named one (so "not stored" can say which)."""

    paper: StoredPaper | None
    arxiv_id: str | None = None


@dataclass(frozen=True)
class SearchResponse:
    hits: list[SearchHit]
    corrected: str | None = None  # the query as spelling-corrected, when it was
    total: int = 0  # papers matching, not just the hits returned
    total_exact: bool = True  # False: `total` is a lower bound ("1,000+")
    corrections: tuple[tuple[str, str], ...] = ()  # (typed, corrected) word pairs
    # Widened (too few papers held every word): how many of the `total` hold every word;
    # they rank first, papers holding some of the words follow. None: all of them do.
    every_word: int | None = None
    # Nothing matched since the date asked for: how many papers match with no date
    # limit (all of them older), so the reply can say to look further back. 0: none do,
    # or no date was asked for.
    older: int = 0
    older_exact: bool = True  # False: `older` is a lower bound
    # A search may explain only the hits it shows first (its first page): the hits past
    # the first `explained` have no reasons yet (`why` is empty) until `explained_to`
    # gives them theirs with `explain_hit`. None: every hit is explained.
    explained: int | None = field(default=None, compare=False)
    explain_hit: Callable[[SearchHit], SearchHit] | None = field(
        default=None, compare=False, repr=False
    )

    def explained_to(self, stop: int) -> SearchResponse:
        """This response with at least its first `stop` hits explained (CPU work: call
        it off the event loop); itself when they already are."""
        done = self.explained
        if done is None or stop <= done or self.explain_hit is None:
            return self
        stop = min(stop, len(self.hits))
        explain = self.explain_hit
        hits = [*self.hits[:done], *map(explain, self.hits[done:stop]), *self.hits[stop:]]
        return replace(self, hits=hits, explained=None if stop >= len(hits) else stop)


@dataclass(frozen=True)
class Matches:
    """The best `limit` matches of one lookup (paper id, relevance; best first) and how
    many papers match in all. Counting every match can cost more than finding the best
    few, so a backend may stop counting: `exact` is then False and `total` a lower
    bound."""

    ranked: list[tuple[int, float]]
    total: int
    exact: bool = True


class SkippedJson(TypedDict):
    line: int
    text: str
    reason: str


class MergeJson(TypedDict):
    incoming: str  # the title in the dump
    stored: str  # the stored paper's title it was merged into


class IngestReportJson(TypedDict, total=False):
    """`IngestReport.to_dict()`: the CLI's --json line, and the report stored with each
    dump (which /status reads back; one stored by an older version may lack keys)."""

    source: str
    format: str
    day: str | None  # ISO
    day_source: str
    content_hash: str
    parsed: int
    new: int
    known: int
    merged: int
    updated: int  # arXiv replacements applied
    day_update: bool  # a later dump of a stored day: `added` and `changed` say how
    added: int
    changed: dict[str, int]
    duplicates_in_file: int
    already_ingested: bool
    wanted_day: str | None
    redated_from: str | None
    moved: int
    skipped: list[SkippedJson]
    warnings: list[str]
    merges: list[MergeJson]
    error: str | None
    not_a_dump: bool


class StorageStats(TypedDict):
    """What a storage holds, for `paperbot stats` (its --json shape) and /status."""

    papers: int
    days: int  # days with papers
    dumps: int
    latest_day: str | None  # ISO; None when nothing was ingested
    topics: dict[str, int]  # topic key -> papers tagged with it
    database: str  # the file, or the URL without its password


@dataclass
class IngestReport:
    """The health report of one dump. `to_dict` is the CLI's --json shape."""

    source: str
    format: DumpFormat | Literal[""] = ""  # "": the file could not be parsed
    day: dt.date | None = None
    day_source: DaySource | Literal[""] = ""
    content_hash: str = ""
    parsed: int = 0
    new: int = 0
    known: int = 0
    merged: int = 0  # near-duplicate titles recorded as an existing paper
    updated: int = 0  # arXiv replacements applied to stored papers (not listed anew)
    duplicates_in_file: int = 0
    already_ingested: bool = False  # then `day` is the day the dump is stored under
    wanted_day: dt.date | None = None  # already ingested: the other day this run asked for
    redated_from: dt.date | None = None  # `--redate` moved the stored dump from this day
    moved: int = 0  # papers whose appearance `--redate` moved
    # A later dump of a day already stored (a re-fetch): it updates that day.
    day_update: bool = False
    added: int = 0  # day update: papers not listed on the day before
    changed: dict[str, int] = field(default_factory=dict)  # day update: what -> papers
    skipped: list[SkippedParagraph] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    merges: list[tuple[str, str]] = field(default_factory=list)  # (incoming, stored title)
    error: str | None = None
    not_a_dump: bool = False  # the error says the file is not a dump at all

    def to_dict(self) -> IngestReportJson:
        return {
            "source": self.source,
            "format": self.format,
            "day": self.day.isoformat() if self.day else None,
            "day_source": self.day_source,
            "content_hash": self.content_hash,
            "parsed": self.parsed,
            "new": self.new,
            "known": self.known,
            "merged": self.merged,
            "updated": self.updated,
            "duplicates_in_file": self.duplicates_in_file,
            "already_ingested": self.already_ingested,
            "wanted_day": self.wanted_day.isoformat() if self.wanted_day else None,
            "redated_from": self.redated_from.isoformat() if self.redated_from else None,
            "moved": self.moved,
            "day_update": self.day_update,
            "added": self.added,
            "changed": dict(self.changed),
            "skipped": [{"line": s.line, "text": s.text, "reason": s.reason} for s in self.skipped],
            "warnings": list(self.warnings),
            "merges": [{"incoming": a, "stored": b} for a, b in self.merges],
            "error": self.error,
            "not_a_dump": self.not_a_dump,
        }


@dataclass(frozen=True)
class ParsedQuery:
    """A user query reduced to safe pieces; each backend builds its own match syntax."""

    terms: tuple[str, ...] = ()  # plain words, casefolded
    prefixes: tuple[str, ...] = ()  # words typed with a trailing *
    phrases: tuple[tuple[str, ...], ...] = ()  # "quoted phrases", as word tuples

    @property
    def empty(self) -> bool:
        return not (self.terms or self.prefixes or self.phrases)

    def all_words(self) -> tuple[str, ...]:
        out = list(self.terms) + list(self.prefixes)
        for phrase in self.phrases:
            out.extend(phrase)
        return tuple(out)


@dataclass
class PlannedPaper:
    """What one ingest will write for one incoming paper (decided by bot.core.dedupe)."""

    paper: ParsedPaper
    action: PlanAction
    keys: tuple[str, ...]  # every key to register for this paper
    blocks: tuple[str, ...]  # blocking keys (title and abstract) to register
    norm_title: str
    topics: tuple[TopicHit, ...]
    existing_id: int | None = None  # for known/merged
    words: tuple[str, ...] = ()  # distinct words, for the vocabulary (new papers only)
    # Every title this paper was listed under in the dump (repeats within the file
    # included): those that do not become its title are kept as searchable variants.
    titles: tuple[str, ...] = ()


@dataclass
class IngestPlan:
    day: dt.date
    papers: list[PlannedPaper]
    content_hash: str
    source: str
    format: DumpFormat
    day_source: DaySource
    report_json: str = "{}"
    paper_source: str = "hf"  # the source the dump lists papers from: "hf" or "arxiv"
    # The day is already stored and this dump updates it: its order replaces the day's.
    day_update: bool = False


@dataclass(frozen=True)
class StoredStats:
    """The corpus statistics blob paper vectors are weighed by, and its version: each
    write bumps it, so a writer that read an older one knows to read again."""

    version: int
    blob: bytes
