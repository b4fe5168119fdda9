"""Reader for the text copy of the Hugging Face daily-papers page.

The page reads: some chrome (`new`, `Subscribe`, ...), a date line (`Mar 14`), then for
each paper a title paragraph and an abstract paragraph. Copy/paste is lossy, so every
paragraph is classified by its *shape* (length, sentences, line count) and titles are
paired with the abstract that follows them. Position alone is never trusted: one lost
abstract must not shift every later pair by one.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from bot.core.models import (
    DumpError,
    DumpFormat,
    NotADump,
    ParsedDump,
    ParsedPaper,
    SkippedParagraph,
)
from bot.core.wording import plural

MAX_TITLE_CHARS = 300
# A line this long inside a multi-line paragraph was never hard-wrapped, so its lines are
# logical units (a dump that lost its blank lines), not pieces of one wrapped abstract.
_UNWRAPPED_LINE = 200
_SNIPPET = 80

BOILERPLATE = "page boilerplate"  # the reason given for skipped page chrome
# Page chrome of huggingface.co/papers, compared after whitespace collapse and casefold.
_BOILERPLATE = frozenset(
    {
        "new",
        "get trending papers in your email inbox!",
        "get trending papers in your email inbox",
        "subscribe",
        "byak and the research community",
        "by ak and the research community",
        "daily papers",
        "search",
        "submit",
        "submit paper",
        "previous",
        "next",
        "upvote",
        "view all",
        "trending papers",
        "·",
        "•",
    }
)
# Per-paper chrome that survives a copy: upvote counts, "Submitted by x", "· 5 authors".
_CHROME_RE = re.compile(r"(?:[·•]\s*)?(?:\d{1,6}|submitted by \S.{0,60}|\d{1,4} authors?)", re.I)

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_DATE_RE = re.compile(
    r"(?:(?P<mon>[a-z]+)\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?"
    r"|(?P<day2>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon2>[a-z]+)\.?)"
    r"(?:,?\s+\d{4})?",  # a year, if present, is ignored: the page never shows one
    re.I,
)

# A "." after these is not a sentence end ("et al. (2023)", "e.g. BERT", "vs. Humans").
_ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "vs", "cf", "al", "etc", "fig", "figs", "eq", "eqs", "sec", "approx"}
    | {"resp", "dr", "prof", "mr", "ms", "st", "jr", "inc", "ltd", "et"}
)
_CLOSERS = "\"'”’)]"
_OPENERS = "\"'“‘(["
# Control characters other than "\n" (tabs, form feeds, ESC, C1): read as spaces.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
# Zero-width characters that make a visually blank line look non-blank.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
# `_CONTROL` for ASCII text, as a `bytes.translate` table.
_ASCII_CONTROL_TO_SPACE = bytes(
    32 if (c < 0x20 and c != 0x0A) or c == 0x7F else c for c in range(256)
)
# No date or chrome line is longer (in a whitespace-collapsed line, the longest date is
# `september. 31st, 2024`, 21 characters; the longest chrome `· submitted by ` plus 61
# characters; casefolding never shortens text), so longer lines skip those checks.
_MAX_MARKER_CHARS = 100


def collapse_ws(text: str) -> str:
    """Collapse every run of Unicode whitespace (NBSP and tabs included) to one space."""
    return " ".join(text.split())


def snippet(text: str, limit: int = _SNIPPET) -> str:
    """The first `limit` characters of `text` on one line, with `…` when cut."""
    text = collapse_ws(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def date_line(line: str) -> tuple[int, int] | None:
    """(month, day) when `line` is a page date line such as `Mar 14` or `14 March`."""
    m = _DATE_RE.fullmatch(line)
    if not m:
        return None
    month = _MONTHS.get((m["mon"] or m["mon2"]).casefold())
    day = int(m["day"] or m["day2"])
    if month is None:
        return None
    try:
        dt.date(2000, month, day)  # a leap year, so Feb 29 is a valid date line
    except ValueError:
        return None
    return month, day


def is_boilerplate(line: str) -> bool:
    """True for a line of known page chrome (compared case-insensitively)."""
    return line.casefold() in _BOILERPLATE or _CHROME_RE.fullmatch(line) is not None


class Shape(enum.Enum):
    """What a paragraph looks like on its own; UNSURE and LONG are settled by context."""

    TITLE = "title"
    ABSTRACT = "abstract"
    UNSURE = "unsure"  # short, but ends like a sentence or reads as two ("Why? A Study")
    LONG = "long"  # one huge sentence on one line: an oversized title or an abstract


def count_sentences(text: str) -> int:
    """Sentences in `text`: a [.!?] then a capitalised word, not after an abbreviation."""
    return _count_sentences(text, None)


def _count_sentences(text: str, limit: int | None) -> int:
    """`count_sentences`, but stops counting at `limit` (None: no limit)."""
    if "." not in text and "!" not in text and "?" not in text:
        return 0 if not text or text.isspace() else 1  # no sentence end is possible
    tokens = text.split()
    count = 1 if tokens else 0
    for token, following in itertools.pairwise(tokens):
        core = token.rstrip(_CLOSERS)
        if not core or core[-1] not in ".!?":
            continue
        start = following.lstrip(_OPENERS)
        if not start or not (start[0].isupper() or start[0].isdigit()):
            continue
        if core[-1] == "." and _is_abbreviation(core[:-1]):
            continue
        count += 1
        if count == limit:
            break
    return count


def _is_abbreviation(word: str) -> bool:
    word = word.lstrip(_OPENERS).casefold()
    # A single letter before "." is an initial ("J. Smith"), not a sentence end.
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _ends_with_period(text: str) -> bool:
    core = text.rstrip(_CLOSERS)
    return core.endswith(".") and not core.endswith("..")


def classify(text: str, n_lines: int) -> Shape:
    """The shape of one paragraph (already whitespace-collapsed)."""
    period = _ends_with_period(text)
    if len(text) > MAX_TITLE_CHARS:
        # Only "one sentence or more?" matters here, and only for a single line with no
        # final period: an abstract is settled by its length without reading it.
        if n_lines == 1 and not period and _count_sentences(text, 2) == 1:
            return Shape.LONG
        return Shape.ABSTRACT
    sentences = _count_sentences(text, 3)  # the rules below tell 1, 2 and 3+ apart
    if sentences >= 3 or (sentences == 2 and period):
        return Shape.ABSTRACT
    if n_lines > 1:
        # A short wrapped paragraph: a title if it reads like one, else a short abstract.
        return Shape.TITLE if sentences == 1 and not period else Shape.ABSTRACT
    if period or sentences == 2:
        return Shape.UNSURE
    return Shape.TITLE


_BlockKind = Literal["content", "chrome", "date"]


@dataclass
class _Block:
    """A paragraph, or one line of chrome or date that stands on its own."""

    line: int
    lines: list[str]
    kind: _BlockKind = "content"
    date: tuple[int, int] | None = None
    shape: Shape = Shape.TITLE

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def _clean_lines(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, whitespace-collapsed line) for every line, blank ones as ""."""
    if "\r" in text:  # `decode_dump` has normalised line endings already
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.isascii():
        text = _CONTROL.sub(" ", text)
        for number, raw in enumerate(text.split("\n"), start=1):
            yield number, collapse_ws(raw).strip(_INVISIBLE).strip()
        return
    # The same for ASCII, faster: after the controls become spaces, a space is the only
    # whitespace left and no invisible character can occur, so a line with no double,
    # leading or trailing space is already clean (most lines: collapsing is the cost).
    text = text.encode("ascii").translate(_ASCII_CONTROL_TO_SPACE).decode("ascii")
    for number, raw in enumerate(text.split("\n"), start=1):
        if "  " in raw or raw[:1] == " " or raw[-1:] == " ":
            raw = collapse_ws(raw)
        yield number, raw


def _raw_blocks(text: str) -> list[_Block]:
    """Paragraphs (runs of non-blank lines); chrome and date lines always stand alone.

    Chrome and date lines are split out even without blank lines around them, so a
    paste that lost its blank lines still separates the header from the first paper.
    """
    blocks: list[_Block] = []
    current: _Block | None = None
    for number, line in _clean_lines(text):
        if not line:
            current = None
            continue
        short = len(line) <= _MAX_MARKER_CHARS
        day = date_line(line) if short else None
        if day is not None or (short and is_boilerplate(line)):
            kind: _BlockKind = "date" if day is not None else "chrome"
            blocks.append(_Block(number, [line], kind=kind, date=day))
            current = None
        elif current is None:
            current = _Block(number, [line])
            blocks.append(current)
        else:
            current.lines.append(line)
    return blocks


def _split_unwrapped(block: _Block) -> list[_Block]:
    """Split a paragraph whose lines are logical units (title line + abstract line ...).

    An abstract-shaped line right after an abstract line is kept with it: an abstract may
    itself contain line breaks, and two abstracts in a row would orphan the second anyway.
    """
    if block.kind != "content" or len(block.lines) < 2:
        return [block]
    if max(len(line) for line in block.lines) <= _UNWRAPPED_LINE:
        return [block]
    parts: list[_Block] = []
    for offset, line in enumerate(block.lines):
        shape = classify(line, 1)
        if parts and parts[-1].shape is Shape.ABSTRACT and shape is Shape.ABSTRACT:
            parts[-1].lines.append(line)
            continue
        parts.append(_Block(block.line + offset, [line], shape=shape))
    return parts


def _blocks(text: str) -> list[_Block]:
    blocks = [part for block in _raw_blocks(text) for part in _split_unwrapped(block)]
    for block in blocks:
        if block.kind == "content":
            block.shape = classify(block.text, len(block.lines))
    return blocks


class _Pairer:
    """Walks the blocks once, pairing each title with the abstract that follows it."""

    def __init__(self, blocks: list[_Block]) -> None:
        self.blocks = blocks
        self.dump = ParsedDump(format=DumpFormat.TEXT, papers=[])
        self.pending: _Block | None = None
        # Index of the next content block after each block, None past a date line (a
        # new day's section) or the end: the lookahead that settles UNSURE/LONG shapes.
        self.next_content: list[_Block | None] = [None] * len(blocks)
        following: _Block | None = None
        for i in range(len(blocks) - 1, -1, -1):
            self.next_content[i] = following
            if blocks[i].kind == "content":
                following = blocks[i]
            elif blocks[i].kind == "date":
                following = None

    def run(self) -> ParsedDump:
        for i, block in enumerate(self.blocks):
            if block.kind == "chrome":
                self.dump.skipped.append(
                    SkippedParagraph(block.line, snippet(block.text), BOILERPLATE)
                )
            elif block.kind == "date":
                assert block.date is not None
                self.dump.date_lines.append(block.date)
                self._flush()
            elif self._resolve(i, block) is Shape.TITLE:
                self._flush()
                self.pending = block
            else:
                self._abstract(block)
        self._flush()
        return self.dump

    def _resolve(self, i: int, block: _Block) -> Shape:
        """TITLE or ABSTRACT for one content block, using its neighbours when unsure."""
        if block.shape in (Shape.TITLE, Shape.ABSTRACT):
            return block.shape
        following = self.next_content[i]
        if following is not None and following.shape is Shape.ABSTRACT:
            if block.shape is Shape.LONG:
                self.dump.warnings.append(
                    f"line {block.line}: oversized title ({len(block.text)} chars) "
                    f"'{snippet(block.text)}'"
                )
            return Shape.TITLE
        if self.pending is not None:
            return Shape.ABSTRACT
        # An orphan: unless it reads like prose (a long sentence ending in "."), it is more
        # likely a title that lost its abstract ("Is X All You Need? A Study").
        if block.shape is Shape.LONG:
            return Shape.ABSTRACT
        text = block.text
        prose = _ends_with_period(text) and (len(text.split()) >= 12 or count_sentences(text) > 1)
        return Shape.ABSTRACT if prose else Shape.TITLE

    def _abstract(self, block: _Block) -> None:
        if self.pending is None:
            self.dump.skipped.append(
                SkippedParagraph(block.line, snippet(block.text), "abstract with no title")
            )
            return
        self._emit(self.pending.text, block.text)
        self.pending = None

    def _flush(self) -> None:
        """Emit a pending title that turned out to have no abstract."""
        if self.pending is None:
            return
        title = self.pending.text
        self.dump.warnings.append(f"line {self.pending.line}: no abstract for '{snippet(title)}'")
        self._emit(title, "")
        self.pending = None

    def _emit(self, title: str, abstract: str) -> None:
        position = len(self.dump.papers) + 1
        self.dump.papers.append(ParsedPaper(title=title, abstract=abstract, position=position))


def parse_text(text: str) -> ParsedDump:
    """Parse the text page format. Raises DumpError when no paper is found."""
    blocks = _blocks(text)
    dump = _Pairer(blocks).run()
    if any(paper.abstract for paper in dump.papers):
        return dump
    content = sum(1 for block in blocks if block.kind == "content")
    if not content:
        raise DumpError("no papers found: the file holds only page boilerplate and date lines")
    if dump.papers:
        # Titles with no abstract at all is not a dump but some other file (a README, a
        # list of names); refusing beats ingesting every line as a paper.
        raise NotADump(
            f"no papers found: {plural(len(dump.papers), 'title-like line')} but no abstracts; "
            "is this a daily-papers dump?"
        )
    raise NotADump(
        f"no papers found: {plural(content, 'paragraph')}, none shaped like a title then an "
        "abstract"
    )
