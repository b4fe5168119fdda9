"""`paperbot ingest` of a later fetch of a stored HF day says what it updated."""

from __future__ import annotations

import json

from tests.hf_days import TODAY_SHAPE, day_items, day_path
from tests.test_cli import run
from tests.test_hf_storage import early_fetch


def test_a_later_fetch_says_what_it_added_and_changed(capsys, tmp_path) -> None:
    db = str(tmp_path / "cli.db")
    early = early_fetch(tmp_path)
    code, out, err = run(capsys, "ingest", str(early), "--db", db)
    assert code == 0, err
    assert "updated the day already stored" not in out
    code, out, err = run(capsys, "ingest", str(day_path(TODAY_SHAPE)), "--db", db)
    assert code == 0, err
    added = len(day_items(TODAY_SHAPE)) - 3
    assert out.strip().endswith(
        f"updated the day already stored: {added} papers added; upvotes changed on 3 papers,"
        " links on 1, summaries on 1"
    ), out
    code, out, _ = run(capsys, "ingest", str(day_path(TODAY_SHAPE)), "--db", db, "--json")
    [report] = json.loads(out)
    assert report["already_ingested"] and not report["day_update"]
