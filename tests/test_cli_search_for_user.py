"""`paperbot search --for-user USER`: the matches in the member's order (their model),
as a subprocess on a real SQLite file; a member nobody knows is one line and exit 1."""

from __future__ import annotations

import json

from tests.cli_process import paperbot
from tests.test_cli_relevance import GROUP, db, labelled  # noqa: F401

USER = "1180000000000000077"
QUERY = "large language models"  # broad: many papers of every day match it


def search(folder, database, *extra: str, query: str = QUERY, limit: int = 5) -> list[dict]:
    done = paperbot(
        folder, "search", query, "--db", database, "--limit", str(limit), "--json", *extra
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_search_for_user_puts_what_they_like_first(db) -> None:  # noqa: F811
    folder, database = db
    group, _, _ = labelled()
    ids = {p["title"] for p in group[2:]}  # the subtopic's papers not rated
    liked = [search(folder, database, query=p["title"], limit=1)[0] for p in group[:2]]
    assert [h["title"] for h in liked] == [p["title"] for p in group[:2]]
    liked = [h["id"] for h in liked]
    everyone = search(folder, database, limit=50)
    assert len(ids & {h["title"] for h in everyone}) >= 1, "the query matches the subtopic"
    done = paperbot(
        folder, "feedback", "--user", USER, *map(str, liked), "--like", "--db", database
    )
    assert done.returncode == 0, done.stderr

    plain = search(folder, database)
    mine = search(folder, database, "--for-user", USER)
    assert len(mine) == len(plain) == 5
    in_group = [h["title"] in ids for h in mine]
    # The member's subtopic leads their order, more of it than in everyone's order.
    assert in_group[0]
    assert sum(in_group) > sum(h["title"] in ids for h in plain)


def test_search_for_an_unknown_user_is_one_line_and_exit_1(db) -> None:  # noqa: F811
    folder, database = db
    done = paperbot(folder, "search", QUERY, "--db", database, "--for-user", "1180000000000000999")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "nothing is stored about user" in done.stderr
    bad = paperbot(folder, "search", QUERY, "--db", database, "--for-user", "someone")
    assert bad.returncode == 2 and "--for-user" in bad.stderr
