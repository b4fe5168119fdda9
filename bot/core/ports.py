"""The ports: what the core and the services need from outside, one Protocol per role.

`storage/` implements the storage ports (both backends, through `storage.base.Storage`)
and `bot/discord_app/poster.py` implements `MessagePoster` with discord.py. Each port
holds only the methods its users call, so a test double or a new backend knows exactly
what it must provide, and nothing here names a database or Discord. All values in and
out are plain data from `bot.core.models` and `bot.core.subscriptions`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

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
from bot.core.payloads import MessagePayload
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
from bot.core.threads import ArchiveMinutes, ThreadState

Clock = Callable[[], dt.datetime]
"""The time now, timezone-aware. Services take one so tests can move it by hand."""


# -- papers --------------------------------------------------------------------------------


class PaperSearch(Protocol):
    """Finding papers: what `SearchService` asks of storage per query."""

    async def data_version(self) -> int:
        """Changes whenever papers change, even by another process."""
        ...

    async def vocabulary(self) -> dict[str, int]: ...

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
    ) -> Matches: ...

    async def topic_matches(
        self,
        topic: str,
        *,
        since: dt.date | None,
        limit: int,
        count_up_to: int,
        source: SourceFilter = ALL_SOURCES,
    ) -> Matches: ...

    async def recent_matches(
        self, *, source: SourceFilter, since: dt.date | None, limit: int, count_up_to: int
    ) -> Matches: ...

    async def category_counts(self) -> dict[str, int]: ...

    async def papers_by_name(self, names: Sequence[str]) -> list[int]: ...

    async def get_papers(
        self, ids: Sequence[int], day: dt.date | None = None
    ) -> list[StoredPaper]: ...

    async def titles(self, ids: Sequence[int]) -> list[tuple[int, str]]: ...

    async def papers_by_author(self, key: str, limit: int = 50) -> list[int]:
        """Ids of papers with an author of this name key, most recently seen first."""
        ...

    async def recent_titles(self, limit: int) -> list[tuple[int, str]]: ...

    async def title_candidates(
        self, query: ParsedQuery, limit: int, written: str = ""
    ) -> list[tuple[int, str]]: ...

    async def paper_by_arxiv_id(self, arxiv_ids: Sequence[str]) -> int | None: ...


class PaperReader(Protocol):
    """The stored days and their papers: digests, /status, /topics and the CLI."""

    async def days(self, limit: int = 30) -> list[dt.date]:
        """Days that have papers, newest first."""
        ...

    async def papers_on_day(self, day: dt.date) -> list[StoredPaper]: ...

    async def day_titles(self, day: dt.date) -> list[tuple[int, str]]:
        """(id, title) of `papers_on_day`'s papers, in the same order, unloaded."""
        ...

    async def texts_of(self, ids: Sequence[int]) -> list[tuple[int, str, str]]:
        """(id, title, abstract) of the stored papers among `ids`, in that order."""
        ...

    async def data_version(self) -> int: ...

    async def stats(self) -> StorageStats: ...

    async def topic_counts(self, day: dt.date | None) -> dict[str, int]: ...

    async def last_ingests(self, limit: int = 5) -> list[IngestReportJson]: ...


class SiteReader(Protocol):
    """What the static site and its live server read: the days with their counts, a
    day's papers, one paper, and whether anything changed since the last look."""

    async def day_counts(self, limit: int = 30) -> list[tuple[dt.date, int]]:
        """(day, papers that day) for the days that have papers, newest first."""
        ...

    async def papers_on_day(self, day: dt.date) -> list[StoredPaper]: ...

    async def get_papers(
        self, ids: Sequence[int], day: dt.date | None = None
    ) -> list[StoredPaper]: ...

    async def data_version(self) -> int: ...


# -- ingest --------------------------------------------------------------------------------


class IngestTransaction(Protocol):
    """One dump's ingest: reads and writes inside a single write transaction."""

    async def stored_dump(self, content_hash: str) -> StoredDump | None: ...

    async def redate_dump(
        self, content_hash: str, day: dt.date, listed: Sequence[tuple[int, int | None]]
    ) -> int: ...

    async def papers_by_keys(self, keys: Sequence[str]) -> dict[str, KnownPaper]: ...

    async def papers_by_blocks(self, blocks: Sequence[str]) -> list[KnownPaper]: ...

    async def day_listing(self, day: dt.date, paper_source: str) -> list[DayEntry]: ...

    async def apply(self, plan: IngestPlan) -> None: ...


class IngestStore(Protocol):
    """Where dumps go: opens ingest transactions, tags stored papers with a new topic,
    and keeps the derived search index up to date."""

    def ingest_transaction(self) -> AbstractAsyncContextManager[IngestTransaction]:
        """Commits on normal exit, rolls back on any exception."""
        ...

    async def sync_search_index(self) -> int: ...

    async def guild_topics(self, guild_id: int | None = None) -> list[Topic]:
        """Every guild's own topics (None), or one guild's: an ingest tags with them."""
        ...

    def paper_texts(self, batch: int = 1000) -> AsyncIterator[list[tuple[int, str, str]]]: ...

    async def replace_topic_assignments(
        self, topic_key: str, hits: Sequence[tuple[int, TopicHit]]
    ) -> None: ...

    def own_files(self) -> list[Path]:
        """Files the storage keeps on disk: a folder ingest must never read them."""
        ...


class SnapshotImportStore(Protocol):
    """Where an arXiv snapshot import goes: one transaction per batch, each with the
    checkpoint that lets a killed import resume (bot.core.snapshot_import)."""

    async def import_checkpoint(self, fingerprint: str) -> ImportCheckpoint | None:
        """The last checkpoint committed for this file and filter, if any."""
        ...

    async def import_batch(self, batch: ImportBatch) -> ImportCounts:
        """Write the batch and its checkpoint in one transaction; the counts stored."""
        ...

    async def sync_search_index(self) -> int: ...

    async def guild_topics(self, guild_id: int | None = None) -> list[Topic]: ...


# -- subscriptions, follows and server topics ----------------------------------------------


class GuildTopics(Protocol):
    """The servers' own topics, on top of the built-in taxonomy."""

    async def guild_topics(self, guild_id: int | None = None) -> list[Topic]: ...


class GuildTopicStore(GuildTopics, Protocol):
    """Adding and removing a server's own topics (`/topic add`, `/topic remove`)."""

    async def upsert_guild_topic(self, topic: Topic) -> None: ...

    async def delete_guild_topic(self, guild_id: int, slug: str) -> TopicRemoval | None: ...

    async def topic_followers(self, guild_id: int, slug: str) -> list[int]: ...


class ChannelDigests(Protocol):
    """Channels' daily digests as `/digest` sets them."""

    async def upsert_channel_subscription(self, sub: ChannelSubscription) -> None: ...

    async def delete_channel_subscription(self, guild_id: int, channel_id: int) -> bool: ...

    async def channel_subscriptions(
        self, guild_id: int | None = None
    ) -> list[ChannelSubscription]: ...

    async def channel_subscription(self, channel_id: int) -> ChannelSubscription | None: ...

    async def set_channel_paused(self, channel_id: int, paused: bool) -> None: ...

    async def set_last_run(self, target: str, day: dt.date) -> None: ...


class MemberFollows(Protocol):
    """Members' follows and when their DM arrives (`/follow`, `/delivery`)."""

    async def add_follow(self, user_id: int, follow: Follow) -> bool: ...

    async def remove_follow(
        self, user_id: int, kind: FollowKind, value: str, guild_id: int = 0
    ) -> bool: ...

    async def user_delivery(self, user_id: int) -> UserDelivery | None: ...

    async def user_deliveries(self) -> list[UserDelivery]: ...

    async def set_user_delivery(self, user_id: int, post_time: str, timezone: str) -> None: ...


class PaperThreads(Protocol):
    """Which thread discusses a paper in a channel (`/discuss`, `thread: paper` digests)."""

    async def paper_thread(self, channel_id: int, paper_id: int) -> int | None: ...

    async def set_paper_thread(
        self, channel_id: int, paper_id: int, thread_id: int, guild_id: int
    ) -> None: ...


class Subscriptions(ChannelDigests, MemberFollows, GuildTopicStore, Protocol):
    """Who gets what, when: channel digests, members' follows and delivery times, and
    the servers' own topics (the scheduler and a topic removal see all of them)."""


class Schedules(Protocol):
    """The scheduler, as the services that change subscriptions see it: they tell it
    to rebuild its jobs, and say when a target posts next."""

    async def rebuild(self) -> None: ...

    def next_run(self, target: str) -> dt.datetime | None: ...


# -- personal relevance --------------------------------------------------------------------


class Feedback(Protocol):
    """Members' 👍 / 👎 / 🔖 on papers (`RelevanceService`, `/saved`, `/forget-me`)."""

    async def record_feedback(
        self,
        user_id: int,
        paper_id: int,
        signal: FeedbackSignal,
        saved: bool,
        guild_id: int | None = None,
    ) -> PaperFeedback | None: ...

    async def clear_feedback(self, user_id: int, paper_id: int) -> bool: ...

    async def feedback_on(
        self, user_id: int, paper_ids: Sequence[int]
    ) -> dict[int, PaperFeedback]: ...

    async def member_ratings(self, user_id: int) -> list[PaperFeedback]:
        """Everything the member rated or saved, oldest change first."""
        ...

    async def saved_papers(self, user_id: int, offset: int = 0, limit: int = 10) -> SavedPage: ...

    async def community_likes(self, guild_id: int, paper_ids: Sequence[int]) -> dict[int, int]: ...

    async def member_known(self, user_id: int) -> bool: ...

    async def forget_member(self, user_id: int) -> ForgetCounts:
        """Follows, feedback, saves, mutes and delivery settings, in one transaction."""
        ...


class Mutes(Protocol):
    """What a member never wants to see in their DMs and *For you* list (`/mute`)."""

    async def add_mute(self, user_id: int, mute: Mute) -> bool: ...

    async def remove_mute(self, user_id: int, kind: MuteKind, value: str) -> bool: ...

    async def member_mutes(self, user_id: int) -> list[Mute]: ...


class Authors(Protocol):
    """Papers' authors by name key (bot.core.authors): autocomplete, papers by author."""

    async def authors_by_key_prefix(self, prefix: str, limit: int = 25) -> list[AuthorName]: ...

    async def papers_by_author(self, key: str, limit: int = 50) -> list[int]: ...


class PaperVectors(Protocol):
    """Each paper's relevance vector and the corpus statistics that weigh them."""

    async def paper_vectors(self, paper_ids: Sequence[int]) -> dict[int, bytes]: ...

    async def papers_without_vectors(self, limit: int = 500) -> list[int]: ...

    async def vector_stats(self) -> StoredStats | None: ...

    async def put_vectors(
        self, vectors: Sequence[tuple[int, bytes]], stats: bytes, expected_version: int
    ) -> bool:
        """False (nothing written) when the statistics moved past `expected_version`."""
        ...

    async def clear_vectors(self) -> int: ...


# -- the delivery ledger -------------------------------------------------------------------


class DeliveryLedger(Protocol):
    """The exactly-once record of every post, and the state posting keeps: claims,
    last runs, channels' failures, members' closed DMs, and small key/value facts
    (shard heartbeats, the synced command tree's hash)."""

    async def claim_delivery(
        self,
        target: str,
        day: dt.date,
        *,
        owner: str | None = None,
        lease: dt.timedelta | None = None,
    ) -> DeliveryRecord: ...

    async def finish_delivery(
        self,
        target: str,
        day: dt.date,
        status: DeliveryStatus,
        message_id: int | None = None,
        detail: str | None = None,
    ) -> None: ...

    async def last_delivered_day(self, target: str) -> dt.date | None: ...

    async def set_last_run(self, target: str, day: dt.date) -> None: ...

    async def record_channel_failure(
        self, channel_id: int, error: str, pause_after: int
    ) -> ChannelSubscription | None: ...

    async def record_channel_success(self, channel_id: int) -> None: ...

    async def user_delivery(self, user_id: int) -> UserDelivery | None: ...

    async def set_dm_closed(self, user_id: int, closed: bool, told: bool = False) -> None: ...

    async def get_meta(self, key: str) -> str | None: ...

    async def set_meta(self, key: str, value: str) -> None: ...


class DmChannels(Protocol):
    """Members' DM channel ids: Discord keeps one per bot and user, so a remembered id
    saves opening the channel (a request) before every DM."""

    async def dm_channel(self, user_id: int) -> int | None: ...

    async def remember_dm_channel(self, user_id: int, channel_id: int) -> None: ...


# -- posting to Discord --------------------------------------------------------------------


class PagerScope(StrEnum):
    """Whose digest a pager pages; the letter is part of the buttons' custom ids."""

    CHANNEL = "c"  # a channel's digest
    MEMBER = "u"  # a member's DM


@dataclass(frozen=True)
class Pager:
    """Which page of which digest a message shows: the poster puts the page buttons
    under it."""

    scope: PagerScope
    day: dt.date
    page: int
    pages: int


class PostFailed(Exception):
    """A post that did not go out. `str()` is what went wrong as the transport said it;
    `detail` is the one line the delivery ledger records."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = message if detail is None else detail


class TargetGone(PostFailed):
    """The channel is gone or refuses us (unknown channel, missing access or
    permissions): counted toward pausing a channel's digest."""


class DmsClosed(PostFailed):
    """The member does not accept DMs from us."""


class PostInterrupted(PostFailed):
    """A transient failure (a timeout, a server error, rate limits after retries, the
    network): the post may or may not have arrived."""


class ThreadsRefused(PostFailed):
    """Discord would not start a thread: the bot lacks Create Public Threads (or Send
    Messages in Threads) in that channel. The message it hangs off is not affected."""


class Destination(Protocol):
    """A channel or a member's DM, ready to post to."""

    async def post(
        self,
        payload: MessagePayload,
        *,
        nonce: str | None = None,
        pager: Pager | None = None,
        timeout: float | None = None,
    ) -> int:
        """Send one message payload (`content`, `embeds`), with the pager's buttons when
        given; Discord drops a second message with the same `nonce` for a few minutes.
        Returns the message id; raises a `PostFailed` (TargetGone, DmsClosed,
        PostInterrupted), or TimeoutError as PostInterrupted after `timeout` seconds."""
        ...

    async def say(self, text: str) -> None:
        """Send a plain line of text; raises PostFailed when Discord refuses it."""
        ...

    async def find_posted(self, marker: str, limit: int) -> int | None:
        """The id of a message of ours among the latest `limit` that contains `marker`;
        None when there is none or the history cannot be read."""
        ...

    async def start_thread(
        self, message_id: int, name: str, archive_minutes: ArchiveMinutes
    ) -> int:
        """Start a public thread from one of this channel's messages (Discord's "start
        thread from message"); returns the thread's id, which is the message's. A thread
        that already exists for the message counts as started (its id is returned).
        Raises ThreadsRefused (permissions), TargetGone (the message or channel is
        gone) or PostInterrupted (transient)."""
        ...


class MessagePoster(Protocol):
    """Posting to Discord: all the delivery service knows of it."""

    def channel(self, channel_id: int, guild_id: int | None) -> Destination: ...

    async def member(self, user_id: int) -> Destination:
        """The member's DM channel; raises PostInterrupted when it cannot be opened."""
        ...

    async def thread_state(self, thread_id: int) -> ThreadState:
        """Whether a thread is open, archived or gone (deleted, or no longer visible);
        raises PostInterrupted when Discord cannot say."""
        ...

    async def reopen_thread(self, thread_id: int) -> bool:
        """Unarchive a thread; False when Discord refuses (it stays archived)."""
        ...
