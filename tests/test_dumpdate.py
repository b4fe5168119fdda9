"""Which day a dump belongs to: --date, file name, JSON submission days, date lines, today."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.dumpdate import parse_cli_date, resolve_dump_day
from bot.core.models import ParsedDump

D = dt.date
TODAY = D(2024, 3, 20)


def text_dump(*date_lines: tuple[int, int]) -> ParsedDump:
    return ParsedDump(format="text", papers=[], date_lines=list(date_lines))


def json_dump(*days: dt.date) -> ParsedDump:
    return ParsedDump(format="json", papers=[], json_days=list(days))


def test_cli_date_wins_over_everything() -> None:
    parsed = json_dump(D(2024, 3, 15))
    assert resolve_dump_day(parsed, "2024-03-01.json", D(2023, 1, 2), TODAY) == (
        D(2023, 1, 2),
        "--date",
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2024-03-14.txt", D(2024, 3, 14)),
        ("hf_2024-03-14_dump.json", D(2024, 3, 14)),
        ("dumps/2023-12-31/papers.txt", None),  # only the base name counts
        ("dumps\\old\\2024-02-29.txt", D(2024, 2, 29)),
        ("2024-13-45_then_2024-03-01.txt", D(2024, 3, 1)),  # an impossible date is ignored
        ("12024-03-14.txt", None),  # part of a longer number
        ("papers.txt", None),
        ("", None),
    ],
)
def test_file_name(name: str, expected: dt.date | None) -> None:
    day, source = resolve_dump_day(text_dump((3, 10)), name, None, TODAY)
    if expected is None:
        assert (day, source) == (D(2024, 3, 10), "date line")
    else:
        assert (day, source) == (expected, "file name")


def test_file_name_beats_json_and_date_lines() -> None:
    assert resolve_dump_day(json_dump(D(2024, 3, 15)), "2024-03-01.json", None, TODAY) == (
        D(2024, 3, 1),
        "file name",
    )


def test_json_most_common_day() -> None:
    days = [D(2024, 3, 14)] * 3 + [D(2024, 3, 15)] * 2
    assert resolve_dump_day(json_dump(*days), "daily.json", None, TODAY) == (
        D(2024, 3, 14),
        "json",
    )


def test_json_tie_goes_to_most_recent() -> None:
    days = [D(2024, 3, 14), D(2024, 3, 15), D(2024, 3, 13)]
    assert resolve_dump_day(json_dump(*days), "", None, TODAY) == (D(2024, 3, 15), "json")


def test_json_future_days_are_ignored() -> None:
    days = [D(2024, 3, 25)] * 5 + [D(2024, 3, 19)]
    assert resolve_dump_day(json_dump(*days), "", None, TODAY) == (D(2024, 3, 19), "json")


def test_json_only_future_days_falls_back_to_today() -> None:
    assert resolve_dump_day(json_dump(D(2024, 4, 1)), "", None, TODAY) == (TODAY, "today")


def test_json_days_ignored_for_text_dumps() -> None:
    parsed = ParsedDump(format="text", papers=[], json_days=[D(2024, 3, 1)])
    assert resolve_dump_day(parsed, "", None, TODAY) == (TODAY, "today")


@pytest.mark.parametrize(
    ("date_lines", "today", "expected"),
    [
        ([(3, 14)], D(2024, 3, 20), D(2024, 3, 14)),
        ([(3, 14)], D(2024, 3, 14), D(2024, 3, 14)),  # today itself is not the future
        ([(3, 14)], D(2026, 3, 10), D(2025, 3, 14)),  # not yet this year: last year's
        ([(12, 31)], D(2025, 1, 1), D(2024, 12, 31)),
        ([(1, 1)], D(2024, 12, 31), D(2024, 1, 1)),
        ([(2, 29)], D(2025, 3, 1), D(2024, 2, 29)),  # the latest leap year
        ([(3, 12), (3, 14), (3, 13)], D(2024, 3, 20), D(2024, 3, 14)),
        ([(12, 31), (1, 1)], D(2025, 1, 2), D(2025, 1, 1)),  # across new year
    ],
)
def test_date_lines(date_lines: list[tuple[int, int]], today: dt.date, expected: dt.date) -> None:
    assert resolve_dump_day(text_dump(*date_lines), "dump.txt", None, today) == (
        expected,
        "date line",
    )


def test_nothing_known_means_today() -> None:
    assert resolve_dump_day(text_dump(), "dump.txt", None, TODAY) == (TODAY, "today")


def test_parse_cli_date_valid() -> None:
    assert parse_cli_date("2024-03-14") == D(2024, 3, 14)
    assert parse_cli_date(" 2024-02-29 ") == D(2024, 2, 29)


@pytest.mark.parametrize(
    "value", ["", "yesterday", "14/03/2024", "20240314", "2024-3-14", "2023-02-29", "2024-13-01"]
)
def test_parse_cli_date_invalid(value: str) -> None:
    with pytest.raises(ValueError, match=r"invalid --date") as info:
        parse_cli_date(value)
    assert "\n" not in str(info.value)
