"""Search says how many papers really match: "Results 1–5 of 6,490", or a lower bound
("1,000+") where a backend stops counting, never the size of the page it fetched.

The corpus is the real sample dump plus days written from its own vocabulary
(bench.corpus), so common words match well over a thousand papers. The expected counts
come from the engine's full result list (`text_search` with no practical limit) and from
`topic_counts`, not from the code that computes the totals.
"""

from __future__ import annotations

import datetime as dt
import itertools
import subprocess

import pytest

from bench.corpus import CorpusGenerator
from bot.core.ingest import ingest_bytes
from bot.core.query import parse_query
from bot.core.text import words
from bot.core.topics import load_default_topics
from bot.services.search import COUNT_CAP, WIDEN_BELOW, SearchService
from tests.conftest import SAMPLE_DUMP, TODAY, backend_of, ingest_sample
from tests.discord_harness import bot_against_fake
from tests.forked_cli import run_cli

EVERYTHING = 1_000_000
SYNTHETIC_PAPERS = 1_300


async def all_matches(storage, text: str, *, topic=None, since=None, match_all=True) -> int:
    hits = await storage.text_search(
        parse_query(text), match_all=match_all, topic=topic, since=since, limit=EVERYTHING
    )
    return len(hits)


async def ingest_synthetic(storage, papers: int = SYNTHETIC_PAPERS) -> None:
    for day in CorpusGenerator(papers, seed=7).days():
        report = await ingest_bytes(storage, day.raw, day.source, today=TODAY)
        assert report.error is None, report.error


async def sample_and_synthetic(storage) -> None:
    await ingest_sample(storage)
    await ingest_synthetic(storage)


@pytest.fixture
async def big_storage(backend_copy):
    async with backend_copy(sample_and_synthetic) as store:
        yield store


async def test_keyword_totals_count_every_match_or_say_they_stopped(big_storage) -> None:
    service = SearchService(big_storage, load_default_topics())
    expected = await all_matches(big_storage, "model")
    assert expected > COUNT_CAP  # far above the 50 candidates a search fetches
    response = await service.search("model", limit=50)
    assert len(response.hits) == 50
    if backend_of(big_storage) == "sqlite":
        # tantivy counts while it ranks: always the exact number.
        assert (response.total, response.total_exact) == (expected, True)
    else:
        # PostgreSQL stops counting past the cap: a true lower bound, flagged as one.
        assert (response.total, response.total_exact) == (COUNT_CAP, False)


async def test_totals_below_the_cap_are_exact_on_both_backends(big_storage) -> None:
    service = SearchService(big_storage, load_default_topics())
    counts = {w: await all_matches(big_storage, w) for w in ("protein", "speech", "robot")}
    word, expected = next((w, n) for w, n in counts.items() if 50 < n <= COUNT_CAP)
    response = await service.search(word, limit=10)
    assert (response.total, response.total_exact) == (expected, True)
    # Filters narrow the count exactly as they narrow the results.
    since = dt.date(2026, 1, 1)
    narrowed = await all_matches(big_storage, word, since=since)
    assert 0 < narrowed < expected
    response = await service.search(word, since=since, limit=10)
    assert (response.total, response.total_exact) == (narrowed, True)


async def test_a_widened_search_counts_papers_holding_any_word(big_storage) -> None:
    # Too few papers hold both words, so every paper holding either one is a result.
    service = SearchService(big_storage, load_default_topics())
    assert await all_matches(big_storage, "cherokee microwave") < 10
    expected = await all_matches(big_storage, "cherokee microwave", match_all=False)
    response = await service.search("cherokee microwave", limit=10)
    assert response.total == min(expected, COUNT_CAP) and response.total > 10


async def test_topic_only_totals(big_storage) -> None:
    service = SearchService(big_storage, load_default_topics())
    expected = (await big_storage.topic_counts(None))["llm"]
    assert expected > COUNT_CAP
    response = await service.search(None, topic="llm", limit=50)
    assert len(response.hits) == 50
    if backend_of(big_storage) == "sqlite":
        assert (response.total, response.total_exact) == (expected, True)
    else:
        assert (response.total, response.total_exact) == (COUNT_CAP, False)
    small = (await big_storage.topic_counts(None))["speech-audio"]
    assert 50 < small <= COUNT_CAP
    response = await service.search(None, topic="speech-audio", limit=5)
    assert (response.total, response.total_exact) == (small, True)


# --- what people see ---------------------------------------------------------------------


async def test_slash_search_says_the_real_number_of_matches(tmp_path) -> None:
    async with bot_against_fake(tmp_path) as (fake, bot, ids):
        expected = await all_matches(bot.storage, "model")
        assert expected > 50  # 95 of the sample's 98 papers: more than one fetch of 50
        reply = await fake.invoke(ids.guild, ids.channel, ids.user, "search", {"query": "model"})
        assert reply.content == f"Results 1–5 of {expected} for `model` (top 50 shown)"

        in_topic = (await bot.storage.topic_counts(None))["llm"]
        assert in_topic > 50
        reply = await fake.invoke(ids.guild, ids.channel, ids.user, "search", {"topic": "llm"})
        assert reply.content == (
            f"Results 1–5 of {in_topic} for `topic: Large language models` (top 50 shown)"
        )


async def test_slash_search_states_a_spelling_correction_once(tmp_path) -> None:
    async with bot_against_fake(tmp_path) as (fake, _, ids):
        reply = await fake.invoke(
            ids.guild, ids.channel, ids.user, "search", {"query": "protien langauge model"}
        )
        lines = reply.content.splitlines()
        assert lines[1] == "Spelling corrected: `protien` → `protein`, `langauge` → `language`"
        assert reply.content.count("protien") == 2  # the query label, and the one note
        assert len(reply.embeds) == 5
        assert not any("spelling" in e["description"].casefold() for e in reply.embeds)


def paperbot(*argv: str) -> subprocess.CompletedProcess:
    return run_cli(argv)


async def test_cli_search_says_the_count_in_the_same_words(tmp_path) -> None:
    db = str(tmp_path / "cli.db")
    done = paperbot("ingest", str(SAMPLE_DUMP), "--db", db, "--date", "2026-03-14")
    assert done.returncode == 0, done.stderr
    found = paperbot("search", "model", "--limit", "5", "--db", db)
    assert found.returncode == 0, found.stderr
    from storage import open_storage

    async with await open_storage(db) as storage:
        expected = await all_matches(storage, "model")
    assert found.stdout.splitlines()[0] == f'Results 1–5 of {expected} for "model"'
    fixed = paperbot("search", "protien langauge", "--limit", "3", "--db", db)
    lines = fixed.stdout.splitlines()
    assert lines[1] == 'Spelling corrected: "protien" → "protein", "langauge" → "language"'
    assert "spelling" not in "\n".join(lines[2:])
    none = paperbot("search", "zzzqqq", "--db", db)
    assert none.stdout.strip() == (
        'No papers found for "zzzqqq". Try fewer or different words, or a topic.'
    )


# --- a widened search: the same count and words whatever the page size --------------------


def widened_queries(titles: list[str]) -> list[str]:
    """Two-word queries from the sample's own titles: a distinctive word of one title
    with one of the next, so few papers hold both and many hold either."""
    longest = [sorted(words(t), key=len, reverse=True) for t in titles]
    return [f"{a[0]} {b[0]}" for a, b in itertools.pairwise(longest) if a and b]


async def test_widening_does_not_depend_on_how_many_results_are_asked_for(
    backend_sample_storage,
) -> None:
    storage = backend_sample_storage
    service = SearchService(storage, load_default_topics())
    titles = [title for _, title in await storage.all_titles()]
    checked = 0
    for query in widened_queries(titles)[:30]:
        every = set(await all_ids(storage, query))
        some = await all_matches(storage, query, match_all=False)
        if len(every) >= WIDEN_BELOW or some <= len(every):
            continue  # not a widened search
        checked += 1
        answers = [await service.search(query, limit=n) for n in (2, 5, 10, 50)]
        # The same count, and the same account of it, at every page size.
        assert {a.total for a in answers} == {some}, query
        assert {a.every_word for a in answers} == {len(every)}, query
        # The papers holding every word come first, then those with some of the words.
        widest = answers[-1]
        leading = [h.paper.id for h in widest.hits[: len(every)]]
        assert set(leading) == every, query
        # A short page shows papers holding every word before any other.
        first_page = {h.paper.id for h in answers[0].hits}
        assert first_page <= every or every <= first_page, query
    assert checked >= 10


async def all_ids(storage, text: str) -> list[int]:
    hits = await storage.text_search(
        parse_query(text), match_all=True, topic=None, since=None, limit=EVERYTHING
    )
    return [pid for pid, _ in hits]


async def test_the_cli_and_discord_count_a_widened_search_in_the_same_words(tmp_path) -> None:
    query = "protein language"
    db = str(tmp_path / "cli.db")
    done = paperbot("ingest", str(SAMPLE_DUMP), "--db", db, "--date", "2026-03-14")
    assert done.returncode == 0, done.stderr
    from storage import open_storage

    async with await open_storage(db) as storage:
        every = await all_matches(storage, query)
        some = await all_matches(storage, query, match_all=False)
    assert 2 <= every < 5 < some  # few papers hold both words, many hold one
    said = f"{every} hold every word, then papers with some of them"
    for limit in (2, 5, 10):
        found = paperbot("search", query, "--limit", str(limit), "--db", db)
        assert found.returncode == 0, found.stderr
        assert found.stdout.splitlines()[0] == (
            f'Results 1–{limit} of {some} for "{query}" — {said}'
        )
    async with bot_against_fake(tmp_path) as (fake, _, ids):
        reply = await fake.invoke(ids.guild, ids.channel, ids.user, "search", {"query": query})
    top = " (top 50 shown)" if some > 50 else ""
    assert reply.content == f"Results 1–5 of {some} for `{query}`{top} — {said}"
