"""The CLI contract, driven in-process through `main(argv)` and once as a subprocess."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.limits import message_problems
from tests.conftest import SAMPLE_DUMP


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "cli.db")


@pytest.fixture
def ingested(capsys, db) -> str:
    code, _, err = run(capsys, "ingest", str(SAMPLE_DUMP), "--db", db, "--date", "2026-03-14")
    assert code == 0, err
    return db


def test_ingest_reports_98_new_then_0(capsys, db) -> None:
    code, out, _ = run(capsys, "ingest", str(SAMPLE_DUMP), "--db", db, "--json")
    assert code == 0
    [report] = json.loads(out)
    assert report["parsed"] == 98 and report["new"] == 98 and report["day_source"] == "date line"
    code, out, _ = run(capsys, "ingest", str(SAMPLE_DUMP), "--db", db, "--json")
    assert code == 0 and json.loads(out)[0]["new"] == 0
    code, out, _ = run(capsys, "ingest", str(SAMPLE_DUMP), "--db", db)
    assert "already ingested" in out


def test_date_flag_wins_and_is_reported(capsys, db) -> None:
    code, out, _ = run(capsys, "ingest", str(SAMPLE_DUMP), "--db", db, "--date", "2025-01-02")
    assert code == 0 and "2025-01-02 (--date)" in out


def test_folder_ingest_shows_progress_and_survives_a_bad_file(capsys, db, tmp_path) -> None:
    folder = tmp_path / "dumps"
    folder.mkdir()
    shutil.copy(SAMPLE_DUMP, folder / "2026-03-14.txt")
    (folder / "2026-03-15.txt").write_bytes("caf\xe9".encode("latin-1"))
    code, out, err = run(capsys, "ingest", str(folder), "--db", db)
    assert code == 1
    assert "[1/2]" in err and "[2/2]" in err
    assert "98 new" in out and "1 failed" in out
    assert "not UTF-8" in err
    code, out, _ = run(capsys, "stats", "--db", db, "--json")
    assert json.loads(out)["papers"] == 98


def test_bad_input_is_one_line_exit_1(capsys, db, tmp_path) -> None:
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    code, out, err = run(capsys, "ingest", str(bad), "--db", db)
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, _, err = run(capsys, "ingest", str(tmp_path / "missing.txt"), "--db", db)
    assert code == 1 and "cannot read" in err


def test_usage_errors_exit_2(capsys, db) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["search", "--limit", "zero", "--db", db])
    assert exc.value.code == 2
    code, _, err = run(capsys, "search", "--db", db)
    assert code == 2 and "QUERY" in err


def test_search_examples_through_the_cli(capsys, ingested) -> None:
    def top(query: str, n: int) -> list[str]:
        code, out, err = run(capsys, "search", query, "--db", ingested, "--json")
        assert code == 0, err
        hits = json.loads(out)
        assert all(
            set(h) >= {"id", "title", "dates", "topics", "score", "url", "why"} for h in hits
        )
        return [h["title"] for h in hits[:n]]

    assert set(top("protein", 2)) == {
        "Long-context Protein Language Model",
        "InstructProtein: Aligning Human and Protein Language via Knowledge Instruction",
    }
    assert top("w2v bert", 1)[0].startswith("W2v-BERT")
    assert top("loramoe", 1)[0].startswith("LoRAMoE")
    assert "Long-context Protein Language Model" in top("protien langauge model", 3)
    assert all("speech" in t.casefold() for t in top("speech", 5))


def test_dash_dash_searches_for_an_option_like_query(capsys, ingested) -> None:
    code, out, _ = run(capsys, "search", "--db", ingested, "--json", "--", "-x")
    assert code == 0 and isinstance(json.loads(out), list)


def test_a_search_with_nothing_since_its_date_counts_the_older_matches(capsys, ingested) -> None:
    code, out, _ = run(capsys, "search", "protein", "--db", ingested, "--json")
    older = len(json.loads(out))
    assert code == 0 and older > 0
    code, out, _ = run(capsys, "search", "protein", "--since", "2026-04-01", "--db", ingested)
    assert code == 0
    assert out.strip() == (
        f'No papers found for "protein · since 2026-04-01", but {older} older papers'
        " match: try an earlier date."
    )
    code, out, _ = run(capsys, "search", "zzzqqq", "--since", "2026-04-01", "--db", ingested)
    assert "older" not in out and "Try fewer or different words" in out


def test_since_takes_what_slash_search_takes(capsys, ingested) -> None:
    def urls(since: str) -> list[str]:
        code, out, err = run(
            capsys, "search", "model", "--since", since, "--db", ingested, "--json"
        )
        assert code == 0, err
        return [hit["url"] for hit in json.loads(out)]

    today = dt.datetime.now(dt.UTC).date()
    back = (today - dt.date(2026, 3, 14)).days  # the sample's day, as days back
    everything = urls("2026-03-14")
    assert everything
    assert urls(str(back)) == urls(f"{back}d") == urls(f"{back} days") == everything
    assert urls("2026") == everything  # a year, from its first day
    assert urls(str(back - 1)) == []  # a day later than the sample's
    for bad, says in (
        ("yesterday", "invalid date 'yesterday'"),
        ("2026-13-01", "'2026-13-01' is not a real date"),
        (str(today + dt.timedelta(days=1)), "is in the future"),
    ):
        with pytest.raises(SystemExit) as exc:
            main(["search", "model", "--since", bad, "--db", ingested])
        assert exc.value.code == 2
        out, err = capsys.readouterr()
        assert out == ""
        [line] = err.strip().splitlines()
        assert says in line and "days back (7 or 7d)" in line, line


def test_search_by_topic_and_unknown_topic(capsys, ingested) -> None:
    code, out, _ = run(capsys, "topics", "--db", ingested, "--json")
    topics = json.loads(out)
    slug = max(topics, key=lambda t: t["total"])["slug"]
    code, out, _ = run(capsys, "search", "--topic", slug, "--db", ingested, "--json")
    assert code == 0 and all(slug in h["topics"] for h in json.loads(out))
    code, _, err = run(capsys, "search", "x", "--topic", "no-such-topic", "--db", ingested)
    assert code == 1 and "unknown topic" in err


def test_digest_json_splits_into_valid_messages(capsys, ingested) -> None:
    code, out, _ = run(capsys, "digest", "--json", "--max", "98", "--db", ingested)
    assert code == 0
    payloads = json.loads(out)
    assert len(payloads) >= 10  # 98 papers at <= 10 embeds per message
    assert sum(len(p["embeds"]) for p in payloads) == 98
    for payload in payloads:
        assert message_problems(payload) == []
        assert payload["allowed_mentions"] == {"parse": []}


def test_stats_and_topics(capsys, ingested) -> None:
    code, out, _ = run(capsys, "stats", "--db", ingested, "--json")
    stats = json.loads(out)
    assert code == 0 and stats["papers"] == 98 and stats["days"] == 1
    assert isinstance(stats["topics"], dict) and sum(stats["topics"].values()) >= 98
    code, out, _ = run(capsys, "topics", "--db", ingested)
    assert code == 0 and "topic" in out.splitlines()[0]


def test_console_script_runs_as_a_subprocess(tmp_path) -> None:
    env = dict(os.environ, PAPERBOT_DB=str(tmp_path / "env.db"))
    cmd = [sys.executable, "-m", "bot.cli"]
    done = subprocess.run(
        [*cmd, "ingest", str(SAMPLE_DUMP), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["new"] == 98
    assert Path(env["PAPERBOT_DB"]).exists()
    bad = subprocess.run(
        [*cmd, "search", "--since", "yesterday", "x"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
