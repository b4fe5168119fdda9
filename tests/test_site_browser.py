"""The site in a real browser: headless Chromium (the OS's package, driven by Selenium)
loads the exported index and a day page from disk and from the live server, the papers
are in the page as drawn, the stylesheet applies, and links lead to pages of the site.

Never skipped: without Chromium this fails and says how to install it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest
from selenium.webdriver.common.by import By

from bot.core.ingest import ingest_bytes
from bot.core.render import one_line
from bot.core.topics import load_default_topics
from bot.services.site.export import export_site
from bot.services.site.pages import Site, SitePages
from bot.services.site.server import SiteServer
from tests.browser import BrowserMissing, headless_chromium
from tests.site_data import SAMPLE_DAY, write_dumps


@pytest.fixture
def chromium():
    try:
        with headless_chromium() as chrome:
            yield chrome
    except BrowserMissing as exc:
        pytest.fail(str(exc))


async def exported(storage, tmp_path: Path) -> Path:
    for path, day in write_dumps(tmp_path / "in"):
        report = await ingest_bytes(storage, path.read_bytes(), path.name, cli_date=day)
        assert report.error is None, report.error
    await export_site(storage, Site(load_default_topics()), tmp_path / "site")
    return tmp_path / "site"


def file_of(url: str) -> Path:
    parts = urlsplit(url)
    assert parts.scheme == "file", url
    return Path(url2pathname(parts.path))


async def test_chromium_renders_the_index_and_a_day_and_follows_links(
    storage, tmp_path, chromium
) -> None:
    site = await exported(storage, tmp_path)
    chromium.get((site / "index.html").as_uri())
    assert chromium.title == "paperbot: papers by day"
    days = chromium.find_elements(By.CSS_SELECTOR, "ul.days li a")
    assert [d.text for d in days] == ["Sat 14 Mar 2026", "Thu 12 Mar 2026", "Tue 10 Mar 2026"]
    # The stylesheet, reached by a relative link, applies.
    body = chromium.find_element(By.TAG_NAME, "body")
    assert body.value_of_css_property("max-width") == "832px"  # 52rem

    days[0].click()
    assert file_of(chromium.current_url) == site / "days" / f"{SAMPLE_DAY.isoformat()}.html"
    stored = [one_line(p.title) for p in await storage.papers_on_day(SAMPLE_DAY)]
    titles = chromium.find_elements(By.CSS_SELECTOR, "li.paper h2 a")
    assert [t.text for t in titles] == stored
    assert titles[0].is_displayed() and titles[0].size["height"] > 0
    hrefs = chromium.execute_script(  # one round trip for the page's ~300 links
        "return Array.from(document.querySelectorAll('a[href]'), a => a.href)"
    )
    assert len(hrefs) > 98 * 2
    for href in hrefs:
        if href.startswith("file:"):  # inside the site: a file of it
            target = file_of(href)
            assert target.is_file() and target.is_relative_to(site), href
        else:
            assert href.startswith("https://"), href

    titles[0].click()
    page = file_of(chromium.current_url)
    assert page.parent == site / "papers" and page.is_file()
    assert chromium.find_element(By.TAG_NAME, "h1").text == stored[0]
    chromium.find_element(By.LINK_TEXT, "Sat 14 Mar 2026").click()  # back by "Seen on"
    assert file_of(chromium.current_url).name == f"{SAMPLE_DAY.isoformat()}.html"


async def test_chromium_shows_a_hostile_title_as_text_and_runs_no_script(
    storage, tmp_path, chromium
) -> None:
    from tests.site_data import HOSTILE_TITLE, MIDDLE_DAY

    site = await exported(storage, tmp_path)
    chromium.get((site / "days" / f"{MIDDLE_DAY.isoformat()}.html").as_uri())
    titles = [t.text for t in chromium.find_elements(By.CSS_SELECTOR, "li.paper h2 a")]
    assert HOSTILE_TITLE in titles
    assert chromium.find_elements(By.TAG_NAME, "script") == []
    assert chromium.find_elements(By.TAG_NAME, "img") == []
    assert (
        chromium.execute_script("return document.title") == "Papers of Thu 12 Mar 2026 · paperbot"
    )


async def test_chromium_browses_the_live_site(storage, tmp_path, chromium) -> None:
    await exported(storage, tmp_path)
    server = SiteServer(SitePages(storage, Site(load_default_topics())), "127.0.0.1", 0)
    await server.start()
    try:
        base = f"http://127.0.0.1:{server.port}/"

        # The driver blocks; the server answers from this loop, so drive it from a thread.
        def browse() -> tuple[str, str, int]:
            chromium.get(base)
            chromium.find_element(By.CSS_SELECTOR, "ul.days li a").click()
            count = len(chromium.find_elements(By.CSS_SELECTOR, "li.paper"))
            day_url = chromium.current_url
            chromium.find_element(By.CSS_SELECTOR, "li.paper h2 a").click()
            return day_url, chromium.current_url, count

        day_url, paper_url, count = await asyncio.to_thread(browse)
        assert day_url == f"{base}days/{SAMPLE_DAY.isoformat()}.html"
        assert count == 98
        assert paper_url.startswith(f"{base}papers/") and paper_url.endswith(".html")
    finally:
        await server.stop()


def test_a_missing_browser_fails_saying_how_to_install_it(monkeypatch, tmp_path) -> None:
    from tests.browser import find_chromium

    monkeypatch.setenv("PATH", str(tmp_path))  # nothing to find there
    with pytest.raises(BrowserMissing, match=r"bash \.ci/chromium"):
        find_chromium()
