"""Searches worked out in worker processes (bot/services/search_processes.py) give the
replies the bot's own process gives, survive a worker's death, and see what is ingested
after the workers started."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import multiprocessing
import os
import random
import signal

import pytest

from bot.core.ingest import ingest_bytes
from bot.core.models import SearchResponse
from bot.core.sources import parse_source_filter
from bot.core.topics import load_default_topics
from bot.discord_app.wiring import open_search_service
from bot.services import search_processes
from bot.services.relevance_service import RelevanceService
from bot.services.search import SearchService
from bot.services.search_processes import SearchProcesses
from bot.services.topics import TopicCatalog
from storage import Storage
from tests.conftest import SAMPLE_DAY
from tests.discord_harness import bot_against_fake, settle
from tests.relevance_dumps import hf_dump, papers_by_day

# The first page a reply shows; every hit is compared after explaining the rest too.
FIRST_PAGE = 5


def two_services(
    storage: Storage, processes: int = 2
) -> tuple[SearchService, SearchService, RelevanceService]:
    """(in this process, in worker processes) over one storage and one relevance
    service, as the bot builds them."""
    topics = TopicCatalog(storage, load_default_topics())
    relevance = RelevanceService(store=storage, papers=storage, topics=topics)
    here = SearchService(storage, topics.defaults, relevance)
    there = SearchService(storage, topics.defaults, relevance)
    there.elsewhere = SearchProcesses(open_search_service, storage.path, processes)
    return here, there, relevance


def comparable(response: SearchResponse) -> tuple[object, ...]:
    """Everything a reply shows, every hit explained."""
    full = response.explained_to(len(response.hits))
    return (
        [(h.paper, h.score, h.why) for h in full.hits],
        full.total,
        full.total_exact,
        full.corrected,
        full.corrections,
        full.every_word,
        full.older,
        full.older_exact,
    )


def queries_from(titles: list[str]) -> list[str]:
    """Queries of the kinds members type, made from the sample's real titles: single
    words, two and three words, a quoted phrase, a misspelled word, a prefix."""
    rng = random.Random(15)
    found: list[str] = []
    for title in rng.sample(titles, 12):
        words = [w.strip(":,.()").lower() for w in title.split() if len(w) > 3]
        words = [w for w in words if w.isalpha()]
        if len(words) < 3:
            continue
        found += [words[0], " ".join(words[:2]), " ".join(words[-3:]), f'"{words[1]} {words[2]}"']
        long = max(words, key=len)
        found.append(long[:2] + long[3] + long[2] + long[4:])  # two letters swapped
        found.append(long[:4] + "*")
    return found


async def titles_of(storage: Storage) -> list[str]:
    return [title for _, title in await storage.recent_titles(200)]


async def test_workers_give_the_replies_this_process_gives(sample_storage) -> None:
    here, there, relevance = two_services(sample_storage)
    await relevance.sync_vectors()  # hybrid ranking: the meaning scores matter too
    source = parse_source_filter("arxiv:cs.CL")
    try:
        asked = [(q, {}) for q in queries_from(await titles_of(sample_storage))] + [
            ("language model", {"topic": "llm"}),
            ("language model", {"since": SAMPLE_DAY}),
            ("learning", {"since": SAMPLE_DAY + dt.timedelta(days=1)}),
            (None, {"topic": "robotics", "since": SAMPLE_DAY + dt.timedelta(days=1)}),
            ("reasoning", {"source": source}),
            (None, {"topic": "robotics"}),
            (None, {"source": source}),
            ("zzzzqqq", {}),
        ]
        for text, options in asked:
            mine = await here.search(text, limit=50, explain_first=FIRST_PAGE, **options)
            theirs = await there.search(text, limit=50, explain_first=FIRST_PAGE, **options)
            assert comparable(theirs) == comparable(mine), (text, options)
            assert theirs.explained == mine.explained
            # Nothing since a day after the sample's: the older matches are counted.
            if "since" in options and options["since"] > SAMPLE_DAY:
                assert theirs.older > 0 and not theirs.hits, (text, options)
    finally:
        await there.close()


async def test_an_author_search_runs_in_the_workers_alike(storage) -> None:
    for day, papers in list(papers_by_day().items())[:5]:  # real Hugging Face days
        await ingest_bytes(
            storage, hf_dump(papers), f"{day}.json", cli_date=dt.date.fromisoformat(day)
        )
    here, there, _ = two_services(storage)
    papers = await storage.get_papers([pid for pid, _ in await storage.recent_titles(30)])
    try:
        for paper in [p for p in papers if p.authors][:6]:
            author = paper.authors[-1]
            mine = await here.search(None, author=author, limit=50)
            theirs = await there.search(None, author=author, limit=50)
            assert comparable(theirs) == comparable(mine), author
            assert theirs.hits, author
    finally:
        await there.close()


async def test_autocomplete_runs_in_the_workers_and_offers_the_same_titles(
    sample_storage,
) -> None:
    here, there, _ = two_services(sample_storage)
    titles = await titles_of(sample_storage)
    # What members type: beginnings of real titles, a typo, nothing yet, an arXiv id.
    typed = [title[:cut] for title, cut in zip(titles[:40], itertools.cycle((3, 8, 15, 30)))]
    typed += ["langauge modl", "", "2403.01234", "zzzqqq"]
    try:
        for text in typed:
            assert await there.title_choices(text, 25) == await here.title_choices(text, 25), text
        assert worker_pids(), "autocomplete started no worker process"
    finally:
        await there.close()


def worker_pids() -> set[int]:
    return {child.pid for child in multiprocessing.active_children() if child.pid is not None}


async def test_the_searches_go_on_when_a_worker_dies(sample_storage) -> None:
    here, there, _ = two_services(sample_storage)
    try:
        expected = comparable(await here.search("language model", limit=50))
        assert comparable(await there.search("language model", limit=50)) == expected
        first = worker_pids()
        assert first, "no worker process was started"
        os.kill(next(iter(first)), signal.SIGKILL)
        # Every search still gets its reply: from this process while the pool is
        # broken, from new workers after.
        for _ in range(4):
            assert comparable(await there.search("language model", limit=50)) == expected
        assert worker_pids() - first, "no new worker process was started"
    finally:
        await there.close()
    assert not worker_pids(), "close() left worker processes running"


async def test_close_kills_a_worker_that_does_not_stop(sample_storage, monkeypatch) -> None:
    # A stopped process cannot finish its search or take the pool's sentinel, as a
    # worker CPython started after its pool broke never does: close() must not wait
    # for it forever.
    monkeypatch.setattr(search_processes, "STOP_GRACE_SECONDS", 0.5)
    _, there, _ = two_services(sample_storage)
    try:
        assert (await there.search("language model", limit=50)).hits
        workers = worker_pids()
        assert workers, "no worker process was started"
        wedged = next(iter(workers))
        os.kill(wedged, signal.SIGSTOP)
    finally:
        await asyncio.wait_for(there.close(), timeout=30)
    assert not worker_pids(), "close() left worker processes running"
    with pytest.raises(ProcessLookupError):
        os.kill(wedged, 0)


NEW_DUMP = """Mar 15

Quokkanet: Counting Marsupials from Drone Footage with Sparse Transformers

We count quokkas on Rottnest Island from drone footage. Quokkanet pairs a sparse \
transformer with a density map and reaches a four percent counting error.

Wombat Burrows as Seen by Ground-Penetrating Radar and a Small Vision Transformer

Ground-penetrating radar scans of wombat burrows are segmented by a small vision \
transformer; the tunnels it finds match excavated burrows in nine of ten cases.
"""


async def test_what_is_ingested_later_reaches_the_workers(sample_storage) -> None:
    # One worker: the one that searched before the ingest is the one asked after it.
    here, there, relevance = two_services(sample_storage, processes=1)
    try:
        before = await there.search("quokkanet marsupials", limit=50)
        assert not any("Quokkanet" in h.paper.title for h in before.hits)
        # A search with hits: the worker has read the relevance statistics (none yet).
        assert (await there.search("sparse transformer", limit=50)).hits
        report = await ingest_bytes(
            sample_storage,
            NEW_DUMP.encode(),
            "new.txt",
            today=SAMPLE_DAY + dt.timedelta(days=1),
        )
        assert report.error is None and report.new == 2, report
        await sample_storage.sync_search_index()
        await relevance.sync_vectors()  # the bot's ingest job does both
        after = await there.search("quokkanet marsupials", limit=50)
        assert after.hits and after.hits[0].paper.title.startswith("Quokkanet")
        # The new word is in the workers' vocabulary too: a misspelling is corrected.
        typo = await there.search("quokkanett", limit=50)
        assert typo.corrected is not None and typo.hits[0].paper.title.startswith("Quokkanet")
        for text in ("quokkanet marsupials", "quokkanett", "sparse transformer"):
            assert comparable(await there.search(text, limit=50)) == comparable(
                await here.search(text, limit=50)
            ), text
    finally:
        await there.close()


@pytest.mark.parametrize("query", ["language model", "retrieval augmented generation"])
async def test_the_bot_replies_alike_with_search_workers(tmp_path, query) -> None:
    """/search through the real client and the fake Discord: the reply with worker
    processes is the reply without them."""
    replies = []
    for processes in (0, 2):
        folder = tmp_path / f"processes-{processes}"
        folder.mkdir()
        settings = {"search_processes": processes}
        async with bot_against_fake(folder, settings=settings) as (fake, bot, ids):
            # Two searches in the works per worker process (one in it, one crossing).
            assert bot.heavy_work.at_once == (4 if processes else 2)
            reply = await fake.invoke(ids.guild, ids.channel, ids.user, "search", {"query": query})
            await settle()
            replies.append((reply.content, reply.embeds))
            assert fake.payload_problems == []
    assert replies[0][1] and replies[1] == replies[0]
