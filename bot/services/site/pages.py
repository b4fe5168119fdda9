"""Every page of the site, read through the `SiteReader` port: all of them in turn for
an export (`site_files`), or one at a time for the live server (`SitePages.page`).
Both render with the same functions, so the files and the served pages are the same."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from bot.core.models import StoredPaper, Topic
from bot.core.ports import SiteReader
from bot.services.site import html, paths
from bot.services.site.atom import FeedInfo, atom_feed
from bot.services.site.views import PaperView, paper_view

ALL_DAYS = 1_000_000  # day_counts' limit when every day is wanted
FEED_DAYS = 30  # the feeds hold papers from this many newest days with papers...
FEED_PAPERS = 100  # ...at most this many in the feed of everything,
TOPIC_FEED_PAPERS = 50  # and this many in each topic's feed

Href = Callable[[str], str]  # a site path -> the link a feed carries to it


def feed_links(base_url: str | None, feed_path: str) -> Href:
    """Links as a feed carries them: relative to the feed, or absolute under `base_url`
    (the address the site is published at), which feed readers prefer."""
    if base_url:
        base = base_url.rstrip("/") + "/"
        return lambda target: base + target
    return lambda target: paths.relative(feed_path, target)


@dataclass
class FeedCollector:
    """The papers of the feeds, fed a day's papers at a time, newest day first."""

    topic_slugs: Sequence[str]
    everything: list[PaperView] = field(default_factory=list)
    by_topic: dict[str, list[PaperView]] = field(default_factory=dict)
    _seen: set[tuple[str, int]] = field(default_factory=set)

    def add(self, papers: Sequence[PaperView]) -> None:
        for paper in papers:
            self._keep("", paper, self.everything, FEED_PAPERS)
            for topic in paper.topics:
                kept = self.by_topic.setdefault(topic.slug, [])
                self._keep(topic.slug, paper, kept, TOPIC_FEED_PAPERS)

    def _keep(self, feed: str, paper: PaperView, kept: list[PaperView], most: int) -> None:
        if len(kept) < most and (feed, paper.id) not in self._seen:
            self._seen.add((feed, paper.id))
            kept.append(paper)


@dataclass(frozen=True)
class Site:
    """What the pages need besides the store: the built-in topics (a server's own
    topics stay out of a public site) and the address the site is published at."""

    topics: Sequence[Topic]
    base_url: str | None = None

    @property
    def topic_names(self) -> dict[str, str]:
        return {t.slug: t.name for t in self.topics}

    def views(self, papers: Sequence[StoredPaper]) -> list[PaperView]:
        names = self.topic_names
        return [paper_view(p, names) for p in papers]

    def feed_all(self, papers: Sequence[PaperView], newest: dt.date | None) -> bytes:
        info = FeedInfo(paths.FEED_ALL, "paperbot: all papers", "The newest papers.", newest)
        return atom_feed(info, papers, feed_links(self.base_url, info.path))

    def feed_topic(
        self, topic: Topic, papers: Sequence[PaperView], newest: dt.date | None
    ) -> bytes:
        path = paths.topic_feed(topic.slug)
        info = FeedInfo(
            path, f"paperbot: {topic.name}", f"The newest papers on {topic.name}.", newest
        )
        return atom_feed(info, papers, feed_links(self.base_url, path))


def _neighbours(days: Sequence[dt.date], at: int) -> tuple[dt.date | None, dt.date | None]:
    """(the newer day, the older day) around `days[at]`, days newest first."""
    newer = days[at - 1] if at > 0 else None
    older = days[at + 1] if at + 1 < len(days) else None
    return newer, older


async def site_files(
    reader: SiteReader,
    site: Site,
    progress: Callable[[int, int], None] | None = None,
) -> AsyncIterator[tuple[str, bytes]]:
    """Every file of the site as (site path, content), one day's papers in memory at a
    time. `progress(done, total)` is called after each day."""
    counts = await reader.day_counts(ALL_DAYS)
    days = [day for day, _ in counts]
    yield paths.STYLE, html.style_sheet()
    yield paths.INDEX, html.index_page(counts, site.topics)
    feeds = FeedCollector([t.slug for t in site.topics])
    done_papers: set[int] = set()
    for at, day in enumerate(days):
        views = site.views(await reader.papers_on_day(day))
        yield paths.day_page(day), html.day_page(day, views, *_neighbours(days, at))
        for view in views:
            if view.id not in done_papers:
                done_papers.add(view.id)
                yield paths.paper_page(view.id), html.paper_page(view)
        if at < FEED_DAYS:
            feeds.add(views)
        if progress is not None:
            progress(at + 1, len(days))
    newest = days[0] if days else None
    yield paths.FEED_ALL, site.feed_all(feeds.everything, newest)
    for topic in site.topics:
        yield (
            paths.topic_feed(topic.slug),
            site.feed_topic(topic, feeds.by_topic.get(topic.slug, []), newest),
        )


@dataclass(frozen=True)
class Page:
    content_type: str
    body: bytes


HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
CSS = "text/css; charset=utf-8"


class SitePages:
    """One page at a time, for the live server: read from the store on request and
    rendered in a worker thread (templates and XML are CPU work the event loop must not
    wait on). Rendered pages are kept until the store's data changes."""

    def __init__(self, reader: SiteReader, site: Site, cache_pages: int = 256) -> None:
        self.reader = reader
        self.site = site
        self._topics = {t.slug: t for t in site.topics}
        self._cache: dict[str, Page] = {}
        self._cache_pages = cache_pages
        self._version: int | None = None

    async def page(self, path: str) -> Page | None:
        """The page at site path `path` ("" is the index), or None: no such page."""
        path = path or paths.INDEX
        version = await self.reader.data_version()
        if version != self._version:
            self._cache.clear()
            self._version = version
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        page = await self._render(path)
        if page is not None:
            if len(self._cache) >= self._cache_pages:
                self._cache.pop(next(iter(self._cache)))  # the oldest first
            self._cache[path] = page
        return page

    async def _render(self, path: str) -> Page | None:
        if path == paths.STYLE:
            return Page(CSS, html.style_sheet())
        if path == paths.INDEX:
            counts = await self.reader.day_counts(ALL_DAYS)
            return Page(HTML, await asyncio.to_thread(html.index_page, counts, self.site.topics))
        day = paths.day_of(path)
        if day is not None:
            return await self._day(day)
        paper_id = paths.paper_of(path)
        if paper_id is not None:
            found = await self.reader.get_papers([paper_id])
            if not found:
                return None
            return Page(HTML, await asyncio.to_thread(self._paper, found[0]))
        if path == paths.FEED_ALL:
            return await self._feed(None)
        slug = paths.topic_of(path)
        if slug is not None and slug in self._topics:
            return await self._feed(self._topics[slug])
        return None

    def _paper(self, paper: StoredPaper) -> bytes:
        return html.paper_page(self.site.views([paper])[0])

    async def _day(self, day: dt.date) -> Page | None:
        days = [d for d, _ in await self.reader.day_counts(ALL_DAYS)]
        if day not in days:
            return None
        stored = await self.reader.papers_on_day(day)
        newer, older = _neighbours(days, days.index(day))

        def render() -> bytes:
            return html.day_page(day, self.site.views(stored), newer, older)

        return Page(HTML, await asyncio.to_thread(render))

    async def _feed(self, topic: Topic | None) -> Page:
        days = [d for d, _ in await self.reader.day_counts(FEED_DAYS)]
        stored = [await self.reader.papers_on_day(day) for day in days]
        newest = days[0] if days else None

        def render() -> bytes:
            feeds = FeedCollector([t.slug for t in self.site.topics])
            for papers in stored:
                feeds.add(self.site.views(papers))
            if topic is None:
                return self.site.feed_all(feeds.everything, newest)
            return self.site.feed_topic(topic, feeds.by_topic.get(topic.slug, []), newest)

        return Page(ATOM, await asyncio.to_thread(render))
