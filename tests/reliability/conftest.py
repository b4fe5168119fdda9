"""Collects each reliability scenario's figures and prints them as one table at the end."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest


@dataclass
class ScenarioFigures:
    scenario: str
    trials: int = 0
    posts_expected: int = 0
    posts_seen: int = 0
    duplicates: int = 0
    losses: int = 0
    user_errors: int = 0
    notes: list[str] = field(default_factory=list)


RESULTS: list[ScenarioFigures] = []


@pytest.fixture
def figures(request) -> ScenarioFigures:
    """A row of the summary table for this test; filled in by the test."""
    row = ScenarioFigures(request.node.name)
    RESULTS.append(row)
    return row


def pytest_terminal_summary(terminalreporter) -> None:
    if not RESULTS:
        return
    write = terminalreporter.write_line
    write("")
    write("paperbot reliability summary")
    header = ("scenario", "trials", "expected", "seen", "dupes", "losses", "user errors")
    rows = [
        (
            r.scenario[:48],
            r.trials,
            r.posts_expected,
            r.posts_seen,
            r.duplicates,
            r.losses,
            r.user_errors,
        )
        for r in RESULTS
    ]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    for line in (header, *rows):
        write("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)))
    totals = [sum(r[i] for r in rows) for i in range(1, 7)]
    write("  ".join(str(x).ljust(w) for x, w in zip(("TOTAL", *totals), widths, strict=True)))
    for result in RESULTS:
        for note in result.notes:
            write(f"  {result.scenario[:48]}: {note}")
