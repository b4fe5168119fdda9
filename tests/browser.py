"""A real headless Chromium for the site's tests, driven with Selenium through the OS's
chromedriver (Debian's `chromium` and `chromium-driver`; `.ci/chromium` installs them).

`python -m tests.browser` retakes the README's screenshot (docs/site-screenshot.png):
the bundled sample exported as a site, its day page as Chromium draws it.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "site-screenshot.png"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
INSTALL = (
    "the browser tests need Chromium and its WebDriver: run `bash .ci/chromium` "
    "(or `apt-get install chromium chromium-driver` as root)"
)


class BrowserMissing(RuntimeError):
    pass


def find_chromium() -> tuple[str, str]:
    """(the browser, its chromedriver); BrowserMissing says how to install them."""
    browser = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        raise BrowserMissing(INSTALL)
    return browser, driver


@contextmanager
def headless_chromium(width: int = 1000, height: int = 800) -> Iterator[webdriver.Chrome]:
    browser, driver = find_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
        "--disable-gpu",
        "--disable-dev-shm-usage",  # a container's small /dev/shm
        "--hide-scrollbars",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    chrome = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    try:
        yield chrome
    finally:
        chrome.quit()


async def _sample_site(folder: Path) -> Path:
    from bot.core.ingest import ingest_bytes
    from bot.core.topics import load_default_topics
    from bot.services.site.export import export_site
    from bot.services.site.pages import Site
    from storage import open_storage
    from tests.site_data import SAMPLE, SAMPLE_DAY

    storage = await open_storage(str(folder / "sample.db"))
    try:
        report = await ingest_bytes(storage, SAMPLE.read_bytes(), SAMPLE.name, cli_date=SAMPLE_DAY)
        assert report.error is None, report.error
        await export_site(storage, Site(load_default_topics()), folder / "site")
    finally:
        await storage.close()
    return folder / "site" / "days" / f"{SAMPLE_DAY.isoformat()}.html"


def take_screenshot(out: Path = SCREENSHOT) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        page = asyncio.run(_sample_site(Path(scratch)))
        with headless_chromium(width=900, height=620) as chrome:
            chrome.get(page.as_uri())
            chrome.save_screenshot(str(out))


if __name__ == "__main__":
    try:
        take_screenshot()
    except BrowserMissing as exc:
        sys.exit(str(exc))
    print(f"wrote {SCREENSHOT.relative_to(ROOT)}")
