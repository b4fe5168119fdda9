"""The scheduled fetch of arXiv's announcement feed (ARXIV_CATEGORIES), from a loopback
server answering with real feeds, into DUMPS_DIR and a real SQLite file."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.cli.settings import Settings, SettingsError
from bot.core.topics import load_default_topics
from bot.services.ingest_job import IngestJob
from bot.services.topics import TopicCatalog

ARXIV = Path(__file__).resolve().parent / "data" / "arxiv"
NOON = dt.datetime(2026, 4, 27, 12, tzinfo=dt.UTC)


class FeedServer:
    """rss.arxiv.org on loopback: `/rss/<categories>` answers with `body`."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.paths: list[str] = []
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.paths.append(request.path)
        return web.Response(body=self.body, content_type="application/rss+xml")

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FeedServer]:
        app = web.Application()
        app.router.add_get("/rss/{categories}", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = runner.addresses[0][1]
        try:
            yield self
        finally:
            await runner.cleanup()


def job_for(storage, tmp_path: Path, server: FeedServer, categories: str) -> IngestJob:
    settings = dataclasses.replace(
        Settings.load(env_file=None, environ={"ARXIV_CATEGORIES": categories}),
        db=str(tmp_path / "paperbot.db"),
        dumps_dir=tmp_path / "dumps",
        arxiv_feed_url=f"http://127.0.0.1:{server.port}/rss/{{categories}}",
    )
    topics = TopicCatalog(storage, load_default_topics())
    return IngestJob(store=storage, topics=topics, settings=settings, clock=lambda: NOON)


async def test_the_feed_is_fetched_saved_under_its_own_day_and_ingested(storage, tmp_path) -> None:
    server = FeedServer((ARXIV / "rss_cs.AI_2026-04-27.xml").read_bytes())
    async with server.running():
        job = job_for(storage, tmp_path, server, "cs.ai, CS.LG")
        [report] = await job.run()
        assert server.paths == ["/rss/cs.AI+cs.LG"]
        assert Path(report.source).name == "2026-04-27.arxiv-cs.AI+cs.LG.xml"
        assert (report.format, report.day, report.new) == ("arxiv-rss", dt.date(2026, 4, 27), 3)
        # The next tick fetches the same feed again: the file is unchanged, nothing new.
        assert await job.run() == []
    papers = await storage.papers_on_day(dt.date(2026, 4, 27))
    assert [p.arxiv_id for p in papers] == ["2604.21935", "2604.21936", "2604.21937"]
    assert papers[1].categories == ("cs.AI", "cs.CV", "cs.MA")
    assert papers[1].day_sources == ("arxiv",)


async def test_a_weekend_feed_saves_and_stores_nothing(storage, tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="paperbot")
    server = FeedServer((ARXIV / "rss_cs_empty_sunday.xml").read_bytes())
    async with server.running():
        assert await job_for(storage, tmp_path, server, "cs").run() == []
    assert not (tmp_path / "dumps").exists() or not list((tmp_path / "dumps").iterdir())
    assert (await storage.stats())["papers"] == 0
    assert "arXiv's feed for cs announces nothing today" in caplog.messages
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_an_answer_that_is_not_a_feed_is_a_warning_and_saves_nothing(
    storage, tmp_path, caplog
) -> None:
    server = FeedServer(b"<!DOCTYPE html><html><body>Service unavailable</body></html>")
    async with server.running():
        assert await job_for(storage, tmp_path, server, "cs.CL").run() == []
    assert "arXiv's feed URL for cs.CL answered with something else" in caplog.messages


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("cs.CL,foo.XX", "'foo.XX' is not an arXiv category: arXiv has no archive 'foo'"),
        ("cs.CL;cs.LG", "'cs.CL;cs.LG' is not an arXiv category; write it like cs.CL"),
    ],
)
def test_a_bad_category_is_one_line_naming_the_setting(value: str, problem: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.load(env_file=None, environ={"ARXIV_CATEGORIES": value})
    assert str(refused.value).startswith(f"ARXIV_CATEGORIES={value} (from the environment): ")
    assert problem in str(refused.value)
