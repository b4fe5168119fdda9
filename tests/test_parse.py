"""Parser tests: the bundled sample page, damaged variants of it, refusals and JSON."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from importlib import resources

import pytest

from bot.core.models import DumpError, ParsedDump
from bot.core.parse import parse_dump

SAMPLE_TEXT = resources.files("bot").joinpath("data/sample_dump.txt").read_text("utf-8")
SAMPLE = SAMPLE_TEXT.encode("utf-8")
HEADER = [
    "new",
    "Get trending papers in your email inbox!",
    "Subscribe",
    "byAK and the research community",
    "Mar 14",
]

FIRST_TITLE = (
    "Rewrite Caption Semantics: Bridging Semantic Gaps for Language-Supervised Semantic "
    "Segmentation"
)
FIRST_ABSTRACT = (
    "Vision-Language Pre-training has demonstrated its remarkable zero-shot recognition ability "
    "and potential to learn generalizable visual representations from language supervision. "
    "Taking a step ahead, language-supervised semantic segmentation enables spatial "
    "localization of textual inputs by learning pixel grouping solely from image-text pairs. "
    "Nevertheless, the state-of-the-art suffers from clear semantic gaps between visual and "
    "textual modality: plenty of visual concepts appeared in images are missing in their "
    "paired captions. Such semantic misalignment circulates in pre-training, leading to "
    "inferior zero-shot performance in dense predictions due to insufficient visual concepts "
    "captured in textual representations. To close such semantic gap, we propose Concept "
    "Curation (CoCu), a pipeline that leverages CLIP to compensate for the missing semantics. "
    "For each image-text pair, we establish a concept archive that maintains potential "
    "visually-matched concepts with our proposed vision-driven expansion and "
    "text-to-vision-guided ranking. Relevant concepts can thus be identified via "
    "cluster-guided sampling and fed into pre-training, thereby bridging the gap between visual "
    "and textual semantics. Extensive experiments over a broad suite of 8 segmentation "
    "benchmarks show that CoCu achieves superb zero-shot transfer performance and greatly "
    "boosts language-supervised segmentation baseline by a large margin, suggesting the value "
    "of bridging semantic gap in pre-training data."
)
LAST_TITLE = "Self-supervised Learning for Large-scale Item Recommendations"
LAST_ABSTRACT_START = (
    "Large scale recommender models find most relevant items from huge catalogs, and they play "
    "a critical role in modern search and recommendation systems. To model the input space"
)
LAST_ABSTRACT_END = (
    "Our online results also verify our hypothesis that our framework indeed improves model "
    "performance even more on slices that lack supervision."
)
ASTRO_TITLE = "AstroM$^3$: A self-supervised multimodal model for astronomy"
PROTEIN_TITLE = "Long-context Protein Language Model"


def expected_pairs() -> list[tuple[str, str]]:
    """An independent, naive reading of the sample: after the header, lines alternate."""
    nonblank = [line for line in SAMPLE_TEXT.split("\n") if line.strip()]
    assert nonblank[: len(HEADER)] == HEADER
    body = nonblank[len(HEADER) :]
    assert len(body) == 2 * 98
    return list(zip(body[0::2], body[1::2], strict=True))


GOLDEN = expected_pairs()
GAPPY = "\n\n\n" + SAMPLE_TEXT.replace("\n\n", "\n\n\n") + "\n\n"


def pairs(dump: ParsedDump) -> list[tuple[str, str]]:
    return [(p.title, p.abstract) for p in dump.papers]


def sample_without_abstracts(*indices: int) -> str:
    """The sample with the abstracts of the given 0-based papers removed (with a blank)."""
    lines = SAMPLE_TEXT.split("\n")
    nonblank = [i for i, line in enumerate(lines) if line.strip()][len(HEADER) :]
    doomed = {nonblank[2 * k + 1] for k in indices}
    kept: list[str] = []
    for i, line in enumerate(lines):
        if i in doomed:
            continue
        if i - 1 in doomed and not line.strip():
            continue  # the blank after the abstract goes too, as a real paste would lose it
        kept.append(line)
    return "\n".join(kept)


def line_of(text: str, content: str) -> int:
    return text.split("\n").index(content) + 1


# -- the golden sample ------------------------------------------------------------------


def test_sample_golden() -> None:
    dump = parse_dump(SAMPLE, "sample_dump.txt")
    assert dump.format == "text"
    assert len(dump.papers) == 98
    assert dump.papers[0].title == FIRST_TITLE
    assert dump.papers[0].abstract == FIRST_ABSTRACT
    assert dump.papers[-1].title == LAST_TITLE
    assert dump.papers[-1].abstract.startswith(LAST_ABSTRACT_START)
    assert dump.papers[-1].abstract.endswith(LAST_ABSTRACT_END)
    assert dump.papers[29].title == PROTEIN_TITLE
    assert dump.papers[67].title == ASTRO_TITLE  # LaTeX kept exactly
    assert [p.position for p in dump.papers] == list(range(1, 99))
    assert all(p.abstract for p in dump.papers)
    assert all(p.arxiv_id is None and p.authors == () for p in dump.papers)
    assert dump.date_lines == [(3, 14)]
    assert dump.warnings == []
    assert pairs(dump) == GOLDEN


def test_sample_boilerplate_is_recorded() -> None:
    dump = parse_dump(SAMPLE)
    assert [(s.line, s.text, s.reason) for s in dump.skipped] == [
        (1, "new", "page boilerplate"),
        (3, "Get trending papers in your email inbox!", "page boilerplate"),
        (5, "Subscribe", "page boilerplate"),
        (7, "byAK and the research community", "page boilerplate"),
    ]


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(SAMPLE_TEXT.replace("\n", "\r\n").encode(), id="crlf"),
        pytest.param(SAMPLE_TEXT.replace("\n", "\r").encode(), id="cr-only"),
        pytest.param(b"\xef\xbb\xbf" + SAMPLE, id="bom"),
        pytest.param(b"\xef\xbb\xbf" + SAMPLE_TEXT.replace("\n", "\r\n").encode(), id="bom-crlf"),
        pytest.param(
            "\n".join(line + " \t " for line in SAMPLE_TEXT.split("\n")).encode(),
            id="trailing-whitespace",
        ),
        pytest.param(
            "\n".join(line or "\u00a0 \t" for line in SAMPLE_TEXT.split("\n")).encode(),
            id="nbsp-blank-lines",
        ),
        pytest.param(
            "\n".join("  " + line for line in SAMPLE_TEXT.split("\n")).encode(),
            id="leading-whitespace",
        ),
        pytest.param(GAPPY.encode(), id="gaps"),
    ],
)
def test_line_ending_and_whitespace_variants(variant: bytes) -> None:
    dump = parse_dump(variant)
    assert pairs(dump) == GOLDEN
    assert dump.date_lines == [(3, 14)]
    assert dump.warnings == []


def wrap(text: str) -> str:
    return textwrap.fill(text, 78, break_on_hyphens=False, break_long_words=False)


def test_hard_wrapped_abstracts_are_joined() -> None:
    wrapped = "\n\n".join(HEADER + [f"{title}\n\n{wrap(abstract)}" for title, abstract in GOLDEN])
    assert pairs(parse_dump(wrapped.encode())) == GOLDEN


def test_lost_blank_lines_still_pair() -> None:
    squashed = "\n".join(line for line in SAMPLE_TEXT.split("\n") if line.strip())
    dump = parse_dump(squashed.encode())
    assert pairs(dump) == GOLDEN
    assert dump.date_lines == [(3, 14)]


# -- damaged samples --------------------------------------------------------------------


def test_missing_abstract_in_the_middle_does_not_shift_pairs() -> None:
    text = sample_without_abstracts(40)
    dump = parse_dump(text.encode())
    assert len(dump.papers) == 98
    expected = [*GOLDEN[:40], (GOLDEN[40][0], ""), *GOLDEN[41:]]
    assert pairs(dump) == expected
    assert [p.position for p in dump.papers] == list(range(1, 99))
    title = GOLDEN[40][0]
    assert dump.warnings == [f"line {line_of(text, title)}: no abstract for '{title}'"]


def test_any_single_missing_abstract_leaves_the_rest_exact() -> None:
    # Every position, including the "When Does Pretraining Help? ..." title (index 83),
    # whose "?" makes it look like two sentences.
    for k in range(98):
        dump = parse_dump(sample_without_abstracts(k).encode())
        assert pairs(dump) == [*GOLDEN[:k], (GOLDEN[k][0], ""), *GOLDEN[k + 1 :]], k
        assert len(dump.warnings) == 1, k


def test_two_consecutive_missing_abstracts() -> None:
    text = sample_without_abstracts(10, 11)
    dump = parse_dump(text.encode())
    expected = [*GOLDEN[:10], (GOLDEN[10][0], ""), (GOLDEN[11][0], ""), *GOLDEN[12:]]
    assert pairs(dump) == expected
    assert len(dump.warnings) == 2
    assert all("no abstract for" in w for w in dump.warnings)
    assert dump.warnings[1].startswith(f"line {line_of(text, GOLDEN[11][0])}:")


def test_missing_abstract_for_the_last_paper() -> None:
    dump = parse_dump(sample_without_abstracts(97).encode())
    assert pairs(dump) == [*GOLDEN[:97], (LAST_TITLE, "")]
    assert len(dump.warnings) == 1 and LAST_TITLE in dump.warnings[0]


def test_missing_abstract_for_the_first_paper() -> None:
    dump = parse_dump(sample_without_abstracts(0).encode())
    assert pairs(dump) == [(FIRST_TITLE, ""), *GOLDEN[1:]]


def test_missing_titles_skip_the_abstract_without_shifting() -> None:
    lines = SAMPLE_TEXT.split("\n")
    title_line = line_of(SAMPLE_TEXT, GOLDEN[5][0])
    del lines[title_line - 1 : title_line + 1]  # the title and its blank line
    dump = parse_dump("\n".join(lines).encode())
    assert pairs(dump) == GOLDEN[:5] + GOLDEN[6:]
    orphan = [s for s in dump.skipped if s.reason == "abstract with no title"]
    assert len(orphan) == 1
    assert orphan[0].line == title_line
    assert GOLDEN[5][1].startswith(orphan[0].text.rstrip("…"))
    assert len(orphan[0].text) <= 80


def test_oversized_title_is_kept_with_a_warning() -> None:
    long_title = "Scaling " + " ".join(f"component{i} and" for i in range(30)) + " everything"
    assert len(long_title) > 300
    text = SAMPLE_TEXT.replace(GOLDEN[3][0], long_title)
    dump = parse_dump(text.encode())
    assert dump.papers[3].title == long_title
    assert dump.papers[3].abstract == GOLDEN[3][1]
    assert pairs(dump)[4:] == GOLDEN[4:]
    assert len(dump.warnings) == 1 and "oversized title" in dump.warnings[0]


def test_short_sentence_like_title_pairs_by_context() -> None:
    text = SAMPLE_TEXT.replace(GOLDEN[2][0], "Attention Is All You Need.")
    dump = parse_dump(text.encode())
    assert dump.papers[2].title == "Attention Is All You Need."
    assert pairs(dump)[3:] == GOLDEN[3:]


def test_title_whitespace_collapsed_unicode_kept() -> None:
    title = "Ünïcode  Tïtle\twith  $\\alpha$-β   spacing"
    text = SAMPLE_TEXT.replace(GOLDEN[1][0], title)
    assert parse_dump(text.encode()).papers[1].title == "Ünïcode Tïtle with $\\alpha$-β spacing"


def test_duplicates_within_a_file_are_kept() -> None:
    text = SAMPLE_TEXT + "\n\n" + GOLDEN[0][0] + "\n\n" + GOLDEN[0][1] + "\n"
    dump = parse_dump(text.encode())
    assert len(dump.papers) == 99 and pairs(dump)[-1] == GOLDEN[0]


@pytest.mark.parametrize(
    ("line", "expected"),
    [("Mar 14", (3, 14)), ("March 14", (3, 14)), ("14 Mar", (3, 14)), ("Dec 31", (12, 31))],
)
def test_date_line_forms(line: str, expected: tuple[int, int]) -> None:
    text = SAMPLE_TEXT.replace("\nMar 14\n", f"\n{line}\n", 1)
    dump = parse_dump(text.encode())
    assert dump.date_lines == [expected]
    assert pairs(dump) == GOLDEN


def test_extra_chrome_is_boilerplate() -> None:
    chrome = "Daily Papers\n\nSEARCH\n\nSubmit\n\nPrevious\n\nNext\n\n"
    dump = parse_dump((chrome + SAMPLE_TEXT + "\n\nNext\n").encode())
    assert pairs(dump) == GOLDEN
    assert sum(s.reason == "page boilerplate" for s in dump.skipped) == 4 + 6


# -- refusals ---------------------------------------------------------------------------


def refusal(raw: bytes, name: str = "") -> str:
    with pytest.raises(DumpError) as info:
        parse_dump(raw, name)
    message = str(info.value)
    assert message and "\n" not in message and "\r" not in message
    return message


JSON_ITEMS = [
    {
        "paper": {
            "id": "2403.09611v2",
            "title": "Paper title from the paper object",
            "summary": "  We present  AstroM.\nIt works   well. ",
            "authors": [{"name": "Ada Lovelace", "hidden": False}, {"_id": "x"}, {"name": " B "}],
            "upvotes": "1.2k",
            "publishedAt": "2024-03-14T00:00:00.000Z",
            "submittedOnDailyAt": "2024-03-15T01:23:45.000Z",
        },
        "title": "AstroM$^3$:  A self-supervised\nmultimodal model for astronomy",
        "publishedAt": "2024-03-15T01:23:45.000Z",
        "numComments": 3,
    },
    {
        "paper": {
            "id": "hep-th/9901001v1",
            "title": "Old Style Id Paper",
            "authors": None,
            "upvotes": 7.0,
            "publishedAt": "1999-01-01T00:00:00.000Z",
            "submittedOnDailyAt": "2024-03-15T08:00:00.000Z",
        },
        "numComments": 0,
    },
    {
        "paper": {"id": "not-an-arxiv-id", "authors": ["C. Darwin", 42, ""], "upvotes": None},
        "title": "Third Paper",
        "summary": "Item-level summary. Second sentence.",
        "submittedOnDailyAt": "2024-03-14T23:00:00.000Z",
    },
]


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b"   \n\t\r\n  \n", "blank"),
        ("\n\n".join(HEADER).encode(), "no papers"),
        ("\n\n".join(HEADER[:4]).encode(), "boilerplate"),
        (bytes(range(256)) * 4, "binary"),
        (b"\x00\x01\x02PK\x03\x04" + b"\x00" * 50, "binary"),
        (b"\x01\x02\x03\x04\x05\x06\x07\x08abc\x0e\x0f", "binary"),
        (b"Title\n\nAnother title\n\nThird", "no abstracts"),
        ("\ufeff".encode("utf-16"), "UTF-16"),
        (b"[]", "empty"),
        (b"{}", "no papers"),
        (b'{"error": "Invalid date"}', "Invalid date"),
        (b'{"papers": "nope"}', "no papers"),
        (b'[{"paper": {}}, 1, "two", null]', "no usable papers"),
        (json.dumps(JSON_ITEMS).encode()[:200], "invalid JSON"),
        (b'[{"title": "x",', "truncated"),
    ],
)
def test_refusals(raw: bytes, needle: str) -> None:
    assert needle.casefold() in refusal(raw).casefold()


def test_latin1_refused_with_offset() -> None:
    raw = "new\n\nCafé paper".encode("latin-1")
    message = refusal(raw)
    assert message == (
        f"not UTF-8 text (invalid byte 0xe9 at offset {raw.index(0xE9)}); save the dump as UTF-8"
    )


def test_latin1_offset_counts_the_bom() -> None:
    raw = b"\xef\xbb\xbf" + "Café".encode("latin-1")
    assert "at offset 6" in refusal(raw)


def test_json_named_file_is_read_as_json() -> None:
    assert "invalid JSON" in refusal(SAMPLE, "2024-03-14.json")


@pytest.mark.parametrize("title", ["[Re] Reproducing a Paper", "[1] Numbered Paper", "{Braces}"])
def test_text_starting_with_bracket_is_text(title: str) -> None:
    dump = parse_dump(f"{title}\n\n{GOLDEN[0][1]}".encode())
    assert dump.format == "text"
    assert pairs(dump) == [(title, GOLDEN[0][1])]


# -- JSON -------------------------------------------------------------------------------


def test_json_realistic_fixture() -> None:
    dump = parse_dump(json.dumps(JSON_ITEMS, indent=2).encode(), "hf.json")
    assert dump.format == "json"
    first, second, third = dump.papers
    assert first.title == "AstroM$^3$: A self-supervised multimodal model for astronomy"
    assert first.abstract == "We present AstroM. It works well."
    assert first.arxiv_id == "2403.09611"
    assert first.authors == ("Ada Lovelace", "B")
    assert first.upvotes == 1200
    assert first.published == dt.date(2024, 3, 14)
    assert first.position == 1

    assert second.title == "Old Style Id Paper"
    assert second.abstract == ""
    assert second.arxiv_id == "hep-th/9901001"
    assert second.authors == ()
    assert second.upvotes == 7
    assert second.published == dt.date(1999, 1, 1)

    assert third.title == "Third Paper"
    assert third.abstract == "Item-level summary. Second sentence."
    assert third.arxiv_id is None
    assert third.authors == ("C. Darwin",)
    assert third.upvotes is None
    assert third.published is None
    assert third.position == 3

    assert dump.json_days == [dt.date(2024, 3, 15), dt.date(2024, 3, 15), dt.date(2024, 3, 14)]
    assert dump.warnings == ["item 2: no abstract for 'Old Style Id Paper'"]
    assert dump.skipped == [] and dump.date_lines == []


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda items: {"papers": items}, id="papers-object"),
        pytest.param(lambda items: items, id="list"),
    ],
)
def test_json_top_level_shapes(wrap) -> None:
    dump = parse_dump(json.dumps(wrap(JSON_ITEMS)).encode())
    assert [p.title for p in dump.papers][1:] == ["Old Style Id Paper", "Third Paper"]


def test_json_single_object_and_single_item_list() -> None:
    for data in (JSON_ITEMS[2], [JSON_ITEMS[2]]):
        dump = parse_dump(json.dumps(data).encode())
        assert [p.title for p in dump.papers] == ["Third Paper"]


def test_json_bad_items_are_skipped_and_positions_stay_dense() -> None:
    items = ["a string", {"paper": {"summary": "no title here"}}, JSON_ITEMS[2], 5]
    dump = parse_dump(("\ufeff" + json.dumps(items)).encode())
    assert [(p.title, p.position) for p in dump.papers] == [("Third Paper", 1)]
    assert [(s.line, s.reason) for s in dump.skipped] == [
        (1, "JSON item is not an object"),
        (2, "JSON item has no title"),
        (4, "JSON item is not an object"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[(12, 12), ("12", 12), ("1.2k", 1200), ("3K", 3000), ("1,234", 1234), (2.6, 3)],
        *[(None, None), (True, None), ("lots", None), (-4, None), (float("nan"), None)],
    ],
)
def test_json_upvote_forms(value: object, expected: int | None) -> None:
    from bot.core.parse_json import upvotes

    assert upvotes(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2403.09611", "2403.09611"),
        ("2403.09611v12", "2403.09611"),
        ("arXiv:1706.03762v7", "1706.03762"),
        ("0704.0001", "0704.0001"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("math.GT/0309136v2", "math.GT/0309136"),
        ("65f0c0a1b2", None),
        ("2403.096", None),
        (2403.09611, None),
    ],
)
def test_arxiv_id_forms(value: object, expected: str | None) -> None:
    from bot.core.parse_json import arxiv_id

    assert arxiv_id(value) == expected
