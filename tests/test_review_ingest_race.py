"""Review finding: two bot processes sharing DUMPS_DIR (as deploy/systemd's units do)
both fetch DUMP_URL into it. Each must write through a temporary file of its own: a
shared one is truncated by the other process mid-write, then renamed away under it."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from aiohttp import web

FETCH_SECONDS = 6.0  # each process fetches again and again for this long
PAD = 16 * 1024 * 1024  # big enough that writing the file takes a while

# One bot process (a real PaperBot and its IngestJob) fetching the day's dump again
# and again; exit status 0 only if every fetch left a whole, parseable dump.
PROCESS = textwrap.dedent(
    """
    import asyncio, datetime as dt, json, sys, time
    from pathlib import Path
    from bot.client import PaperBot
    from bot.ingest_job import IngestJob
    from bot.settings import Settings
    from storage import open_storage

    async def main(url, folder, db, start, seconds):
        settings = Settings(token="x", db=db, dumps_dir=Path(folder), dump_url=url)
        storage = await open_storage(db)
        try:
            bot = PaperBot(settings=settings, storage=storage, extensions=(),
                           start_scheduler=False, sync_commands=False)
            job = IngestJob(bot)
            # Both processes start fetching at the same moment, for the same time.
            await asyncio.sleep(max(0.0, float(start) - time.time()))
            while True:
                path = await job.fetch(dt.date(2026, 3, 16))
                assert path is not None
                json.loads(path.read_bytes())
                if time.time() > float(start) + float(seconds):
                    break
        finally:
            await storage.close()

    asyncio.run(main(*sys.argv[1:]))
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    start = time.time() + 3  # after both processes have imported discord.py
    try:
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                PROCESS,
                url,
                str(folder),
                str(tmp_path / f"p{n}.db"),
                str(start),
                str(FETCH_SECONDS),
                cwd=root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for n in range(2)
        ]
        results = [await p.communicate() for p in procs]
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
            "0",
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
