"""Digest layout for many channels: the newest day's papers laid out once per channel,
each channel with its own topic filter and size, as a morning's fan-out would."""

from __future__ import annotations

import datetime as dt
import random
import time

from bench.records import DigestRecord
from bench.stats import Progress, ms
from bot.core.digest import DigestSettings, digest_pages, layout_digest
from bot.core.models import Topic
from bot.core.topics import load_default_topics
from storage.base import Storage

MAX_ITEMS = (5, 10, 10, 10, 15, 20, 25, 50)


def channel_settings(count: int, topics: list[Topic], seed: int = 7) -> list[DigestSettings]:
    """Varied but fixed settings: 40% take every paper, the rest 1-3 topics."""
    rng = random.Random(seed)
    slugs = [t.slug for t in topics]
    settings = []
    for _ in range(count):
        chosen = () if rng.random() < 0.4 else tuple(rng.sample(slugs, rng.randint(1, 3)))
        settings.append(DigestSettings(topics=chosen, max_items=rng.choice(MAX_ITEMS)))
    return settings


async def measure_digest(
    storage: Storage, newest: dt.date, channels: int, progress: Progress
) -> DigestRecord:
    topics = load_default_topics()
    names = {t.slug: t.name for t in topics}
    start = time.perf_counter()
    papers = await storage.papers_on_day(newest)
    fetch = time.perf_counter() - start
    every = channel_settings(channels, topics)
    progress(f"digest: laying out {len(papers)} papers for {channels} channels")
    start = time.perf_counter()
    messages = 0
    for settings in every:
        messages += len(layout_digest(papers, newest, settings, names))
    layout = time.perf_counter() - start
    # The paged form (what scheduled posts send), timed on a tenth of the channels.
    sample = every[: max(1, channels // 10)]
    start = time.perf_counter()
    for settings in sample:
        digest_pages(papers, newest, settings, names)
    paged_each = (time.perf_counter() - start) / len(sample)
    return {
        "digest_day_papers": len(papers),
        "digest_channels": channels,
        "digest_fetch_day_ms": ms(fetch),
        # Measured for 10,000 channels by default; scaled when --digest-channels differs.
        "digest_layout_10k_channels_s": round(layout * 10_000 / channels, 3),
        "digest_layout_10k_is_estimate": channels != 10_000,
        "digest_layout_channels_s": round(layout, 3),
        "digest_layout_per_channel_ms": ms(layout / channels),
        "digest_pages_10k_channels_s": round(paged_each * 10_000, 3),
        "digest_messages": messages,
    }
