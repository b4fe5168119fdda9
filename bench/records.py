"""The benchmark's records: what each phase measures, under the keys of the results JSON.

A run's record (`results-<papers>.json`) is these phases' keys merged into one flat
object with the run's own (papers, seed, Python and SQLite versions, RSS after each
phase, the ratios): runner.py builds it, report.py reads it back, also from files of
earlier runs, so there it is a plain `dict[str, Any]`. Times are milliseconds (`_ms`)
or seconds (`_s`); None where a phase did not run or had nothing to measure.
"""

from __future__ import annotations

from typing import Required, TypedDict


class IngestRecord(TypedDict):
    """measure_ingest.py: the corpus through `ingest_bytes`, one dump a day."""

    ingest_s: float
    ingest_papers_per_s: float | None
    ingest_papers_per_s_first_10pct_days: float | None
    ingest_papers_per_s_last_10pct_days: float | None
    ingest_index_sync_s: float
    ingest_daily_dump_ms: float | None
    ingest_day_p99_ms: float | None
    dump_days: int
    dump_entries: int
    generated_repeats: int
    generated_edited_repeats: int
    ingest_new: int
    ingest_known: int
    ingest_merged: int
    ingest_errors: int
    ingest_first_error: str | None


# One of the slowest queries (functional form: "class" is a keyword).
SlowQuery = TypedDict(
    "SlowQuery",
    {
        "ms": float | None,  # its median
        "class": str,
        "query": str | None,
        "topic": str | None,
        "since_days": int | None,
    },
)


class SearchRecord(TypedDict):
    """measure_search.py: the query mix and autocomplete through `SearchService`."""

    search_first_call_ms: float | None
    search_queries: int
    search_samples: int
    search_p50_ms: float | None
    search_p95_ms: float | None
    search_p99_ms: float | None
    search_max_ms: float | None
    search_mean_ms: float | None
    common_word_p99_ms: float | None
    search_class_p99_ms: dict[str, float | None]  # query class -> p99
    search_cpu_p50_ms: float | None
    search_cpu_p99_ms: float | None
    search_class_cpu_p99_ms: dict[str, float | None]
    autocomplete_cpu_p99_ms: float | None
    search_hits_per_query_by_class: dict[str, float]
    search_slowest_queries: list[SlowQuery]
    topic_only_p99_ms: float | None
    autocomplete_inputs: int
    autocomplete_p50_ms: float | None
    autocomplete_p99_ms: float | None


class DigestRecord(TypedDict):
    """measure_digest.py: laying out one day's digest for many channels."""

    digest_day_papers: int
    digest_channels: int
    digest_fetch_day_ms: float | None
    digest_layout_10k_channels_s: float
    digest_layout_10k_is_estimate: bool  # scaled from --digest-channels
    digest_layout_channels_s: float
    digest_layout_per_channel_ms: float | None
    digest_pages_10k_channels_s: float
    digest_messages: int


class FanoutRecord(TypedDict):
    """measure_bot.py: every channel's digest due at once, against rate limits."""

    fanout_channels: int
    fanout_posted: int
    fanout_s: float
    fanout_posts_per_s: float | None
    fanout_sustained_posts_per_s: float | None
    fanout_429s: int
    fanout_requests: int
    fanout_limits: str


class BotRecord(TypedDict, total=False):
    """measure_bot.py: the real bot against the fake Discord; with subscribed channels,
    the fan-out's figures too (FanoutRecord's keys)."""

    bot_start_ready_s: Required[float]
    bot_restart_ready_s: Required[float]
    fanout_channels: int
    fanout_posted: int
    fanout_s: float
    fanout_posts_per_s: float | None
    fanout_sustained_posts_per_s: float | None
    fanout_429s: int
    fanout_requests: int
    fanout_limits: str


class EngineTimes(TypedDict):
    """A search engine's figures over the query mix (each engine's record has them
    with its name in front)."""

    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    common_word_p99_ms: float | None
    class_p99_ms: dict[str, float | None]  # query class -> p99
    hits_per_query: float | None


class Fts5Record(TypedDict):
    """measure_baselines.py: SQLite FTS5 with bm25, the same queries in raw SQL."""

    fts5_p50_ms: float | None
    fts5_p95_ms: float | None
    fts5_p99_ms: float | None
    fts5_common_word_p99_ms: float | None
    fts5_class_p99_ms: dict[str, float | None] | None
    fts5_hits_per_query: float | None
    fts5_index_build_s: float | None


class TantivyRecord(TypedDict):
    """measure_baselines.py: a plain tantivy index; all None when it did not run."""

    tantivy_p50_ms: float | None
    tantivy_p95_ms: float | None
    tantivy_p99_ms: float | None
    tantivy_common_word_p99_ms: float | None
    tantivy_class_p99_ms: dict[str, float | None] | None
    tantivy_hits_per_query: float | None
    tantivy_index_build_s: float | None
    tantivy_version: str | None
