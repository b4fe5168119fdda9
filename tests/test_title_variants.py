"""Every title a paper was listed under stays searchable: a paper retitled under its
arXiv ID, merged as an edited title, or listed twice in one file is still found by the
titles it no longer carries. Real databases of both backends, and the real CLI."""

from __future__ import annotations

import datetime as dt
import json
import os

from bot.core.ingest import ingest_bytes
from bot.core.parse import parse_dump
from bot.core.query import parse_query
from tests.conftest import SAMPLE_DUMP, TODAY, assert_index_matches
from tests.forked_cli import run_cli

ARXIV_ID = "2312.09979"
FIRST_TITLE = (
    "LoRAMoE: Revolutionizing Mixture of Experts for Maintaining World Knowledge in "
    "Language Model Alignment"
)
LATER_TITLE = (
    "LoRAMoE: Alleviate World Knowledge Forgetting in Large Language Models via MoE-Style Plugin"
)


def sample_abstract(title: str) -> str:
    papers = parse_dump(SAMPLE_DUMP.read_bytes(), SAMPLE_DUMP.name).papers
    return next(p.abstract for p in papers if p.title == title)


def api_dump(title: str, day: dt.date) -> bytes:
    """A Hugging Face daily-papers API answer listing one paper under `title`."""
    paper = {
        "id": ARXIV_ID,
        "title": title,
        "summary": sample_abstract(FIRST_TITLE),
        "authors": [{"name": "Shihan Dou"}],
        "upvotes": 12,
        "publishedAt": "2023-12-15T00:00:00.000Z",
        "submittedOnDailyAt": f"{day.isoformat()}T08:00:00.000Z",
    }
    return json.dumps([{"paper": paper, "title": title}]).encode()


async def found_by(store, text: str) -> list[int]:
    hits = await store.text_search(
        parse_query(text), match_all=True, topic=None, since=None, limit=10
    )
    return [pid for pid, _ in hits]


def phrase(title: str) -> str:
    return f'"{title}"'


async def test_a_paper_retitled_under_its_arxiv_id_is_found_by_its_first_title(
    backend_storage,
) -> None:
    store = backend_storage
    first = await ingest_bytes(store, api_dump(FIRST_TITLE, dt.date(2026, 3, 16)), "a.json")
    assert first.new == 1
    later = await ingest_bytes(store, api_dump(LATER_TITLE, dt.date(2026, 3, 17)), "b.json")
    # A new title for a known ID is reported as a merge, naming the title it had.
    assert (later.new, later.known, later.merged) == (0, 0, 1)
    assert later.merges == [(LATER_TITLE, FIRST_TITLE)]
    [(paper_id, title)] = await store.all_titles()
    assert title == LATER_TITLE
    assert await found_by(store, phrase(FIRST_TITLE)) == [paper_id]
    assert await found_by(store, LATER_TITLE) == [paper_id]
    # Listed under its first title again, it is simply known (and found by both).
    again = await ingest_bytes(store, api_dump(FIRST_TITLE, dt.date(2026, 3, 18)), "c.json")
    assert (again.known, again.merged) == (1, 0)
    assert await found_by(store, LATER_TITLE) == [paper_id]
    assert await found_by(store, phrase(FIRST_TITLE)) == [paper_id]
    await assert_index_matches(store)


async def test_an_edited_title_merged_without_an_id_stays_searchable(
    backend_sample_storage,
) -> None:
    store = backend_sample_storage
    old = "NNetscape Navigator: Complex Demonstrations for Web Agents Without a Demonstrator"
    new = "NNetNav: Unsupervised Learning of Browser Agents Through Environment Interaction"
    dump = f"Mar 20\n\n{new}\n\n{sample_abstract(old)}\n".encode()
    report = await ingest_bytes(store, dump, "2026-03-20.txt", today=TODAY)
    assert report.merges == [(new, old)]
    [paper_id] = await found_by(store, phrase(new))
    assert await found_by(store, phrase(old)) == [paper_id]
    assert (await store.stats())["papers"] == 98


async def test_a_variant_listed_twice_in_one_file_is_kept(backend_storage) -> None:
    store = backend_storage
    title = "Long-context Protein Language Model"
    typo = "Long-context Protein Langauge Model"
    abstract = sample_abstract(title)
    dump = f"Mar 20\n\n{title}\n\n{abstract}\n\n{typo}\n\n{abstract}\n".encode()
    report = await ingest_bytes(store, dump, "2026-03-20.txt", today=TODAY)
    assert (report.new, report.duplicates_in_file) == (1, 1)
    [paper_id] = await found_by(store, "langauge")
    assert await found_by(store, phrase(title)) == [paper_id]


def test_cli_reports_the_retitle_and_finds_the_first_title(tmp_path) -> None:
    """`paperbot ingest` then `paperbot search`, as subprocesses on a real SQLite file."""
    env = dict(os.environ, PAPERBOT_DB=str(tmp_path / "cli.db"))
    files = []
    for name, title, day in (
        ("2026-03-16.json", FIRST_TITLE, dt.date(2026, 3, 16)),
        ("2026-03-17.json", LATER_TITLE, dt.date(2026, 3, 17)),
    ):
        path = tmp_path / name
        path.write_bytes(api_dump(title, day))
        files.append(path)

    def cli(*argv: str) -> str:
        done = run_cli(argv, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("ingest", str(files[0]))
    out = cli("ingest", str(files[1]))
    merged = [line for line in out.splitlines() if line.strip().startswith("merged:")]
    assert merged == [f"  merged: {LATER_TITLE!r} is {FIRST_TITLE!r}"]
    hits = json.loads(cli("search", phrase(FIRST_TITLE), "--json"))
    assert [hit["title"] for hit in hits] == [LATER_TITLE]
