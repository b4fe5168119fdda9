"""A usage error is one line on stderr and exit 2 for every `paperbot` command, as the
member commands (feedback, recommend, related) always did: no usage block, nothing
opened or created. The real CLI as a subprocess."""

from __future__ import annotations

import pytest

from tests.cli_process import one_line, paperbot

CASES = [
    (["search", "x", "--since", "yesterday"], "paperbot search: argument --since: invalid date"),
    (["search", "x", "--limit", "0"], "paperbot search: argument --limit: must be at least 1"),
    (["search", "x", "--for-user", "bob"], "paperbot search: argument --for-user: not a Discord"),
    (["digest", "--max", "many"], "paperbot digest: argument --max: not a number"),
    (["digest", "--date", "14/03/2026"], "paperbot digest: argument --date: invalid date"),
    (["ingest"], "paperbot ingest: the following arguments are required: PATH"),
    (["paper"], "paperbot paper: the following arguments are required"),
    (["export-site", "site", "--base-url", "ftp://x"], "paperbot export-site: argument --base-url"),
    (["import-arxiv-snapshot"], "paperbot import-arxiv-snapshot: the following arguments"),
    (["migrate-db", "--from", "a.db"], "paperbot migrate-db: the following arguments are required"),
    (["recommend", "--user", "0"], "paperbot recommend: argument --user: not a Discord user id"),
    (["search", "x", "--bogus"], "paperbot search: unrecognized arguments: --bogus"),
    (["stats", "extra"], "paperbot stats: unrecognized arguments: extra"),
    (["nosuch"], "paperbot: argument COMMAND: invalid choice: 'nosuch'"),
    ([], "paperbot: the following arguments are required: COMMAND"),
]


@pytest.mark.parametrize(("args", "says"), CASES, ids=[" ".join(a) or "none" for a, _ in CASES])
def test_a_usage_error_is_one_line_and_exit_2(tmp_path, args, says) -> None:
    done = paperbot(tmp_path, *args)
    assert done.returncode == 2, done.stderr
    line = one_line(done.stderr)
    assert line.startswith(says), line
    assert line.endswith("--help`)"), line  # where to read more
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing opened, nothing created


@pytest.mark.parametrize("typed", ["", "   "])
def test_an_empty_topic_is_a_usage_error(tmp_path, typed) -> None:
    # Not "unknown topic ''" (exit 1): nothing was named, which is a usage error.
    done = paperbot(tmp_path, "search", "--topic", typed, "--db", str(tmp_path / "p.db"))
    assert done.returncode == 2, done.stderr
    assert one_line(done.stderr) == (
        "paperbot: --topic needs a topic's slug or name (run `paperbot topics` for the list)"
    )
    assert list(tmp_path.iterdir()) == []
