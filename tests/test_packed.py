"""Packed tables (bot.core.packed): columns of numbers and packed strings read back
exactly what was put in, however much that is."""

from __future__ import annotations

import bisect
import mmap

import pytest

from bot.core.packed import Column, StringsBuilder

NAMES = ["", "a", "München", "São Paulo", "Ḩalab", "東京", "😀 emoji", "x" * 5000]


def test_columns_hold_their_numbers_past_many_pages() -> None:
    numbers = Column("I")
    people = Column("q")
    count = 3 * mmap.PAGESIZE  # several doublings of the first page
    for i in range(count):
        numbers.append(i)
        people.append(-(i**2))
    assert len(numbers) == count
    assert list(numbers.view()) == list(range(count))
    assert people[count - 1] == -((count - 1) ** 2)
    with pytest.raises(ValueError):  # too big for the type: refused, not wrapped round
        Column("H").append(70_000)


def test_packed_strings_give_back_what_was_appended() -> None:
    builder = StringsBuilder()
    for _ in range(200):  # past a page of text, so the buffer moves while building
        for name in NAMES:
            builder.append(name)
    packed = builder.pack()
    expected = NAMES * 200
    assert len(packed) == len(expected)
    assert [packed[i] for i in range(len(packed))] == expected
    assert list(packed) == expected
    with pytest.raises(IndexError):
        packed[len(expected)]
    with pytest.raises(IndexError):
        packed[-1]


def test_sorted_packed_strings_can_be_bisected() -> None:
    builder = StringsBuilder()
    words = sorted({"new york", "newark", "newcastle", "nice", "paris", "são paulo"})
    for word in words:
        builder.append(word)
    packed = builder.pack()
    assert bisect.bisect_left(packed, "new") == 0
    assert packed[bisect.bisect_left(packed, "nice")] == "nice"
    assert bisect.bisect_left(packed, "zzz") == len(words)


def test_a_newline_cannot_be_packed() -> None:
    with pytest.raises(ValueError, match="newline"):
        StringsBuilder().append("two\nlines")
