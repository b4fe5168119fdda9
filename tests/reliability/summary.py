"""Collects each reliability scenario's figures and prints them as one table at the end.

Every figure in a row is counted by the test from what it observed (the fake Discord's
messages and recorded requests, the database), never copied from the expected value, so
a row can disagree with its expectation; a test that failed is marked as such.

The suite runs on pytest-xdist workers, so each worker hands its rows to the controller
(through `workeroutput`) and the controller prints the one table. Loaded as a plugin by
the root conftest because the controller never imports this folder's conftest.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

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
    failed: bool = False


RESULTS: list[ScenarioFigures] = []
FIGURES = pytest.StashKey[ScenarioFigures]()
WORKER_ROWS = "paperbot_reliability_rows"


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> ScenarioFigures:
    """A row of the summary table for this test; filled in by the test."""
    row = ScenarioFigures(request.node.name)
    request.node.stash[FIGURES] = row
    RESULTS.append(row)
    return row


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    row = item.stash.get(FIGURES, None)
    if row is not None and outcome.get_result().failed:
        row.failed = True


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller prints the table
        workeroutput[WORKER_ROWS] = [asdict(row) for row in RESULTS]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    rows = getattr(node, "workeroutput", {}).get(WORKER_ROWS, [])
    RESULTS.extend(ScenarioFigures(**row) for row in rows)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not RESULTS or hasattr(terminalreporter.config, "workeroutput"):
        return
    write = terminalreporter.write_line
    write("")
    write("paperbot reliability summary")
    header = ("scenario", "trials", "expected", "seen", "dupes", "losses", "user errors", "test")
    ordered = sorted(RESULTS, key=lambda r: r.scenario)
    rows = [
        (
            r.scenario[:48],
            r.trials,
            r.posts_expected,
            r.posts_seen,
            r.duplicates,
            r.losses,
            r.user_errors,
            "FAILED" if r.failed else "passed",
        )
        for r in ordered
    ]
    failed = sum(r.failed for r in ordered)
    totals = [sum(r[i] for r in rows) for i in range(1, 7)]
    total = ("TOTAL", *totals, f"{failed} failed" if failed else "all passed")
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, total, strict=True)]
    for line in (header, *rows, total):
        write("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)))
    for result in ordered:
        for note in result.notes:
            write(f"  {result.scenario[:48]}: {note}")
