"""The live site (`paperbot run` with HTTP_PORT): the same pages and feeds as the export,
served by aiohttp on 127.0.0.1 and fetched with a real HTTP client."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp
import feedparser

from bot.core.ingest import ingest_bytes
from bot.core.topics import load_default_topics
from bot.fakediscord import FakeDiscord
from bot.services.site.export import export_site
from bot.services.site.pages import Site, SitePages
from bot.services.site.server import SiteServer
from tests.cli_process import paperbot
from tests.loopback import free_port
from tests.reliability.botproc import BotProcess
from tests.site_checks import parse_html, text_of
from tests.site_data import MIDDLE_DAY, SAMPLE_DAY, write_dumps

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


async def fill(storage, tmp_path: Path, *, upto: int = 3) -> None:
    for path, day in write_dumps(tmp_path / "in")[:upto]:
        report = await ingest_bytes(storage, path.read_bytes(), path.name, cli_date=day)
        assert report.error is None, report.error


async def serving(storage) -> SiteServer:
    server = SiteServer(SitePages(storage, Site(load_default_topics())), "127.0.0.1", 0)
    await server.start()
    return server


async def test_every_exported_file_is_served_the_same(storage, tmp_path) -> None:
    await fill(storage, tmp_path)
    folder = tmp_path / "site"
    await export_site(storage, Site(load_default_topics()), folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != ".paperbot-site")
    assert len(files) == 137
    server = await serving(storage)
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{server.port}") as http:
            for path in files:
                async with http.get("/" + path.relative_to(folder).as_posix()) as answer:
                    assert answer.status == 200, path
                    assert answer.headers["Content-Type"] == TYPES[path.suffix]
                    assert await answer.read() == path.read_bytes(), path
            async with http.get("/") as answer:  # the folder's index, as a static host
                assert await answer.read() == (folder / "index.html").read_bytes()
            async with http.head("/feeds/all.atom") as answer:
                assert answer.status == 200
    finally:
        await server.stop()


async def test_unknown_pages_are_404(storage, tmp_path) -> None:
    await fill(storage, tmp_path)
    server = await serving(storage)
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{server.port}") as http:
            for path in (
                "/nope.html",
                "/days/2020-01-01.html",  # a day with no papers
                "/days/2026-13-45.html",  # no such date
                "/days/",
                "/papers/999999.html",
                "/papers/0.html",
                "/papers/1.htm",
                "/feeds/topic/no-such-topic.atom",
                "/index.html/x",
                "/.paperbot-site",
            ):
                async with http.get(path) as answer:
                    assert answer.status == 404, path
                    assert await answer.text() == "No such page.\n"
            async with http.post("/index.html") as answer:
                assert answer.status == 405
    finally:
        await server.stop()


async def test_a_new_ingest_shows_at_once(storage, tmp_path) -> None:
    """Pages are kept between requests, until the store changes."""
    await fill(storage, tmp_path, upto=2)
    server = await serving(storage)
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{server.port}") as http:

            async def newest_day() -> str:
                async with http.get("/index.html") as answer:
                    index = parse_html(await answer.read())
                    return index.find(".//ul[@class='days']/li/a").get("href")

            assert await newest_day() == f"days/{MIDDLE_DAY.isoformat()}.html"
            async with http.get(f"/days/{SAMPLE_DAY.isoformat()}.html") as answer:
                assert answer.status == 404
            await fill(storage, tmp_path)  # the sample day arrives
            assert await newest_day() == f"days/{SAMPLE_DAY.isoformat()}.html"
            async with http.get(f"/days/{SAMPLE_DAY.isoformat()}.html") as answer:
                assert answer.status == 200
                titles = parse_html(await answer.read()).findall(".//li[@class='paper']/h2")
                assert len(titles) == 98
            async with http.get("/feeds/all.atom") as answer:
                feed = feedparser.parse(await answer.read())
                assert not feed.bozo and len(feed.entries) == 100
    finally:
        await server.stop()


async def test_many_requests_at_once_are_all_answered(storage, tmp_path) -> None:
    """Rendering runs in worker threads: concurrent requests all complete."""
    await fill(storage, tmp_path)
    server = await serving(storage)
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{server.port}") as http:

            async def fetch(path: str) -> int:
                async with http.get(path) as answer:
                    await answer.read()
                    return answer.status

            paths = [f"/papers/{n}.html" for n in range(1, 60)]
            paths += ["/feeds/all.atom", f"/days/{SAMPLE_DAY.isoformat()}.html", "/"]
            assert set(await asyncio.gather(*map(fetch, paths))) == {200}
    finally:
        await server.stop()


async def test_stopping_closes_the_port(storage, tmp_path) -> None:
    server = await serving(storage)
    port = server.port
    await server.stop()
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0


async def test_paperbot_run_serves_the_site_and_stops_cleanly(tmp_path) -> None:
    db = tmp_path / "papers.db"
    for path, day in write_dumps(tmp_path / "in"):
        done = paperbot(tmp_path, "ingest", "--db", str(db), "--date", str(day), str(path))
        assert done.returncode == 0, done.stderr
    port = free_port()
    async with FakeDiscord() as fake:
        bot = BotProcess(fake, db, tmp_path, HTTP_PORT=str(port))
        await bot.start()
        try:
            page = await fetch_when_up(f"http://127.0.0.1:{port}/days/{SAMPLE_DAY}.html")
            assert len(parse_html(page).findall(".//li[@class='paper']")) == 98
            title = text_of(parse_html(page).find(".//h1"))
            assert title == "Papers of Sat 14 Mar 2026"
        finally:
            code = await bot.stop()
        assert code == 0, bot.log_text()
    assert f"serving the site on http://127.0.0.1:{port}/" in bot.log_text()
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0


async def fetch_when_up(url: str, timeout: float = 60) -> bytes:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url) as answer:
                    assert answer.status == 200
                    return await answer.read()
            except aiohttp.ClientConnectionError:
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.2)


async def test_a_taken_port_is_one_line_and_exit_1(tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with FakeDiscord() as fake:
            bot = BotProcess(fake, tmp_path / "papers.db", tmp_path, HTTP_PORT=str(port))
            await bot.start()
            code = await asyncio.wait_for(bot.wait(), 60)
    assert code == 1
    errors = [line for line in bot.log_text().splitlines() if line.startswith("paperbot:")]
    assert errors == [
        f"paperbot: cannot serve the site on 127.0.0.1:{port} (HTTP_HOST, HTTP_PORT): "
        "Address already in use"
    ], bot.log_text()


def test_the_http_settings_are_off_and_local_by_default_and_checked(tmp_path) -> None:
    from bot.cli.settings import Settings

    defaults = Settings.load(env_file=None, environ={})
    assert defaults.http_port is None and defaults.http_host == "127.0.0.1"
    chosen = Settings.load(env_file=None, environ={"HTTP_PORT": "8080", "HTTP_HOST": "[::1]"})
    assert (chosen.http_port, chosen.http_host) == (8080, "::1")
    for value in ("0", "65536", "http", "-1"):
        done = paperbot(tmp_path, "run", HTTP_PORT=value, DISCORD_TOKEN="x")
        assert done.returncode == 2, done.stderr
        assert done.stderr == (
            f"paperbot: bad setting HTTP_PORT={value} (from the environment): must be empty "
            "(off) or a TCP port number from 1 to 65535\n"
        )
