"""The periodic ingest job: dump files dropped into DUMPS_DIR, and the day's dump fetched
from DUMP_URL (a loopback HTTP server here), ingested into a real SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from aiohttp import web

from bot.cli.settings import Settings
from bot.core.topics import load_default_topics
from bot.services.ingest_job import IngestJob
from bot.services.topics import TopicCatalog
from tests.conftest import SAMPLE_DUMP
from tests.loopback import free_port

TODAY = dt.date(2026, 3, 16)
NOON = dt.datetime(2026, 3, 16, 12, tzinfo=dt.UTC)

SMALL_DUMP = """new

Subscribe

Mar 15

Folding Proteins with Tiny Transformers

We train a small transformer to predict protein contact maps from amino acid sequences. \
The model matches far larger baselines on two benchmarks while using a tenth of the \
compute, and we release code and weights.

Quantum Error Correction for Sparse Codes

Sparse codes promise cheap fault tolerance. We present a decoder for sparse quantum codes \
that runs in linear time and improves the threshold by a third over prior decoders on \
standard noise models.
"""


def daily_papers(day: dt.date) -> list[dict]:
    """A `/api/daily_papers?date=` response, in the API's shape."""
    at = f"{day.isoformat()}T13:00:00.000Z"
    return [
        {
            "paper": {
                "id": f"2603.1{i:04d}",
                "title": title,
                "summary": summary,
                "authors": [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}],
                "upvotes": upvotes,
                "publishedAt": at,
            },
            "title": title,
            "publishedAt": at,
            "submittedOnDailyAt": at,
            "numComments": 2,
        }
        for i, (title, summary, upvotes) in enumerate(
            [
                (
                    "Sparse Mixture of Experts for Speech Recognition",
                    "We route audio frames to experts and cut speech recognition cost.",
                    41,
                ),
                (
                    "Diffusion Policies for Dexterous Manipulation",
                    "A diffusion model drives a robot hand through in-hand rotation.",
                    7,
                ),
            ]
        )
    ]


class DumpServer:
    """A loopback stand-in for the daily_papers API: answers `status` with `body`."""

    def __init__(self) -> None:
        self.status = 200
        self.body: object = None
        self.requests: list[str] = []
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        if self.status != 200:
            return web.Response(status=self.status, text="nope")
        day = dt.date.fromisoformat(request.query["date"])
        body = self.body if self.body is not None else daily_papers(day)
        return web.json_response(body)

    @contextlib.asynccontextmanager
    async def running(self):
        app = web.Application()
        app.router.add_get("/api/daily_papers", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = runner.addresses[0][1]
        try:
            yield self
        finally:
            await runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/daily_papers?date={{date}}"


@contextlib.asynccontextmanager
async def ingest_job(storage, tmp_path, **overrides):
    """The folder watcher of one process: no Discord client, just its ports."""
    settings = dataclasses.replace(
        Settings(), db=str(tmp_path / "paperbot.db"), dumps_dir=tmp_path / "dumps", **overrides
    )
    topics = TopicCatalog(storage, load_default_topics())
    yield IngestJob(store=storage, topics=topics, settings=settings, clock=lambda: NOON)


def warnings_of(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "paperbot.ingest" and r.levelno == logging.WARNING
    ]


@pytest.fixture(autouse=True)
def _log_level(caplog):
    caplog.set_level(logging.INFO, logger="paperbot")


# --- DUMPS_DIR ----------------------------------------------------------------------------


async def test_a_dropped_dump_is_ingested_once(storage, tmp_path, caplog) -> None:
    async with ingest_job(storage, tmp_path) as job:
        folder = job.settings.dumps_dir
        assert await job.run(TODAY) == []  # no folder yet: nothing to do
        folder.mkdir()
        (folder / "2026-03-14.txt").write_bytes(SAMPLE_DUMP.read_bytes())

        [report] = await job.run(TODAY)
        assert report.error is None
        assert (report.day, report.new) == (dt.date(2026, 3, 14), 98)
        assert (await storage.stats())["papers"] == 98
        assert await storage.days() == [dt.date(2026, 3, 14)]
        assert "ingested 2026-03-14.txt: 98 new, 0 known" in caplog.messages

        # The next tick skips the file it has seen.
        assert await job.run(TODAY) == []
        assert (await storage.stats())["dumps"] == 1

        # A second dump dropped later is picked up on its own.
        (folder / "2026-03-15.txt").write_text(SMALL_DUMP, encoding="utf-8")
        [later] = await job.run(TODAY)
        assert (later.day, later.new) == (dt.date(2026, 3, 15), 2)
        assert (await storage.stats())["papers"] == 100
    assert warnings_of(caplog) == []


async def test_after_a_restart_a_seen_dump_changes_nothing(storage, tmp_path) -> None:
    async with ingest_job(storage, tmp_path) as job:
        job.settings.dumps_dir.mkdir()
        (job.settings.dumps_dir / "2026-03-15.txt").write_text(SMALL_DUMP, encoding="utf-8")
        await job.run(TODAY)
    async with ingest_job(storage, tmp_path) as restarted:
        [report] = await restarted.run(TODAY)
        assert report.already_ingested
        assert (await storage.stats())["papers"] == 2


async def test_a_bad_file_is_refused_and_the_others_still_ingested(
    storage, tmp_path, caplog
) -> None:
    async with ingest_job(storage, tmp_path) as job:
        folder = job.settings.dumps_dir
        folder.mkdir()
        (folder / "2026-03-13.txt").write_bytes(SMALL_DUMP.replace("a", "é").encode("latin-1"))
        (folder / "2026-03-14.json").write_text('[{"paper": {"title": "x"', encoding="utf-8")
        (folder / "2026-03-15.txt").write_text(SMALL_DUMP, encoding="utf-8")
        (folder / "notes.pdf").write_bytes(b"%PDF-1.4 not a dump")  # not a dump suffix

        reports = await job.run(TODAY)
        assert [r.error is None for r in reports] == [False, False, True]
        assert "not UTF-8 text" in reports[0].error
        assert "invalid JSON" in reports[1].error
        assert await storage.days() == [dt.date(2026, 3, 15)]
        assert (await storage.stats())["papers"] == 2
        problems = warnings_of(caplog)
        assert len(problems) == 2
        assert all(m.startswith("ingest refused ") for m in problems)

        # A refused file is not retried every tick, but a fixed one is.
        assert await job.run(TODAY) == []
        (folder / "2026-03-13.txt").write_text(SMALL_DUMP.replace("Mar 15", "Mar 13"))
        [fixed] = await job.run(TODAY)
        assert fixed.error is None and fixed.day == dt.date(2026, 3, 13)


# --- DUMP_URL -----------------------------------------------------------------------------


async def test_the_days_dump_is_downloaded_and_ingested(storage, tmp_path, caplog) -> None:
    server = DumpServer()
    async with server.running(), ingest_job(storage, tmp_path, dump_url=server.url) as job:
        [report] = await job.run(TODAY)
        assert server.requests == ["/api/daily_papers?date=2026-03-16"]
        saved = job.settings.dumps_dir / "2026-03-16.json"
        assert json.loads(saved.read_text(encoding="utf-8")) == daily_papers(TODAY)
        assert [p.name for p in job.settings.dumps_dir.iterdir()] == ["2026-03-16.json"]
        assert (report.error, report.format, report.day, report.new) == (
            None,
            "json",
            TODAY,
            2,
        )
        papers = await storage.papers_on_day(TODAY)
        assert {(p.arxiv_id, p.upvotes) for p in papers} == {("2603.10000", 41), ("2603.10001", 7)}
        speech = next(p for p in papers if p.arxiv_id == "2603.10000")
        assert speech.authors == ("Ada Lovelace", "Alan Turing")
        assert "speech-audio" in {h.topic for h in speech.topics}

        # The next tick downloads again (the day's list grows), but an unchanged dump
        # is not ingested a second time.
        assert await job.run(TODAY) == []
        assert len(server.requests) == 2
        assert (await storage.stats())["dumps"] == 1
    assert warnings_of(caplog) == []


async def test_a_grown_dump_adds_only_the_new_papers(storage, tmp_path) -> None:
    server = DumpServer()
    async with server.running(), ingest_job(storage, tmp_path, dump_url=server.url) as job:
        server.body = daily_papers(TODAY)[:1]
        [first] = await job.run(TODAY)
        assert first.new == 1
        server.body = None  # later that day: both papers
        [second] = await job.run(TODAY)
        assert (second.new, second.known) == (1, 1)
        assert (await storage.stats())["papers"] == 2


async def test_no_papers_yet_is_not_an_error(storage, tmp_path, caplog) -> None:
    server = DumpServer()
    server.body = []  # what the API answers for a day with no papers (yet)
    async with server.running(), ingest_job(storage, tmp_path, dump_url=server.url) as job:
        assert await job.run(TODAY) == []
        assert await job.run(TODAY) == []
        assert not job.settings.dumps_dir.exists() or not any(job.settings.dumps_dir.iterdir())
        assert (await storage.stats())["papers"] == 0
    assert warnings_of(caplog) == []


@pytest.mark.parametrize("status", [404, 500])
async def test_an_http_error_logs_a_warning_and_changes_nothing(
    storage, tmp_path, caplog, status
) -> None:
    server = DumpServer()
    server.status = status
    async with server.running(), ingest_job(storage, tmp_path, dump_url=server.url) as job:
        assert await job.run(TODAY) == []
        assert len(server.requests) == 1
        assert not job.settings.dumps_dir.exists()
        assert (await storage.stats())["papers"] == 0
    assert warnings_of(caplog) == [f"DUMP_URL answered {status} for 2026-03-16"]


async def test_a_refused_connection_logs_a_warning_and_changes_nothing(
    storage, tmp_path, caplog
) -> None:
    url = f"http://127.0.0.1:{free_port()}/api/daily_papers?date={{date}}"
    async with ingest_job(storage, tmp_path, dump_url=url) as job:
        job.settings.dumps_dir.mkdir()
        (job.settings.dumps_dir / "2026-03-15.txt").write_text(SMALL_DUMP, encoding="utf-8")
        # The fetch fails, and the files already there are still ingested.
        [report] = await job.run(TODAY)
        assert report.day == dt.date(2026, 3, 15)
        assert [p.name for p in job.settings.dumps_dir.iterdir()] == ["2026-03-15.txt"]
        assert (await storage.stats())["papers"] == 2
    [warning] = warnings_of(caplog)
    assert warning.startswith("could not fetch the dump for 2026-03-16: ")


async def test_the_job_defaults_to_the_clocks_day(storage, tmp_path) -> None:
    server = DumpServer()
    async with server.running(), ingest_job(storage, tmp_path, dump_url=server.url) as job:
        await job.run()
        assert server.requests == [f"/api/daily_papers?date={NOON.date().isoformat()}"]


# -- two bot processes sharing DUMPS_DIR ---------------------------------------------------
# Both fetch DUMP_URL into it (as deploy/systemd's units do). Each must write through a
# temporary file of its own: a shared one is truncated by the other process mid-write,
# then renamed away under it.

FETCH_SECONDS = 6.0  # each process fetches again and again for this long
PAD = 16 * 1024 * 1024  # big enough that writing the file takes a while

# One bot process (a real IngestJob, as the bot builds it) fetching the day's dump again
# and again; exit status 0 only if every fetch left a whole, parseable dump.
PROCESS = textwrap.dedent(
    """
    import asyncio, datetime as dt, json, sys, time
    from pathlib import Path
    from bot.cli.settings import Settings
    from bot.core.topics import load_default_topics
    from bot.services.ingest_job import IngestJob
    from bot.services.topics import TopicCatalog
    from storage import open_storage

    async def main(url, folder, db, barrier, seconds):
        settings = Settings(token="x", db=db, dumps_dir=Path(folder), dump_url=url)
        storage = await open_storage(db)
        try:
            topics = TopicCatalog(storage, load_default_topics())
            job = IngestJob(store=storage, topics=topics, settings=settings,
                            clock=lambda: dt.datetime.now(dt.UTC))
            if barrier:
                # Ready; every process starts fetching when the test says go.
                gate = Path(barrier)
                (gate / f"ready-{Path(db).name}").touch()
                while not (gate / "go").exists():
                    await asyncio.sleep(0.01)
            start = time.time()
            while True:
                path = await job.fetch(dt.date(2026, 3, 16))
                assert path is not None
                json.loads(path.read_bytes())
                if time.time() > start + float(seconds):
                    break
        finally:
            await storage.close()

    asyncio.run(main(*sys.argv[1:]))
    """
)


async def both_ready(barrier: Path, procs: list[asyncio.subprocess.Process]) -> bool:
    """True once every process is at the start line; False if one exited first."""
    while len(list(barrier.glob("ready-*"))) < len(procs):
        if any(p.returncode is not None for p in procs):
            return False
        await asyncio.sleep(0.01)
    return True


async def test_two_processes_fetching_into_one_dumps_dir(tmp_path: Path) -> None:
    served = 0

    async def daily_papers(request: web.Request) -> web.Response:
        nonlocal served
        served += 1  # the day's list changes between requests: every fetch rewrites
        body = json.dumps([{"title": f"paper {served}", "pad": "x" * PAD}])
        return web.Response(text=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/daily_papers", daily_papers)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}/api/daily_papers?date={{date}}"
    folder = tmp_path / "dumps"
    root = Path(__file__).resolve().parent.parent
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    try:
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                PROCESS,
                url,
                str(folder),
                str(tmp_path / f"p{n}.db"),
                str(barrier),
                str(FETCH_SECONDS),
                cwd=root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for n in range(2)
        ]
        finished = asyncio.gather(*(p.communicate() for p in procs))
        try:
            # Both processes have opened their database.
            ready = await asyncio.wait_for(both_ready(barrier, procs), 120)
        finally:
            (barrier / "go").touch()  # even after a failure: no process waits forever
        results = await finished
        assert ready, [err.decode()[-2000:] for _, err in results]
    finally:
        await runner.cleanup()
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]
    assert served > 4, served
    assert [p.name for p in folder.iterdir()] == ["2026-03-16.json"]
    json.loads((folder / "2026-03-16.json").read_bytes())


async def test_a_dump_larger_than_one_network_chunk_is_saved_whole(tmp_path: Path) -> None:
    """One process: a real day's JSON (a few hundred KB) arrives in many chunks; the
    saved file must be all of it, not the first chunk."""
    body = json.dumps([{"title": f"paper {i}", "summary": "y" * 500} for i in range(600)])

    async def daily_papers(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/daily_papers", daily_papers)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}/api/daily_papers?date={{date}}"
    root = Path(__file__).resolve().parent.parent
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            PROCESS,
            url,
            str(tmp_path / "dumps"),
            str(tmp_path / "p.db"),
            "",  # no barrier: one process
            "0",
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        _, err = await proc.communicate()
    finally:
        await runner.cleanup()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert (tmp_path / "dumps" / "2026-03-16.json").read_text(encoding="utf-8") == body


async def test_new_papers_are_handed_on_and_close_stops_the_uploads_background_work(
    storage, tmp_path
) -> None:
    """After a scan stores new papers the follow-up (their vectors) is awaited; after an
    upload it runs in the background, and `close` stops it before storage goes away."""
    calls: list[str] = []
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def after() -> None:
        calls.append("after")
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    settings = dataclasses.replace(
        Settings(), db=str(tmp_path / "paperbot.db"), dumps_dir=tmp_path / "dumps"
    )
    topics = TopicCatalog(storage, load_default_topics())
    job = IngestJob(
        store=storage, topics=topics, settings=settings, clock=lambda: NOON, after_new_papers=after
    )
    report = await job.ingest_upload(SMALL_DUMP.encode(), "2026-03-15.txt")
    assert report.new == 2
    await asyncio.wait_for(started.wait(), 5)  # the reply did not wait for it
    await job.close()
    assert cancelled.is_set() and calls == ["after"]
    # The same dump again stores nothing new: nothing to hand on.
    again = await job.ingest_upload(SMALL_DUMP.encode(), "2026-03-15.txt")
    assert again.already_ingested and calls == ["after"]
