"""The periodic ingest: fetch the day's dump from DUMP_URL and arXiv's announcement feed
for ARXIV_CATEGORIES (both optional) into DUMPS_DIR, then ingest every dump file there
that has not been seen yet; and `/ingest`'s upload.
It needs no Discord: the store, the topic catalog, two settings and a clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

import aiohttp

from bot.core.ingest import collect_dump_files, ingest_bytes
from bot.core.models import DumpError, IngestReport
from bot.core.parse import decode_dump
from bot.core.parse_arxiv import parse_arxiv_listing
from bot.core.ports import Clock, IngestStore
from bot.services.topics import TopicCatalog

log = logging.getLogger("paperbot.ingest")

FETCH_TIMEOUT = aiohttp.ClientTimeout(total=60)
MAX_DOWNLOAD_BYTES = 32 * 1024 * 1024
NO_PAPERS_YET = {b"[]", b'{"papers":[]}'}


class IngestSettings(Protocol):
    """The settings the job reads."""

    @property
    def dump_url(self) -> str: ...

    @property
    def dumps_dir(self) -> Path: ...

    @property
    def arxiv_categories(self) -> tuple[str, ...]: ...

    @property
    def arxiv_feed_url(self) -> str: ...


class IngestJob:
    def __init__(
        self,
        *,
        store: IngestStore,
        topics: TopicCatalog,
        settings: IngestSettings,
        clock: Clock,
        after_new_papers: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """`after_new_papers` runs after an ingest stored new papers (the relevance
        vectors are encoded then): awaited by `run`, in the background for an upload."""
        self.store = store
        self.after_new_papers = after_new_papers
        self._background: set[asyncio.Task[object]] = set()
        self.topics = topics
        self.settings = settings
        self.clock = clock
        self._seen: dict[Path, tuple[float, int]] = {}  # path -> (mtime, size) ingested
        self._lock = asyncio.Lock()
        self.last_reports: list[IngestReport] = []

    async def run(self, today: dt.date | None = None) -> list[IngestReport]:
        async with self._lock:  # a slow run must not overlap the next tick
            today = today or self.clock().date()
            if self.settings.dump_url:
                await self.fetch(today)
            if self.settings.arxiv_categories:
                await self.fetch_arxiv()
            return await self.scan(today)

    async def ingest_upload(self, raw: bytes, filename: str) -> IngestReport:
        """Ingest a dump a server admin uploaded (`/ingest`), dated as any other."""
        report = await ingest_bytes(
            self.store,
            raw,
            filename,
            today=self.clock().date(),
            topics=await self.topics.ingest_taxonomy(),
        )
        if report.new and not report.error and self.after_new_papers is not None:
            # The admin's reply must not wait for the encoding.
            task = asyncio.create_task(self._after_new_papers())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return report

    async def close(self) -> None:
        """Stop background work (an upload's vector encoding) before storage closes; the
        papers it did not reach are encoded at the next start."""
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _after_new_papers(self) -> None:
        if self.after_new_papers is None:
            return
        try:
            await self.after_new_papers()
        except Exception:  # the papers are stored; their vectors are caught up later
            log.exception("encoding the new papers' vectors failed")

    async def fetch(self, day: dt.date) -> Path | None:
        """Download the dump for `day` into DUMPS_DIR as `<day>.json` (or `.txt`)."""
        url = self.settings.dump_url.replace("{date}", day.isoformat())
        got = await _download(url, "DUMP_URL", day.isoformat(), "the dump")
        if got is None:
            return None
        body, kind = got
        if len(body) < 64 and b"".join(body.split()) in NO_PAPERS_YET:
            # The API's answer for a day before anyone submitted a paper (or a weekend):
            # not an error, and not a file the scan should refuse on every tick.
            log.info("DUMP_URL has no papers for %s yet", day)
            return None
        suffix = ".json" if "json" in kind or body.lstrip()[:1] in (b"[", b"{") else ".txt"
        return _save(self.settings.dumps_dir, f"{day.isoformat()}{suffix}", body)

    async def fetch_arxiv(self) -> Path | None:
        """Download arXiv's announcement feed for ARXIV_CATEGORIES into DUMPS_DIR as
        `<announcement day>.arxiv-<categories>.xml`. The feed names its own day (it is
        replaced once a weekday, at arXiv's announcement time), so fetching it every tick
        saves each announcement day once. A weekend's or holiday's empty feed is not
        saved: nothing was announced, as when DUMP_URL has no papers yet."""
        joined = "+".join(self.settings.arxiv_categories)
        url = self.settings.arxiv_feed_url.replace("{categories}", joined)
        got = await _download(url, "ARXIV_FEED_URL", joined, "arXiv's feed")
        if got is None:
            return None
        body = got[0]
        try:
            listing = parse_arxiv_listing(decode_dump(body).lstrip())
        except DumpError as exc:
            log.warning("arXiv's feed for %s could not be read: %s", joined, exc)
            return None
        if listing is None or listing.feed_day is None:
            log.warning("arXiv's feed URL for %s answered with something else", joined)
            return None
        if not listing.papers:
            log.info("arXiv's feed for %s announces nothing today", joined)
            return None
        name = f"{listing.feed_day.isoformat()}.arxiv-{joined}.xml"
        return _save(self.settings.dumps_dir, name, body)

    async def scan(self, today: dt.date) -> list[IngestReport]:
        folder = self.settings.dumps_dir
        if not folder.is_dir():
            return []
        reports = []
        taxonomy = await self.topics.ingest_taxonomy()
        # DUMPS_DIR may be the data folder itself: never read the database as a dump.
        for path in collect_dump_files([folder], exclude=self.store.own_files()):
            try:
                stat = path.stat()
            except OSError:
                continue
            signature = (stat.st_mtime, stat.st_size)
            if self._seen.get(path) == signature:
                continue
            report = await ingest_bytes(
                self.store, path.read_bytes(), str(path), today=today, topics=taxonomy
            )
            self._seen[path] = signature
            if report.not_a_dump:
                log.info("skipped a file that is not a dump: %s", report.error)
            elif report.error:
                log.warning("ingest refused %s", report.error)
            elif not report.already_ingested:
                log.info("ingested %s: %d new, %d known", path.name, report.new, report.known)
            reports.append(report)
        self.last_reports = reports
        if any(r.new and not r.error for r in reports):
            await self._after_new_papers()
        return reports


async def _download(url: str, what: str, which: str, thing: str) -> tuple[bytes, str] | None:
    """(body, content type) of a GET of `url`, or None after logging why not. `what`
    names the source in the log (`DUMP_URL`), `which` the day or categories asked for,
    `thing` what was fetched ("the dump")."""
    try:
        async with (
            aiohttp.ClientSession(timeout=FETCH_TIMEOUT) as session,
            session.get(url) as response,
        ):
            if response.status != 200:
                log.warning("%s answered %s for %s", what, response.status, which)
                return None
            body = await _read_capped(response.content, MAX_DOWNLOAD_BYTES + 1)
            kind = response.headers.get("Content-Type", "")
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("could not fetch %s for %s: %s", thing, which, exc)
        return None
    if not body.strip() or len(body) > MAX_DOWNLOAD_BYTES:
        log.warning("%s gave an empty or oversized body for %s", what, which)
        return None
    return body, kind


def _save(folder: Path, name: str, body: bytes) -> Path:
    """Write `body` to `folder/name`, leaving an unchanged file alone (no re-ingest)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if path.is_file() and path.read_bytes() == body:
        return path  # unchanged since the last tick: keep the file, so no re-ingest
    # Write then rename, so the scan never reads a half-written file. The temporary
    # name is this process's own: bot processes sharing DUMPS_DIR fetch the same day
    # at the same moment, and a shared one would be truncated under the other's write.
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        partial.write_bytes(body)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


async def _read_capped(stream: aiohttp.StreamReader, limit: int) -> bytes:
    """The whole body, or its first `limit` bytes or a little more when it is longer.
    `StreamReader.read(n)` returns whatever has arrived so far (often one chunk of a
    few dozen KB), which would save a real day's dump cut short."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream.iter_chunked(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)
