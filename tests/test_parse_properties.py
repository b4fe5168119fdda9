"""Property tests: the parser never crashes, and well-formed pages round-trip exactly."""

from __future__ import annotations

import json
import string
import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.models import DumpError
from bot.core.parse import parse_dump

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
