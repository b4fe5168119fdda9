"""The author name key (bot/core/authors.py) on real author names from the Hugging Face
papers in tests/data: accents, case, initials and "Family, Given" all match."""

from __future__ import annotations

import unicodedata

from bot.core.authors import author_key, author_key_prefixes
from tests.relevance_dumps import real_papers


def real_names() -> set[str]:
    return {name for paper in real_papers() for name in paper["authors"]}


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def test_the_issues_example() -> None:
    assert author_key("José M. Álvarez") == author_key("Jose Alvarez") == author_key("J. Alvarez")
    assert author_key("Álvarez, José") == author_key("José M. Álvarez") == "alvarez j"


def test_real_names_spelled_two_ways_in_the_dumps_share_a_key() -> None:
    """Pairs found as they are in the real dumps (the same person, two spellings)."""
    names = real_names()
    pairs = [
        ("Samuel Horváth", "Samuel Horvath"),
        ("Miguel Ángel Bautista", "Miguel Angel Bautista"),
        ("Peng Di", "Peng DI"),
    ]
    for one, other in pairs:
        assert one in names and other in names
        assert author_key(one) == author_key(other) != ""
    # Letters with no separable accent (a dotless ı) are typed as plain Latin ones.
    assert "Ethem Yağız Çalık" in names
    assert author_key("Ethem Yağız Çalık") == author_key("E. Calik") == "calik e"


def test_every_real_name_matches_its_accentless_initial_and_inverted_forms() -> None:
    names = real_names()
    checked = 0
    accented = 0
    for name in sorted(names):
        words = name.split()
        # Plain "Given [Middle] Family" names; suffixes and one-word names are below.
        if len(words) < 2 or "," in name or words[-1].rstrip(".").lower() in {"jr", "iii"}:
            continue
        if not words[0][0].isalpha():
            continue
        key = author_key(name)
        assert key, name
        assert author_key(strip_accents(name)) == key, name
        assert author_key(name.upper()) == key, name
        assert author_key(f"{words[0][0]}. {words[-1]}") == key, name
        assert author_key(f"{words[-1]}, {' '.join(words[:-1])}") == key, name
        checked += 1
        accented += strip_accents(name) != name
    assert checked > 20_000 and accented > 200


def test_suffixes_one_word_names_and_names_without_letters() -> None:
    names = real_names()
    assert "Hal Daumé III" in names
    assert author_key("Hal Daumé III") == author_key("H. Daume") == "daume h"
    assert "NVIDIA" in names and author_key("NVIDIA") == "nvidia"
    assert author_key("John Smith Jr.") == "smith j"
    assert author_key("  ") == author_key("42") == ""


def test_what_someone_types_becomes_key_prefixes_family_name_first() -> None:
    assert author_key_prefixes("alv") == [("alv", "")]
    assert author_key_prefixes("José Álv") == [("alv", "j"), ("jose", "")]
    assert author_key_prefixes("") == []
