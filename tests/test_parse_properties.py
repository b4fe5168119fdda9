"""Property tests: the parser never crashes, and well-formed pages round-trip exactly."""

from __future__ import annotations

import itertools
import json
import string
import textwrap

from hypothesis import example, given, settings
from hypothesis import strategies as st

import bot.core.parse as parse_mod
import bot.core.parse_text as parse_text
from bot.core.models import DumpError
from bot.core.parse import parse_dump
from bot.core.parse_text import Shape, classify, count_sentences

HEADER = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\n"
HEADER += "byAK and the research community\n\n"

# -- (1) no crash but DumpError ---------------------------------------------------------


def parses_or_refuses(raw: bytes, name: str = "") -> None:
    """parse_dump either returns a sane result or raises DumpError with one line."""
    try:
        dump = parse_dump(raw, name)
    except DumpError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert dump.papers
    assert [p.position for p in dump.papers] == list(range(1, len(dump.papers) + 1))
    assert all(p.title == " ".join(p.title.split()) for p in dump.papers)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_only_raise_dump_error(raw: bytes) -> None:
    parses_or_refuses(raw)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000), st.sampled_from(["", "dump.txt", "x.json"]))
def test_arbitrary_text_only_raises_dump_error(text: str, name: str) -> None:
    parses_or_refuses(text.encode("utf-8", "surrogatepass"), name)


_KEYS = st.sampled_from(
    [
        *["paper", "papers", "title", "summary", "id", "authors", "name", "upvotes"],
        *["publishedAt", "submittedOnDailyAt", "error", "x"],
    ]
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["2403.09611v2", "hep-th/9901001", "1.2k", "2024-03-14T00:00:00.000Z"])
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_KEYS, inner, max_size=6),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(_JSON)
def test_arbitrary_json_only_raises_dump_error(value: object) -> None:
    raw = json.dumps(value).encode()
    parses_or_refuses(raw)
    parses_or_refuses(raw, "daily.json")


# -- (2) well-formed pages round-trip ---------------------------------------------------

_WORD = st.text(alphabet=string.ascii_lowercase + "éβ", min_size=1, max_size=10)
_TITLE_WORD = _WORD | st.sampled_from(["AstroM$^3$:", "LLMs:", "$\\alpha$-Tuning", "GPT-4", "3D"])


@st.composite
def titles(draw: st.DrawFn) -> str:
    words = draw(st.lists(_TITLE_WORD, min_size=3, max_size=15))
    return " ".join(word[:1].upper() + word[1:] for word in words)


@st.composite
def sentences(draw: st.DrawFn) -> str:
    words = draw(st.lists(_WORD, min_size=3, max_size=20))
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


abstracts = st.lists(sentences(), min_size=2, max_size=6).map(" ".join)
papers = st.lists(st.tuples(titles(), abstracts), min_size=1, max_size=12)


def render(
    items: list[tuple[str, str]], date: str, wrap: int | None, crlf: bool, bom: bool, pad: str
) -> bytes:
    chunks = [HEADER, date, "\n\n"]
    for title, abstract in items:
        if wrap:
            abstract = textwrap.fill(abstract, wrap, break_on_hyphens=False)
        chunks += [title, "\n\n", abstract, "\n\n"]
    text = "".join(chunks)
    text = "\n".join(line + pad for line in text.split("\n"))
    if crlf:
        text = text.replace("\n", "\r\n")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(
    papers,
    st.sampled_from(["Mar 14", "March 14", "14 Mar", "Dec 31", "Feb 29"]),
    st.sampled_from([None, None, 60, 80]),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["", " ", "\t", " \u00a0"]),
)
def test_well_formed_pages_round_trip(
    items: list[tuple[str, str]], date: str, wrap: int | None, crlf: bool, bom: bool, pad: str
) -> None:
    dump = parse_dump(render(items, date, wrap, crlf, bom, pad))
    assert [(p.title, p.abstract) for p in dump.papers] == items
    assert [p.position for p in dump.papers] == list(range(1, len(items) + 1))
    assert len(dump.date_lines) == 1
    assert dump.warnings == []
    assert {s.reason for s in dump.skipped} == {"page boilerplate"}


# -- (3) fast paths give what the plain definitions give -------------------------------
# The parser skips work it can prove cannot change the result (sentence counting of long
# paragraphs, date/chrome checks of long lines, regexes on ASCII text); these compare the
# shortcuts with the straightforward versions they replace.


def reference_count_sentences(text: str) -> int:
    tokens = text.split()
    count = 1 if tokens else 0
    for token, following in itertools.pairwise(tokens):
        core = token.rstrip(parse_text._CLOSERS)
        if not core or core[-1] not in ".!?":
            continue
        start = following.lstrip(parse_text._OPENERS)
        if not start or not (start[0].isupper() or start[0].isdigit()):
            continue
        if core[-1] == "." and parse_text._is_abbreviation(core[:-1]):
            continue
        count += 1
    return count


def reference_classify(text: str, n_lines: int) -> Shape:
    sentences = reference_count_sentences(text)
    period = parse_text._ends_with_period(text)
    if len(text) > parse_text.MAX_TITLE_CHARS:
        if n_lines == 1 and sentences == 1 and not period:
            return Shape.LONG
        return Shape.ABSTRACT
    if sentences >= 3 or (sentences == 2 and period):
        return Shape.ABSTRACT
    if n_lines > 1:
        return Shape.TITLE if sentences == 1 and not period else Shape.ABSTRACT
    if period or sentences == 2:
        return Shape.UNSURE
    return Shape.TITLE


_PROSE = ["word", "Word", "end.", "End.", "why?", "Yes!", "e.g.", "et", "al.", "J.", "(Note)"]
_PROSE += ["3.", "x.", '"Quoted."', "'so'", "(2023).", "...", ".", "vs.", "Dr.", "“Open", "end.”"]
_PROSE += ["Fig.", "2"]
_PROSE_TOKENS = st.sampled_from(_PROSE)
_PARAGRAPHS = (
    st.lists(_PROSE_TOKENS, max_size=12).map(" ".join)
    | st.lists(_PROSE_TOKENS | _WORD, max_size=80).map(" ".join)
    | st.text(max_size=400)
)


@settings(max_examples=300, deadline=None)
@given(_PARAGRAPHS, st.integers(min_value=1, max_value=3), st.sampled_from(["", "", "x" * 300]))
@example("A end. B end. C end", 1, "")  # three sentences, no final period: an abstract
@example("Why? A Study", 1, "")
@example("Why? A Study", 1, "x" * 300)
def test_classify_equals_the_plain_version(text: str, n_lines: int, padding: str) -> None:
    text = parse_text.collapse_ws(f"{padding} {text}")  # with padding: the long branch
    assert count_sentences(text) == reference_count_sentences(text)
    assert classify(text, n_lines) is reference_classify(text, n_lines)


def reference_clean_lines(text: str) -> list[tuple[int, str]]:
    text = parse_text._CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    return [
        (number, parse_text.collapse_ws(raw).strip(parse_text._INVISIBLE).strip())
        for number, raw in enumerate(text.split("\n"), start=1)
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(max_codepoint=127), max_size=300)
    | st.text(alphabet=" \t\r\n\x0b\x0c\x1c\x1f\x85\xa0\u2000\u200bab.", max_size=60)
    | st.text(max_size=100)
)
def test_line_cleaning_equals_the_plain_version(text: str) -> None:
    assert list(parse_text._clean_lines(text)) == reference_clean_lines(text)


_MARKER_WORDS = ["Mar", "september.", "ſep", "14", "31st", "2024", ",", "·", "•", "submitted"]
_MARKER_WORDS += ["by", "x", "authors", "1234", "Subscribe", "new"]
_MARKER_WORDS += ["Get trending papers in your email inbox!"]
_MARKERS = st.sampled_from(_MARKER_WORDS)
_MARKER_STARTS = st.sampled_from(["", "· submitted by", "• Submitted by", "SUBMITTED BY", "• 12"])


@settings(max_examples=300, deadline=None)
@given(
    st.tuples(
        _MARKER_STARTS, st.lists(_MARKERS | st.text(min_size=1, max_size=70), max_size=12)
    ).map(lambda parts: " ".join([parts[0], *parts[1]]))
)
@example("· submitted by " + "x" * 61)  # the longest chrome line, 76 characters
@example("September. 31st, 2024")  # the longest date line
@example("get trending papers in your email inbox!")
def test_lines_too_long_for_a_marker_are_never_one(line: str) -> None:
    line = parse_text.collapse_ws(line)
    if parse_text.date_line(line) is not None or parse_text.is_boilerplate(line):
        assert len(line) <= parse_text._MAX_MARKER_CHARS
    long_line = f"{line} {'x' * parse_text._MAX_MARKER_CHARS}"
    assert parse_text.date_line(long_line) is None
    assert not parse_text.is_boilerplate(long_line)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0xA0), max_size=200) | st.text(max_size=200))
def test_control_count_equals_the_regex(text: str) -> None:
    assert parse_mod._count_controls(text) == len(parse_mod._CONTROL.findall(text))
