"""The evidence dedupe weighs besides the title rule, on the real abstracts of the sample
dump: abstract comparison and fingerprints (bot.core.abstracts) and the title forms
that never make a new paper (bot.core.title_forms)."""

from __future__ import annotations

import itertools
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.abstracts import (
    PRINT_WORDS,
    Evidence,
    abstract_blocks,
    abstract_words,
    compare_abstracts,
    fingerprint,
)
from bot.core.dedupe import near_duplicate, paper_keys, retired_titles
from bot.core.models import ParsedPaper
from bot.core.parse import parse_dump
from bot.core.text import normalize_title
from bot.core.title_forms import american, content_numbers, title_core
from tests.conftest import SAMPLE_DUMP

SAMPLE = parse_dump(SAMPLE_DUMP.read_bytes(), SAMPLE_DUMP.name).papers


def test_any_two_different_real_abstracts_are_different_papers() -> None:
    texts = [abstract_words(p.abstract) for p in SAMPLE]
    assert all(texts)
    for a, b in itertools.combinations(texts, 2):
        assert compare_abstracts(a, b) is Evidence.DIFFERENT


@pytest.mark.parametrize("paper", SAMPLE[::7], ids=lambda p: p.title[:30])
def test_revisions_of_a_real_abstract_are_the_same_text(paper) -> None:
    text = paper.abstract
    sentences = text.split(". ")
    revisions = [
        f"{text} We also release an extended evaluation on three further benchmarks.",
        textwrap.fill(text.upper(), 60),
        ". ".join([sentences[0] + " in a new setting", *sentences[1:]]),
        ". ".join(sentences[:-1]) + ".",  # the last sentence dropped
    ]
    for revised in revisions:
        assert compare_abstracts(abstract_words(text), abstract_words(revised)) is Evidence.SAME


def test_a_cut_off_abstract_is_no_evidence_either_way() -> None:
    full = SAMPLE[0].abstract
    half = " ".join(full.split()[: len(full.split()) // 2])
    assert compare_abstracts(abstract_words(full), abstract_words(half)) is Evidence.UNKNOWN


def test_a_short_or_missing_abstract_is_no_evidence() -> None:
    short = "We study a problem at length. Our method improves results on many benchmarks."
    assert abstract_words(short) is None and abstract_blocks(short) == ()
    real = abstract_words(SAMPLE[1].abstract)
    assert compare_abstracts(real, abstract_words(short)) is Evidence.UNKNOWN
    assert compare_abstracts(real, abstract_words("")) is Evidence.UNKNOWN


def full_split_blocks(text: str) -> tuple[str, ...]:
    """What `abstract_blocks` must give: the fingerprint of the fully split text's
    opening words."""
    found = abstract_words(text, remember=False)
    return () if found is None else (f"a:{fingerprint(found[:PRINT_WORDS])}",)


def test_fingerprints_of_real_abstracts_match_a_full_split() -> None:
    for paper in SAMPLE:
        assert len(paper.abstract) > 1000  # long enough to be split only at its start
        assert abstract_blocks(paper.abstract) == full_split_blocks(paper.abstract)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(alphabet="abcdeé-ʼ.,0123 \n", min_size=1, max_size=14), min_size=0, max_size=160
    )
)
def test_fingerprints_only_split_the_start_yet_match_a_full_split(parts: list[str]) -> None:
    text = " ".join(parts)
    assert abstract_blocks(text) == full_split_blocks(text)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Long-context Protein Language Model", "Long-context Protein Language Model (v2)"),
        ("X for Y", "X for Y [Technical Report]"),
        ("X for Y", "X for Y (Extended Version)"),
        ("Optimizing Models of Behavior", "Optimising Models of Behaviour"),
        ("Labeled Data Analysis", "Labelled Data Analysis"),
        ("Pre-Training Vision Transformers", "pretraining vision transformers"),
    ],
)
def test_titles_with_equal_cores(a: str, b: str) -> None:
    assert title_core(a) == title_core(b)
    assert near_duplicate(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("LLaVA: Visual Instruction Tuning", "LLaVA++: Visual Instruction Tuning"),
        ("Llama: Open Models", "Llama 2: Open Models"),
        ("Filled Holes in Meshes", "Filed Holes in Meshes"),
        ("Segment Anything", "Segment Anything in High Quality"),
    ],
)
def test_titles_with_different_cores(a: str, b: str) -> None:
    assert title_core(a) != title_core(b)


def test_american_spelling_of_british_words() -> None:
    british = "optimisation modelling behavioural colour analysed centre labelled"
    assert [american(w) for w in british.split()] == [
        "optimization",
        "modeling",
        "behavioral",
        "color",
        "analyzed",
        "center",
        "labeled",
    ]
    assert american("filled") == "filled" and american("prise") == "prise"


def test_version_markers_are_not_content_numbers() -> None:
    assert content_numbers("Segment Anything v2") == content_numbers("Segment Anything") == ()
    assert content_numbers("X, Version 3") == ()
    assert content_numbers("Llama 2: Open Foundation Models") == ("2",)
    assert content_numbers("DeepSeek-V2: A Strong Model") == ("2",)


def test_a_plus_suffix_makes_another_title_key() -> None:
    def keys(title: str) -> tuple[str, ...]:
        return paper_keys(ParsedPaper(title, "", 1), normalize_title(title))

    assert keys("MiniWoB++ Agents") != keys("MiniWoB Agents")
    # Titles without `+` keep exactly the keys stored before.
    assert keys("RAD-DINO: Exploring") == ("t:raddinoexploring",)


def test_retired_titles_keep_what_a_search_can_tell_apart() -> None:
    kept = "Long-context Protein Language Models"
    seen = [kept, "long-context protein language models", "Long context Protein Langauge Model"]
    assert retired_titles(kept, seen) == ["Long context Protein Langauge Model"]
    assert retired_titles(kept, ["Longcontext Protein Language Models"]) == [
        "Longcontext Protein Language Models"
    ]
