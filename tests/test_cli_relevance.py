"""`paperbot feedback`, `recommend`, `related` and `reindex-vectors` as subprocesses on a
real SQLite file: the bundled sample plus real Hugging Face papers of tests/data (a
labelled subtopic, papers of other subtopics, and distractors read to be off every
subtopic), each dump on a day of its own."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bot.services.relevance import CorpusStats
from tests.cli_process import paperbot
from tests.conftest import SAMPLE_DUMP
from tests.relevance_dumps import hf_dump, real_papers

GROUP = "speculative_decoding"
# Subtopics deliberately close to it (tests/data/relevance/neighbours.json): kept off the
# days below so that "the held-out paper is among the top 3" is about the subtopic.
CLOSE = {GROUP, "kv_cache_compression", "llm_weight_quantization", "on_device_llm_inference"}
USER = "1180000000000000042"
PICK_KEYS = {"id", "title", "dates", "topics", "score", "url", "why"}


def labelled() -> tuple[list[dict], list[dict], list[dict]]:
    """(the group's papers, other subtopics' papers, distractors), in a fixed order."""
    papers = sorted(real_papers(), key=lambda p: p["id"])
    group = [p for p in papers if p["group"] == GROUP]
    family = json.loads(
        (Path(__file__).parent / "data" / "relevance" / "neighbours.json").read_text()
    )
    close = set(CLOSE).union(*(set(f) for f in family if GROUP in f))
    others = [p for p in papers if p["group"] and p["group"] not in close]
    distractors = [p for p in papers if p["labelled"] and p["group"] is None]
    return group, others, distractors


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("relevance-cli")
    group, others, distractors = labelled()
    days = {
        "2026-03-10": group[:3] + distractors[:15],
        "2026-03-11": [group[3], *others[:19]],
        "2026-03-12": distractors[15:35],
    }
    database = str(folder / "paperbot.db")
    for day, papers in days.items():
        path = folder / f"{day}.json"
        path.write_bytes(hf_dump(papers))
        done = paperbot(folder, "ingest", str(path), "--db", database, "--date", day, "--quiet")
        assert done.returncode == 0, done.stderr
    done = paperbot(
        folder, "ingest", str(SAMPLE_DUMP), "--db", database, "--date", "2026-03-14", "--quiet"
    )
    assert done.returncode == 0, done.stderr
    return folder, database


def run(db: tuple[Path, str], *args: str) -> tuple[int, str, str]:
    folder, database = db
    done = paperbot(folder, *args, "--db", database)
    return done.returncode, done.stdout, done.stderr


def picks(db: tuple[Path, str], *args: str) -> list[dict]:
    code, out, err = run(db, *args, "--json")
    assert code == 0, err
    found = json.loads(out)
    assert all(set(p) == PICK_KEYS for p in found)
    return found


def ids_of(db: tuple[Path, str], arxiv_ids: list[str]) -> list[int]:
    with sqlite3.connect(db[1]) as conn:
        rows = dict(conn.execute("SELECT arxiv_id, id FROM papers").fetchall())
    return [rows[a] for a in arxiv_ids]


def ratings(db: tuple[Path, str], user: str = USER) -> list[tuple]:
    with sqlite3.connect(db[1]) as conn:
        return conn.execute(
            "SELECT paper_id, signal, saved FROM feedback WHERE user_id = ? ORDER BY seq",
            (int(user),),
        ).fetchall()


def test_ingest_encodes_every_new_paper_once(db) -> None:
    with sqlite3.connect(db[1]) as conn:
        (papers,) = conn.execute("SELECT COUNT(*) FROM papers").fetchone()
        (vectors,) = conn.execute("SELECT COUNT(*) FROM paper_vectors").fetchone()
        (blob,) = conn.execute("SELECT stats FROM corpus_stats").fetchone()
    assert papers == vectors == 18 + 20 + 20 + 98
    assert CorpusStats.from_bytes(blob).n_docs == papers


def test_a_failed_ingest_changes_no_vectors(db, tmp_path) -> None:
    def state() -> tuple:
        with sqlite3.connect(db[1]) as conn:
            return (
                conn.execute("SELECT COUNT(*) FROM paper_vectors").fetchone(),
                conn.execute("SELECT version, stats FROM corpus_stats").fetchone(),
            )

    before = state()
    broken = tmp_path / "broken.json"
    broken.write_text('[{"paper": {"title": "x"', encoding="utf-8")
    code, _, err = run(db, "ingest", str(broken))
    assert code == 1 and err.strip()
    assert state() == before


def test_a_member_sees_their_subtopic_first_and_not_what_they_rated(db) -> None:
    group, _, distractors = labelled()
    liked = [p["id"] for p in group[:3]]  # arXiv ids, as PAPER may be given
    disliked = [str(i) for i in ids_of(db, [p["id"] for p in distractors[:2]])]  # ids
    code, out, err = run(db, "feedback", "--user", USER, *liked, "--like")
    assert code == 0 and out.count("liked: ") == 3, err
    assert run(db, "feedback", "--user", USER, *disliked, "--dislike")[0] == 0
    # The held-out paper of the subtopic, among 19 papers of unrelated subtopics.
    found = picks(db, "recommend", "--user", USER, "--date", "2026-03-11")
    (held_out,) = ids_of(db, [group[3]["id"]])
    assert held_out in [p["id"] for p in found[:3]]
    first = next(p for p in found if p["id"] == held_out)
    assert first["dates"] == ["2026-03-11"] and first["score"] > 0
    assert any(line.startswith("like “") and line.endswith("you liked") for line in first["why"])
    # A day of papers read to be off every subtopic: nothing for this member, not an error.
    assert picks(db, "recommend", "--user", USER, "--date", "2026-03-12") == []
    code, out, _ = run(db, "recommend", "--user", USER, "--date", "2026-03-12")
    assert code == 0 and out.strip() == f"Nothing for user {USER} on 2026-03-12."
    # Rated papers are left out of a day's list, whatever their score.
    rated = [p["id"] for p in found[:2]]
    assert run(db, "feedback", "--user", USER, *map(str, rated), "--save")[0] == 0
    again = picks(db, "recommend", "--user", USER, "--date", "2026-03-11")
    assert not set(rated) & {p["id"] for p in again}
    liked_ids = ids_of(db, liked)
    for day in ("2026-03-10", "2026-03-11"):
        shown = {p["id"] for p in picks(db, "recommend", "--user", USER, "--date", day)}
        assert not shown & set(liked_ids)


def test_recommend_takes_the_newest_day_and_a_limit(db) -> None:
    user = "77"
    code, out, _ = run(db, "search", "self-supervised speech", "--json", "--limit", "2")
    speech = [str(hit["id"]) for hit in json.loads(out)]
    assert code == 0 and len(speech) == 2
    assert run(db, "feedback", "--user", user, *speech, "--like")[0] == 0
    found = picks(db, "recommend", "--user", user)
    assert found and all("2026-03-14" in p["dates"] for p in found)
    assert len(picks(db, "recommend", "--user", user, "--limit", "1")) == 1


def test_feedback_is_idempotent_and_undoable(db) -> None:
    user = "5150"
    for _ in range(2):
        code, out, _ = run(db, "feedback", "--user", user, "2", "--like")
        assert code == 0 and out.startswith("liked: ")
    assert ratings(db, user) == [(2, "like", 0)]
    assert run(db, "feedback", "--user", user, "2", "--save")[0] == 0
    assert ratings(db, user) == [(2, "like", 1)]
    assert run(db, "feedback", "--user", user, "2", "--dislike")[0] == 0
    assert ratings(db, user) == [(2, "dislike", 1)]
    code, out, _ = run(db, "feedback", "--user", user, "2", "--clear")
    assert code == 0 and "(now: no feedback)" in out
    assert ratings(db, user) == []


def test_bad_input_is_one_line_and_changes_nothing(db) -> None:
    user = "6160"
    # A member with a rating of their own, so `recommend` reaches the date check
    # whichever of this module's tests ran before (pytest -n runs them in any order).
    rater = "7170"
    assert run(db, "feedback", "--user", rater, "1", "--like")[0] == 0
    cases = [
        (("feedback", "--user", user, "3", "999999", "--like"), 1, "999999"),
        (("feedback", "--user", user, "3", "1706.99999", "--like"), 1, "1706.99999"),
        (("feedback", "--user", user, "3", "not a paper", "--like"), 1, "not a paper"),
        (("feedback", "--user", user, "3"), 2, "--like"),
        (("feedback", "--user", user, "3", "--like", "--save"), 2, "--save"),
        (("feedback", "--user", "nobody", "3", "--like"), 2, "user"),
        (("feedback", "3", "--like"), 2, "--user"),
        (("recommend", "--user", "424242"), 1, "424242"),
        (("recommend", "--user", rater, "--date", "2020-01-01"), 1, "2020-01-01"),
        (("recommend", "--user", rater, "--date", "yesterday"), 2, "yesterday"),
        (("recommend",), 2, "--user"),
        (("related", "999999"), 1, "999999"),
        (("related", "2"), 0, ""),
        (("related",), 2, "PAPER"),
        (("related", "2", "--limit", "0"), 2, "--limit"),
    ]
    for args, code, named in cases:
        got, out, err = run(db, *args)
        assert got == code, (args, err)
        if code:
            assert out == "" and len(err.strip().splitlines()) == 1, (args, err)
            assert named in err and "Traceback" not in err, (args, err)
    assert ratings(db, user) == []


def test_related_never_gives_the_paper_itself(db) -> None:
    group, _, _ = labelled()
    for paper in ("1", "50", group[0]["id"]):
        found = picks(db, "related", paper, "--limit", "5")
        (pid,) = ids_of(db, [paper]) if "." in paper else (int(paper),)
        assert found and len(found) <= 5
        assert pid not in [p["id"] for p in found]
        assert [p["score"] for p in found] == sorted((p["score"] for p in found), reverse=True)
    # A speculative-decoding paper's nearest stored papers are the other two liked ones.
    nearest = {p["id"] for p in picks(db, "related", group[0]["id"], "--limit", "2")}
    assert nearest == set(ids_of(db, [p["id"] for p in group[1:3]]))


def test_reindex_vectors_fills_in_missing_vectors_and_can_start_over(db) -> None:
    with sqlite3.connect(db[1]) as conn:
        conn.execute("DELETE FROM paper_vectors WHERE paper_id IN (1, 2, 3)")
    code, out, _ = run(db, "reindex-vectors")
    assert code == 0 and out.strip() == "encoded 3 paper vectors"
    code, out, _ = run(db, "reindex-vectors", "--all")
    assert code == 0 and out.strip() == "encoded 156 paper vectors"
    with sqlite3.connect(db[1]) as conn:
        (blob,) = conn.execute("SELECT stats FROM corpus_stats").fetchone()
    assert CorpusStats.from_bytes(blob).n_docs == 156
