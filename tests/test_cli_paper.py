"""`paperbot search ID` and `paperbot paper ID-OR-TITLE`, run as subprocesses: an arXiv
id or link shows that paper, a title fragment opens the paper holding it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_DUMP
from tests.forked_cli import run_cli
from tests.real_papers import OLD_STYLE, api_dump, real_titles

OPT = ("2205.01068", "OPT: Open Pre-trained Transformer Language Models")


def paperbot(db: Path, *args: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "PAPERBOT"))}
    return run_cli([*args, "--db", str(db)], cwd=db.parent, env=environ)  # no .env there


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    dump = folder / "2026-03-10.json"
    dump.write_bytes(api_dump(real_titles() + OLD_STYLE))
    path = folder / "cli.db"
    for source in (SAMPLE_DUMP, dump):
        done = paperbot(path, "ingest", str(source), "--date", "2026-03-14", "--quiet")
        assert done.returncode == 0, done.stderr
    return path


def test_search_by_arxiv_id_or_link_shows_that_paper(db) -> None:
    done = paperbot(db, "search", OPT[0])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f" 1. {OPT[1]}"
    assert lines[1].strip() == f"https://arxiv.org/abs/{OPT[0]}"
    assert f"why: arXiv id {OPT[0]}" in lines[2]
    assert len(lines) == 3
    done = paperbot(db, "search", f"https://arxiv.org/pdf/{OPT[0]}v2.pdf", "--json")
    assert done.returncode == 0, done.stderr
    [hit] = json.loads(done.stdout)
    assert hit["title"] == OPT[1]


def test_an_id_not_stored_is_one_line_and_exit_1(db) -> None:
    for command in ("search", "paper"):
        done = paperbot(db, command, "arXiv:2403.15447v2")
        assert done.returncode == 1
        assert done.stdout == ""
        assert done.stderr.startswith("paperbot: no paper with arXiv id 2403.15447 is stored")
        assert len(done.stderr.strip().splitlines()) == 1


def test_paper_opens_by_id_link_or_title_fragment(db) -> None:
    done = paperbot(db, "paper", "Super", "Mario")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Language Models are Super Mario: Absorbing Abilities")
    assert "seen:    2026-03-14" in done.stdout
    done = paperbot(db, "paper", "https://arxiv.org/abs/hep-th/9711200v3", "--json")
    assert done.returncode == 0, done.stderr
    paper = json.loads(done.stdout)
    assert (paper["arxiv_id"], paper["title"]) == OLD_STYLE[0]
    assert paper["url"] == "https://arxiv.org/abs/hep-th/9711200"
    done = paperbot(db, "paper", "zzqx", "vvbn")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == "paperbot: no paper matches 'zzqx vvbn'; try `paperbot search`\n"
