"""The storage backends' shared base: one ABC that implements every storage port.

The core and the services never see this class: they type what they use with the
narrow Protocols of `bot.core.ports` (PaperSearch, PaperReader, IngestStore,
Subscriptions, DeliveryLedger...). A backend subclasses `Storage`, so it provides all
of them at once, and the docstrings here are the contract each method keeps. All
values in and out are plain data from `bot.core.models`; no SQL crosses this line.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.authors import AuthorName
from bot.core.feedback import (
    FeedbackSignal,
    ForgetCounts,
    Mute,
    MuteKind,
    PaperFeedback,
    SavedPage,
)
from bot.core.models import (
    DayEntry,
    IngestPlan,
    IngestReportJson,
    KnownPaper,
    Matches,
    ParsedQuery,
    StorageStats,
    StoredDump,
    StoredPaper,
    StoredStats,
    Topic,
    TopicHit,
)
from bot.core.outcomes import DeliveryStatus
from bot.core.snapshot_import import ImportBatch, ImportCheckpoint, ImportCounts
from bot.core.sources import ALL_SOURCES, SourceFilter
from bot.core.subscriptions import (
    ChannelSubscription,
    DeliveryRecord,
    Follow,
    FollowKind,
    TopicRemoval,
    UserDelivery,
)


class IngestTransaction(abc.ABC):
    """One dump's ingest: reads and writes inside a single write transaction."""

    @abc.abstractmethod
    async def dump_exists(self, content_hash: str) -> bool: ...

    @abc.abstractmethod
    async def stored_dump(self, content_hash: str) -> StoredDump | None:
        """The dump with this content, if it was ingested before."""

    @abc.abstractmethod
    async def redate_dump(
        self, content_hash: str, day: dt.date, listed: Sequence[tuple[int, int | None]]
    ) -> int:
        """Move a stored dump to `day`: its appearances (rows recorded for it) leave its
        old day, and every paper it lists, `(paper id, position)`, appears on `day`; each
        touched paper's first and last day are recomputed. A paper already on `day`
        keeps its best position. Returns how many papers now appear on `day` for it.

        A paper listed by an earlier dump of the old day keeps that dump's appearance.
        One listed first by this dump and again by a later dump of the same day has one
        row only (recorded for this dump), so that appearance moves too."""

    @abc.abstractmethod
    async def papers_by_keys(self, keys: Sequence[str]) -> dict[str, KnownPaper]: ...

    @abc.abstractmethod
    async def papers_by_blocks(self, blocks: Sequence[str]) -> list[KnownPaper]: ...

    @abc.abstractmethod
    async def day_listing(self, day: dt.date, paper_source: str) -> list[DayEntry]:
        """The papers dumps from `paper_source` ("hf", "arxiv") already listed on `day`,
        with that day's upvotes and what a later dump of the day may change (empty when
        no such dump is stored)."""

    @abc.abstractmethod
    async def apply(self, plan: IngestPlan) -> None:
        """Write the plan. With `plan.day_update` (the day was stored before), the
        dump's order replaces the positions of the papers it lists on that day."""


class PaperStorage(abc.ABC):
    """Papers, dumps and search."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def __aenter__(self) -> PaperStorage:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def own_files(self) -> list[Path]:
        """The files and folders this storage keeps on disk (a folder ingest must never
        read them as dumps); none for a database server."""
        return []

    # -- ingest -----------------------------------------------------------------
    @abc.abstractmethod
    def ingest_transaction(self) -> AbstractAsyncContextManager[IngestTransaction]:
        """Commit on normal exit, roll back on any exception."""

    # -- reading papers ---------------------------------------------------------
    @abc.abstractmethod
    async def get_papers(self, ids: Sequence[int], day: dt.date | None = None) -> list[StoredPaper]:
        """Papers in the order of `ids`; `position` is filled in for `day` when given."""

    @abc.abstractmethod
    async def papers_on_day(self, day: dt.date) -> list[StoredPaper]:
        """Every paper that appeared on `day`, in dump order."""

    @abc.abstractmethod
    async def day_titles(self, day: dt.date) -> list[tuple[int, str]]:
        """(id, title) of every paper that appeared on `day`, in dump order: what
        `papers_on_day` returns, without loading the papers."""

    @abc.abstractmethod
    async def texts_of(self, ids: Sequence[int]) -> list[tuple[int, str, str]]:
        """(id, title, abstract) of the stored papers among `ids`, in that order:
        what similarity needs, without loading the papers."""

    @abc.abstractmethod
    async def days(self, limit: int = 30) -> list[dt.date]:
        """Days that have papers, newest first."""

    @abc.abstractmethod
    async def day_counts(self, limit: int = 30) -> list[tuple[dt.date, int]]:
        """(day, how many papers appeared on it) for the days that have papers, newest
        first: the site's index."""

    @abc.abstractmethod
    async def all_titles(self) -> list[tuple[int, str]]:
        """(id, title) of every paper, in id order."""

    @abc.abstractmethod
    async def paper_ids(self) -> list[int]:
        """The id of every paper, in order (a tenth of `all_titles`' memory)."""

    # -- search -----------------------------------------------------------------
    @abc.abstractmethod
    async def text_search(
        self,
        query: ParsedQuery,
        *,
        match_all: bool,
        topic: str | None,
        since: dt.date | None,
        limit: int,
        source: SourceFilter = ALL_SOURCES,
    ) -> list[tuple[int, float]]:
        """(paper id, relevance) best first; higher relevance is better. `source` keeps
        papers ever listed by that source (and in those categories)."""

    @abc.abstractmethod
    async def text_matches(
        self,
        query: ParsedQuery,
        *,
        match_all: bool,
        topic: str | None,
        since: dt.date | None,
        limit: int,
        count_up_to: int,
        source: SourceFilter = ALL_SOURCES,
    ) -> Matches:
        """`text_search`, and how many papers match in all: exactly up to `count_up_to`
        at least (a backend that counts for free counts them all), else that many and
        `exact=False`."""

    @abc.abstractmethod
    async def recent_matches(
        self, *, source: SourceFilter, since: dt.date | None, limit: int, count_up_to: int
    ) -> Matches:
        """The newest papers passing `source` (seen since `since`): last seen, then id,
        highest first; counted as `text_matches` counts. A search with no words."""

    @abc.abstractmethod
    async def category_counts(self) -> dict[str, int]:
        """Papers per arXiv category, for every category stored."""

    @abc.abstractmethod
    async def papers_by_name(self, names: Sequence[str]) -> list[int]:
        """Papers whose short name (`LoRAMoE` in `LoRAMoE: ...`, normalized) is one of
        `names`: acronym lookups a word index cannot do."""

    @abc.abstractmethod
    async def title_candidates(
        self, query: ParsedQuery, limit: int, written: str = ""
    ) -> list[tuple[int, str]]:
        """(id, title) of papers whose titles match the query's words, for autocomplete:
        titles holding them in a row (the last word perhaps half-typed) first, and
        among those, titles holding the text as `written` (punctuation included)."""

    @abc.abstractmethod
    async def paper_by_arxiv_id(self, arxiv_ids: Sequence[str]) -> int | None:
        """The id of the paper stored under one of these spellings of an arXiv id
        (version-less, as dumps give it), or None."""

    @abc.abstractmethod
    async def titles(self, ids: Sequence[int]) -> list[tuple[int, str]]:
        """(id, title) for these ids, in their order."""

    @abc.abstractmethod
    async def recent_titles(self, limit: int) -> list[tuple[int, str]]:
        """(id, title) of the most recently seen papers."""

    @abc.abstractmethod
    async def sync_search_index(self) -> int:
        """Bring any derived search index up to date; returns papers (re)indexed."""

    @abc.abstractmethod
    async def topic_papers(
        self,
        topic: str,
        *,
        since: dt.date | None,
        limit: int,
        source: SourceFilter = ALL_SOURCES,
    ) -> list[tuple[int, float]]:
        """(paper id, topic score) by match strength, then recency."""

    @abc.abstractmethod
    async def topic_matches(
        self,
        topic: str,
        *,
        since: dt.date | None,
        limit: int,
        count_up_to: int,
        source: SourceFilter = ALL_SOURCES,
    ) -> Matches:
        """`topic_papers`, and how many papers the topic has (since `since`), counted
        as `text_matches` counts."""

    @abc.abstractmethod
    async def vocabulary(self) -> dict[str, int]:
        """Every indexed word with its document frequency."""

    # -- facts --------------------------------------------------------------------
    @abc.abstractmethod
    async def data_version(self) -> int:
        """A number that changes whenever papers change, even by another process, so
        in-memory indexes know when to rebuild."""

    @abc.abstractmethod
    async def stats(self) -> StorageStats:
        """Counts of papers, days and dumps, the newest day, papers per topic, and where
        the data is (a file, or the URL without its password)."""

    @abc.abstractmethod
    async def topic_counts(self, day: dt.date | None) -> dict[str, int]:
        """Papers per topic on `day` (all days when None)."""

    @abc.abstractmethod
    async def last_ingests(self, limit: int = 5) -> list[IngestReportJson]:
        """The most recent dumps' health reports, newest first."""


class DeliveryStorage(abc.ABC):
    """Subscriptions, follows, guild topics and the exactly-once delivery ledger."""

    # -- channel digests ---------------------------------------------------------------
    @abc.abstractmethod
    async def upsert_channel_subscription(self, sub: ChannelSubscription) -> None:
        """Create or replace; replacing un-pauses and clears the failure count."""

    @abc.abstractmethod
    async def delete_channel_subscription(self, guild_id: int, channel_id: int) -> bool: ...

    @abc.abstractmethod
    async def channel_subscriptions(
        self, guild_id: int | None = None
    ) -> list[ChannelSubscription]: ...

    @abc.abstractmethod
    async def channel_subscription(self, channel_id: int) -> ChannelSubscription | None: ...

    @abc.abstractmethod
    async def record_channel_failure(
        self, channel_id: int, error: str, pause_after: int
    ) -> ChannelSubscription | None:
        """Count a consecutive failure; pause the subscription at `pause_after`."""

    @abc.abstractmethod
    async def record_channel_success(self, channel_id: int) -> None: ...

    @abc.abstractmethod
    async def set_channel_paused(self, channel_id: int, paused: bool) -> None:
        """Pause a channel's digest (`/digest pause`) or resume it; resuming also clears
        the failure count and last error, so the bot pauses it again only after as many
        new refusals as the first time."""

    # -- members ---------------------------------------------------------------------------
    @abc.abstractmethod
    async def add_follow(self, user_id: int, follow: Follow) -> bool:
        """False when the user already followed it."""

    @abc.abstractmethod
    async def remove_follow(
        self, user_id: int, kind: FollowKind, value: str, guild_id: int = 0
    ) -> bool:
        """Remove one follow; a server topic's follow is also keyed by its `guild_id`."""

    @abc.abstractmethod
    async def user_delivery(self, user_id: int) -> UserDelivery | None:
        """The user's delivery time, DM state and follows (None if they never set any)."""

    @abc.abstractmethod
    async def user_deliveries(self) -> list[UserDelivery]:
        """Every user with at least one follow."""

    @abc.abstractmethod
    async def set_user_delivery(self, user_id: int, post_time: str, timezone: str) -> None:
        """Set when DMs arrive; also clears a recorded closed-DM state (they may retry)."""

    @abc.abstractmethod
    async def set_last_run(self, target: str, day: dt.date) -> None:
        """Remember the local day of `target`'s last scheduled run (for catch-up)."""

    @abc.abstractmethod
    async def set_dm_closed(self, user_id: int, closed: bool, told: bool = False) -> None: ...

    @abc.abstractmethod
    async def dm_channel(self, user_id: int) -> int | None:
        """The member's DM channel id as last remembered (None: never opened)."""

    @abc.abstractmethod
    async def remember_dm_channel(self, user_id: int, channel_id: int) -> None:
        """Keep (or replace) the member's DM channel id."""

    # -- guild topics ------------------------------------------------------------------------
    @abc.abstractmethod
    async def upsert_guild_topic(self, topic: Topic) -> None: ...

    @abc.abstractmethod
    async def delete_guild_topic(self, guild_id: int, slug: str) -> TopicRemoval | None:
        """Remove a server topic with its paper assignments and follows, and drop it from
        the filter of every digest of that server, in one transaction. Returns what
        changed (None when there was no such topic), so each follower can be told once."""

    @abc.abstractmethod
    async def topic_followers(self, guild_id: int, slug: str) -> list[int]:
        """User ids of the members following a server topic."""

    @abc.abstractmethod
    async def guild_topics(self, guild_id: int | None = None) -> list[Topic]: ...

    @abc.abstractmethod
    async def replace_topic_assignments(
        self, topic_key: str, hits: Sequence[tuple[int, TopicHit]]
    ) -> None:
        """Set exactly which papers carry `topic_key` (used to backfill a new topic)."""

    @abc.abstractmethod
    def paper_texts(self, batch: int = 1000) -> AsyncIterator[list[tuple[int, str, str]]]:
        """(id, title, abstract) for every paper, in batches."""

    # -- the delivery ledger ---------------------------------------------------------------
    @abc.abstractmethod
    async def claim_delivery(
        self,
        target: str,
        day: dt.date,
        *,
        owner: str | None = None,
        lease: dt.timedelta | None = None,
    ) -> DeliveryRecord:
        """Atomically record the intent to send `day` to `target`.

        Returns the row after the claim: status 'sending' with attempts == 1 means
        "send it now"; 'sending' with attempts > 1 means an earlier attempt may have
        reached Discord, so reconcile first; 'sent' or 'empty' means done already.
        A 'failed' row is retried (becomes 'sending' again).

        With `owner` and `lease` (several processes sharing one database) the claim is a
        lease held by `owner` until now + `lease`. A 'sending' row that another owner
        holds under an unexpired lease is not taken: the returned record has status
        'held' and nothing is written. A row whose lease expired (its owner died or
        stalled) is taken over with attempts + 1, so the new owner reconciles first.
        Without them (one process), a 'sending' row is always taken over.
        """

    @abc.abstractmethod
    async def finish_delivery(
        self,
        target: str,
        day: dt.date,
        status: DeliveryStatus,
        message_id: int | None = None,
        detail: str | None = None,
    ) -> None: ...

    @abc.abstractmethod
    async def delivery(self, target: str, day: dt.date) -> DeliveryRecord | None: ...

    @abc.abstractmethod
    async def last_delivered_day(self, target: str) -> dt.date | None:
        """The newest day delivered ('sent' or 'empty') to `target`."""

    @abc.abstractmethod
    async def deliveries_in_state(self, status: DeliveryStatus) -> list[DeliveryRecord]: ...

    # -- paper threads -------------------------------------------------------------------------
    @abc.abstractmethod
    async def paper_thread(self, channel_id: int, paper_id: int) -> int | None:
        """The thread that discusses `paper_id` in `channel_id`, if one was started."""

    @abc.abstractmethod
    async def set_paper_thread(
        self, channel_id: int, paper_id: int, thread_id: int, guild_id: int
    ) -> None:
        """Remember (or replace) the paper's thread in the channel."""

    # -- small settings ----------------------------------------------------------------------
    @abc.abstractmethod
    async def get_meta(self, key: str) -> str | None: ...

    @abc.abstractmethod
    async def set_meta(self, key: str, value: str) -> None: ...


class RelevanceStorage(abc.ABC):
    """Members' feedback and mutes, papers' authors, and the papers' relevance vectors."""

    # -- feedback ---------------------------------------------------------------------------
    @abc.abstractmethod
    async def record_feedback(
        self,
        user_id: int,
        paper_id: int,
        signal: FeedbackSignal,
        saved: bool,
        guild_id: int | None = None,
    ) -> PaperFeedback | None:
        """Set the member's feedback on a paper to exactly this (one row per member and
        paper: the same click twice changes nothing, not even its place in the
        member's history). No signal and not saved deletes the row (None). A change
        moves the rating to the end of `member_ratings`; `guild_id` None keeps the
        server recorded before."""

    @abc.abstractmethod
    async def clear_feedback(self, user_id: int, paper_id: int) -> bool:
        """Forget the member's feedback on the paper; False when there was none."""

    @abc.abstractmethod
    async def feedback_on(self, user_id: int, paper_ids: Sequence[int]) -> dict[int, PaperFeedback]:
        """The member's feedback on those of `paper_ids` they rated or saved."""

    @abc.abstractmethod
    async def member_ratings(self, user_id: int) -> list[PaperFeedback]:
        """Everything the member rated or saved, oldest change first."""

    @abc.abstractmethod
    async def saved_papers(self, user_id: int, offset: int = 0, limit: int = 10) -> SavedPage:
        """One page of the member's saved papers, newest save first, and their number."""

    @abc.abstractmethod
    async def community_likes(self, guild_id: int, paper_ids: Sequence[int]) -> dict[int, int]:
        """👍 per paper given from that server (papers without any left out)."""

    @abc.abstractmethod
    async def member_known(self, user_id: int) -> bool:
        """Whether anything is stored about the member (feedback, follows, delivery
        settings or mutes)."""

    @abc.abstractmethod
    async def forget_member(self, user_id: int) -> ForgetCounts:
        """Delete, in one transaction, the member's follows, feedback and saves, mutes,
        delivery settings and the ledger of their DMs; how many of each were deleted."""

    # -- mutes ------------------------------------------------------------------------------
    @abc.abstractmethod
    async def add_mute(self, user_id: int, mute: Mute) -> bool:
        """False when the member had muted it already."""

    @abc.abstractmethod
    async def remove_mute(self, user_id: int, kind: MuteKind, value: str) -> bool: ...

    @abc.abstractmethod
    async def member_mutes(self, user_id: int) -> list[Mute]: ...

    # -- authors ----------------------------------------------------------------------------
    @abc.abstractmethod
    async def authors_by_key_prefix(self, prefix: str, limit: int = 25) -> list[AuthorName]:
        """Stored authors whose name key starts with `prefix`, most papers first."""

    @abc.abstractmethod
    async def papers_by_author(self, key: str, limit: int = 50) -> list[int]:
        """Ids of papers with an author of this name key, most recently seen first."""

    @abc.abstractmethod
    async def backfill_paper_authors(self) -> int:
        """Fill `paper_authors` for papers stored before it existed; runs on open."""

    # -- paper vectors ----------------------------------------------------------------------
    @abc.abstractmethod
    async def paper_vectors(self, paper_ids: Sequence[int]) -> dict[int, bytes]:
        """The stored vector of each of `paper_ids` that has one."""

    @abc.abstractmethod
    async def papers_without_vectors(self, limit: int = 500) -> list[int]:
        """Ids of papers that have no vector yet, lowest (oldest) first."""

    @abc.abstractmethod
    async def vector_stats(self) -> StoredStats | None:
        """The corpus statistics blob and its version; None before the first vectors."""

    @abc.abstractmethod
    async def put_vectors(
        self, vectors: Sequence[tuple[int, bytes]], stats: bytes, expected_version: int
    ) -> bool:
        """Store vectors and the statistics that now count them, in one transaction, if
        the stored statistics are still at `expected_version` (0: none yet). False, with
        nothing written, when another writer got there first: read them again."""

    @abc.abstractmethod
    async def clear_vectors(self) -> int:
        """Delete every vector and the statistics (to encode everything again)."""


# Tables in copy order (parents before children), the same names and columns in every
# backend: what `paperbot migrate-db` moves. Derived data (search indexes, change logs,
# generated columns) is not copied; each backend rebuilds its own.
PORTABLE_TABLES = (
    "papers",
    "paper_keys",
    "title_blocks",
    "title_variants",
    "dumps",
    "appearances",
    "dump_papers",
    "paper_categories",
    "paper_topics",
    "vocab",
    "channel_subscriptions",
    "user_follows",
    "user_delivery",
    "guild_topics",
    "deliveries",
    "meta",
    "paper_threads",
    "feedback",
    "mutes",
    "paper_authors",
    "paper_vectors",
    "corpus_stats",
    "dm_channels",
)


# One row of a portable table, {column: value}.
PortableRow = dict[str, int | float | str | None]


class PortableStorage(abc.ABC):
    """Row-level export and import for moving a whole database between backends."""

    @abc.abstractmethod
    def export_rows(self, table: str, batch: int = 5000) -> AsyncIterator[list[PortableRow]]:
        """Every row of `table` (one of PORTABLE_TABLES) as {column: value} dicts, in
        primary-key order, in batches. Values are plain Python: int, float, str, bytes,
        None."""

    @abc.abstractmethod
    async def import_rows(self, table: str, rows: Sequence[PortableRow]) -> int:
        """Insert rows exported by any backend; rows whose primary key (or unique key)
        already exists are left alone, so importing twice changes nothing. Returns how
        many were new."""

    @abc.abstractmethod
    async def finish_import(self) -> None:
        """After an import: move id sequences past the imported ids and bring derived
        data (search index, counters) up to date."""


class SnapshotStorage(abc.ABC):
    """An arXiv snapshot import's batches (bot.core.ports.SnapshotImportStore)."""

    if TYPE_CHECKING:  # provided by every backend (the meta table)

        async def get_meta(self, key: str) -> str | None: ...

    async def import_checkpoint(self, fingerprint: str) -> ImportCheckpoint | None:
        """The last checkpoint committed for this file and filter, if any: one meta row
        on either backend, written by `import_batch` in the batch's transaction."""
        value = await self.get_meta(ImportCheckpoint.META_PREFIX + fingerprint)
        return ImportCheckpoint.from_meta(fingerprint, value) if value is not None else None

    @abc.abstractmethod
    async def import_batch(self, batch: ImportBatch) -> ImportCounts:
        """Write the batch and its checkpoint in one transaction: new papers without
        any appearance, papers stored under the same arXiv id merged. The counts
        stored."""


class Storage(PaperStorage, DeliveryStorage, RelevanceStorage, PortableStorage, SnapshotStorage):
    """A paperbot database: everything `bot/` and `cogs/` may ask of one.
    Use `async with` or call `close()`."""
