"""Posting digests and member DMs exactly once per (target, day).

The ledger row is written *before* the message goes out ('sending') and marked 'sent'
with the message id after. If the process dies in between, the next attempt finds a
'sending' row with attempts > 1 and first looks in the channel's recent history for
the digest (every digest's first line carries `paperbot digest YYYY-MM-DD`): found
means it already went out, so it is recorded, never re-sent. Every attempt also sends
the same message nonce, which Discord enforces for a few minutes: that covers the one
case the history cannot, two attempts whose requests cross in flight (an attempt gave
up waiting, but its request reached Discord only after the next attempt looked). The
history check covers any length of downtime, which the nonce alone would not.

Discord is reached only through the MessagePoster port (bot/discord_app/poster.py), the
database only through the DeliveryLedger and PaperReader ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.delivery_plan import (
    PaperWords,
    choose_digest_day,
    delivery_nonce,
    digest_marker,
    follow_topic,
    local_today,
    paper_words,
    papers_for_member,
)
from bot.core.digest import DigestSettings, digest_pages
from bot.core.digest_order import DigestOrder
from bot.core.member_digest import MAX_PICKS, finished_embed, member_digest_pages
from bot.core.models import StoredPaper
from bot.core.outcomes import DeliveryStatus, OutcomeStatus
from bot.core.pacing import Pacer, process_share
from bot.core.payloads import Embed, MessagePayload
from bot.core.ports import (
    DeliveryLedger,
    Destination,
    DmsClosed,
    MessagePoster,
    Pager,
    PagerScope,
    PaperReader,
    PaperThreads,
    PostFailed,
    PostInterrupted,
    TargetGone,
    ThreadsRefused,
)
from bot.core.render import EmbedParts, embed_parts, topic_display_names
from bot.core.sources import parse_source_filter
from bot.core.subscriptions import (
    FAILURES_BEFORE_PAUSE,
    ChannelSubscription,
    DeliveryRecord,
    UserDelivery,
)
from bot.core.threads import (
    DEFAULT_ARCHIVE_MINUTES,
    ArchiveMinutes,
    PaperItem,
    ThreadMode,
    digest_thread_name,
    header_only,
    item_marker,
    paper_items,
    step_target,
    thread_mode,
)
from bot.core.topic_lookup import REMOVED_TOPIC
from bot.services.topics import TopicCatalog

log = logging.getLogger("paperbot.delivery")

PAGES_CACHE_SIZE = 512  # distinct (day, settings) layouts kept during a fan-out
# Topic-name variants (members' servers) of the day's papers laid out for DMs: each is
# the whole day's papers, so only a few are kept; a member with other ones lays out anew.
LAYOUT_VARIANTS = 8
FINISHED_EMBEDS = 20_000  # (paper, why) embeds kept per variant: ~1 KB each
# Per topic-name variant: each paper's embed parts, and its embeds by why.
_Layouts = tuple[dict[int, EmbedParts], dict[tuple[int, tuple[str, ...]], Embed]]
MEMBER_PAGES_CACHE_SIZE = 128  # distinct sets of follows whose unranked DM is kept
HISTORY_LOOKBACK = 50  # messages searched when reconciling an interrupted send
# Members' DMs worked out ahead of the pacer, in seconds of posts (see deliver_member).
MEMBERS_AHEAD_S = 2.0
MIN_MEMBERS_AHEAD = 8
HELD_DETAIL = "another bot process is posting it right now"
THREADS_REFUSED_NOTICE = (
    "⚠️ I couldn't start a discussion thread here ({detail}). Give me the **Create Public "
    "Threads** and **Send Messages in Threads** permissions in this channel; the digest "
    "itself is posted."
)
# Outcomes that leave a delivery unfinished for now: its ledger row stays 'sending'.
UNSETTLED = (OutcomeStatus.RETRY, OutcomeStatus.HELD)
# A post the target refused: recorded, counted, never retried as such.
_FAILED = (OutcomeStatus.FAILED, OutcomeStatus.FAILED_GONE, OutcomeStatus.FAILED_CLOSED)


@dataclass(frozen=True)
class Outcome:
    status: OutcomeStatus  # what each one means: bot.core.outcomes
    day: dt.date | None = None
    message_id: int | None = None
    detail: str = ""


def with_marker(payload: MessagePayload, day: dt.date) -> MessagePayload:
    marked = payload.copy()
    marked["content"] = f"{payload.get('content', '')}\n-# {digest_marker(day)}".strip()
    return marked


class _Notices:
    """What one delivery tells its channel after its posts, once: that threads are not
    allowed there (said after the digest, not between its papers)."""

    def __init__(self, channel: Destination) -> None:
        self.channel = channel
        self.threads_refused: str | None = None  # why, when a thread was refused

    async def say_all(self) -> None:
        if self.threads_refused is None:
            return
        try:
            await self.channel.say(THREADS_REFUSED_NOTICE.format(detail=self.threads_refused))
        except PostFailed as exc:
            log.info("could not say that threads are refused: %s", exc)


class MemberPick(Protocol):
    """One paper a member's model picked, and why (plain text: the page escapes it)."""

    @property
    def paper(self) -> StoredPaper: ...

    def why_lines(self) -> list[str]: ...


class MemberRanker(Protocol):
    """Ranks a day's papers for a member (their model, above its calibrated threshold;
    muted papers left out): what their DM lists, best first. `explain`: how many picks'
    why to work out along with the ranking (the others' when read)."""

    async def rank_member_day(
        self,
        user_id: int,
        papers: Sequence[StoredPaper],
        *,
        limit: int | None = None,
        explain: int | None = None,
    ) -> Sequence[MemberPick]: ...


class CommunityLikes(Protocol):
    """The server's members' 👍 per paper (the relevance order of a channel digest)."""

    async def community_likes(self, guild_id: int, paper_ids: Sequence[int]) -> dict[int, int]: ...


class DeliverySettings(Protocol):
    """The settings posting reads."""

    @property
    def max_posts_per_second(self) -> float: ...

    @property
    def shard_ids(self) -> tuple[int, ...]: ...

    @property
    def shard_count(self) -> int | None: ...

    @property
    def sharded(self) -> bool: ...

    @property
    def claim_timeout(self) -> dt.timedelta: ...


class DeliveryService:
    """Posts digests and member DMs exactly once per (target, day).

    `on_schedules_changed` is awaited after the service paused a channel's digest (a
    paused digest has no cron job): the composition root points it at the scheduler."""

    def __init__(
        self,
        *,
        ledger: DeliveryLedger,
        papers: PaperReader,
        topics: TopicCatalog,
        poster: MessagePoster,
        settings: DeliverySettings,
        on_schedules_changed: Callable[[], Awaitable[None]],
        threads: PaperThreads | None = None,
        archive_minutes: ArchiveMinutes = DEFAULT_ARCHIVE_MINUTES,
        ranker: MemberRanker | None = None,
        community: CommunityLikes | None = None,
    ) -> None:
        self.ledger = ledger
        self.community = community  # None: the relevance order has HF upvotes alone
        self.ranker = ranker  # None: a member's DM is every paper matching a follow
        self.threads = threads
        self.archive_minutes = archive_minutes
        self.papers = papers
        self.topics = topics
        self.poster = poster
        self.settings = settings
        self._on_schedules_changed = on_schedules_changed
        rate, burst = process_share(
            settings.max_posts_per_second, 2, len(settings.shard_ids), settings.shard_count
        )
        self.pacer = Pacer(rate, burst=burst)
        # Members whose DMs are being worked out or posted at once (deliver_member).
        self.members_ahead = max(MIN_MEMBERS_AHEAD, math.ceil(rate * MEMBERS_AHEAD_S))
        self._member_slots = asyncio.Semaphore(self.members_ahead)
        self.members_in_progress = 0
        # Sharded, several processes share the ledger: claims are leases held by this
        # process (host, pid and a random part, so a restarted pid is a new owner).
        self.owner: str | None = None
        if settings.sharded:
            self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._inflight: set[str] = set()  # targets being sent right now, in this process
        self._closing = False  # shutting down: finish posts under way, start no new ones
        self._day_cache: tuple[tuple[dt.date, int], list[StoredPaper]] | None = None
        self._pages_cache: dict[tuple[object, ...], list[MessagePayload]] = {}
        self._words_cache: tuple[list[StoredPaper], PaperWords] | None = None
        # Unranked DMs by what the member follows, for `_member_pages_day`'s papers.
        self._member_pages: dict[tuple[object, ...], list[MessagePayload]] = {}
        self._member_pages_day: list[StoredPaper] | None = None
        # The day's papers laid out for DMs, by topic names (see _layout).
        self._parts_cache: tuple[list[StoredPaper], dict[object, _Layouts]] | None
        self._parts_cache = None
        self._day_lock = asyncio.Lock()

    async def drain(self, timeout: float) -> None:
        """Shutting down: start no new posts, and give those under way up to `timeout`
        seconds to be answered and recorded (cut off, a post stays 'sending' and the
        next start reconciles it from the channel history)."""
        self._closing = True
        deadline = time.monotonic() + timeout
        while self._inflight and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    # -- building the messages (also used by the pager buttons and /digest preview) ----------
    async def _day_papers(self, day: dt.date) -> list[StoredPaper]:
        """The day's papers, read once per fan-out rather than once per channel."""
        async with self._day_lock:  # a fan-out asks for it hundreds of times at once
            version = await self.papers.data_version()
            key = (day, version)
            if self._day_cache is None or self._day_cache[0] != key:
                self._day_cache = (key, await self.papers.papers_on_day(day))
            return self._day_cache[1]

    def _layout(
        self, papers: list[StoredPaper], names: Mapping[str, str]
    ) -> Callable[[StoredPaper, tuple[str, ...]], Embed]:
        """Lays out each of `_day_papers`' papers once for all the members' DMs (with
        the same topic names), and each paper with the same why once: a ranked DM shows
        up to 30 papers, and laying out each of them again for each of thousands of
        members would cost the fan-out more than ranking does. Members who follow the
        same topics share the why of the papers their follows picked."""
        if self._parts_cache is None or self._parts_cache[0] is not papers:
            self._parts_cache = (papers, {})
        variants = self._parts_cache[1]
        key = tuple(sorted(names.items()))
        if key not in variants and len(variants) >= LAYOUT_VARIANTS:
            variants.clear()
        laid_out, finished = variants.setdefault(key, ({}, {}))

        def finish(paper: StoredPaper, why: tuple[str, ...]) -> Embed:
            embed = finished.get((paper.id, why))
            if embed is None:
                parts = laid_out.get(paper.id)
                if parts is None:
                    parts = laid_out[paper.id] = embed_parts(paper, topic_names=names)
                if len(finished) >= FINISHED_EMBEDS:
                    finished.clear()
                embed = finished[(paper.id, why)] = finished_embed(paper, why, parts=parts)
            return embed

        return finish

    def _day_words(self, papers: list[StoredPaper]) -> PaperWords:
        """The words of `_day_papers`' papers, split once for the whole fan-out."""
        if self._words_cache is None or self._words_cache[0] is not papers:
            self._words_cache = (papers, paper_words(papers))
        return self._words_cache[1]

    async def channel_pages(
        self,
        sub_topics: tuple[str, ...],
        max_items: int,
        guild_id: int | None,
        day: dt.date,
        source: str = "all",
        order: DigestOrder = DigestOrder.POPULAR,
    ) -> list[MessagePayload]:
        papers = await self._day_papers(day)
        names = await self.topics.topic_names(guild_id)
        likes = await self._likes(order, guild_id, papers)
        # Channels with the same settings get the same pages: lay each variant out once.
        key = (
            day,
            id(papers),
            sub_topics,
            max_items,
            source,
            order,
            tuple(sorted(names.items())),
            tuple(sorted(likes.items())),
        )
        pages = self._pages_cache.get(key)
        if pages is None:
            settings = DigestSettings(
                topics=sub_topics,
                max_items=max_items,
                source=parse_source_filter(source),
                order=order,
                likes=likes,
            )
            pages = [with_marker(p, day) for p in digest_pages(papers, day, settings, names)]
            if len(self._pages_cache) > PAGES_CACHE_SIZE:
                self._pages_cache.clear()
            self._pages_cache[key] = pages
        return pages

    async def _likes(
        self, order: DigestOrder, guild_id: int | None, papers: Sequence[StoredPaper]
    ) -> dict[int, int]:
        """The server's 👍 per paper, when the order reads them."""
        if order is not DigestOrder.RELEVANCE or self.community is None or guild_id is None:
            return {}
        return await self.community.community_likes(guild_id, [p.id for p in papers])

    async def member_pages(self, user: UserDelivery, day: dt.date) -> list[MessagePayload]:
        """The member's DM for `day`: their model's picks, best first, each with why
        (or, without a ranker, every paper matching a follow). No pages: no DM."""
        papers = await self._day_papers(day)
        # Not every server's names: only those of servers this member follows topics of.
        names = await self.topics.member_topic_names(user.follows)
        if self.ranker is not None:
            # Only the picks the DM shows are explained: a broad follow's 80 and more,
            # each explained for each of thousands of members, held up the fan-out.
            picks = await self.ranker.rank_member_day(user.user_id, papers, explain=MAX_PICKS)
            chosen = [(pick.paper, tuple(pick.why_lines())) for pick in picks[:MAX_PICKS]]
            finish = self._layout(papers, names)
            pages = member_digest_pages(
                chosen, day, names, ranked=True, finish=finish, picked=len(picks)
            )
            return [with_marker(p, day) for p in pages]
        taxonomy = await self.topics.ingest_taxonomy()
        by_key = {t.slug: t for t in taxonomy}
        # Members who follow the same things get the same DM (a popular topic or word
        # alone, often): matched and laid out once. A topic follow counts by the topic
        # it stands for now, so a renamed topic is not served from before.
        followed = [follow_topic(f, by_key) for f in user.follows]
        key = (
            "member",
            day,
            tuple(user.follows),
            tuple((t.slug, t.name) if t else None for t in followed),
            tuple(sorted(names.items())),
        )
        if self._member_pages_day is not papers:
            self._member_pages_day = papers
            self._member_pages.clear()
        listed = self._member_pages.get(key)
        if listed is None:
            matches = papers_for_member(papers, user.follows, by_key, self._day_words(papers))
            finish = self._layout(papers, names)
            listed = member_digest_pages(matches, day, names, finish=finish)
            if len(self._member_pages) >= MEMBER_PAGES_CACHE_SIZE:
                self._member_pages.clear()
            self._member_pages[key] = listed
        return [with_marker(p, day) for p in listed]

    @contextlib.contextmanager
    def _alone(self, target: str) -> Iterator[bool]:
        """True when no other coroutine of this process is delivering to `target` (a cron
        fire and a sweep can meet); the ledger guards against other processes."""
        if target in self._inflight:
            yield False
            return
        self._inflight.add(target)
        try:
            yield True
        finally:
            self._inflight.discard(target)

    async def _due_day(
        self, target: str, timezone: str, now: dt.datetime, days: list[dt.date] | None = None
    ) -> dt.date | None:
        return choose_digest_day(
            days if days is not None else await self.papers.days(limit=60),
            await self.ledger.last_delivered_day(target),
            local_today(now, timezone),
        )

    # -- channels ---------------------------------------------------------------------------
    async def deliver_channel(self, sub: ChannelSubscription, now: dt.datetime) -> Outcome:
        """Post the newest day this channel has not received; safe to call any number of
        times (cron fire, catch-up sweep, `/digest now`, after a restart)."""
        if sub.paused:
            return Outcome(OutcomeStatus.PAUSED)
        target = sub.target
        with self._alone(target) as alone:
            if not alone:
                return Outcome(OutcomeStatus.BUSY)
            days = await self.papers.days(limit=60)
            if not days:
                return Outcome(OutcomeStatus.NO_PAPERS)  # settled: nothing was ever ingested
            day = await self._due_day(target, sub.timezone, now, days)
            if day is None:
                return Outcome(OutcomeStatus.NOTHING_NEW)
            pages = await self.channel_pages(
                sub.topics, sub.max_items, sub.guild_id, day, sub.source, sub.order
            )
            channel = self.poster.channel(sub.channel_id, sub.guild_id)
            outcome = await self._post_channel_digest(sub, day, channel, pages)
            if outcome.status == OutcomeStatus.FAILED_GONE:
                updated = await self.ledger.record_channel_failure(
                    sub.channel_id, outcome.detail, FAILURES_BEFORE_PAUSE
                )
                if updated and updated.paused:
                    log.warning("paused digest for channel %s: %s", sub.channel_id, outcome.detail)
                    await self._on_schedules_changed()  # a paused digest has no cron job
                return Outcome(OutcomeStatus.FAILED, day, detail=outcome.detail)
            posted = outcome.status in (OutcomeStatus.SENT, OutcomeStatus.RECONCILED)
            if posted and (sub.failures or sub.last_error):
                await self.ledger.record_channel_success(sub.channel_id)
            return outcome

    # -- members ----------------------------------------------------------------------------
    async def deliver_member(self, user: UserDelivery, now: dt.datetime) -> Outcome:
        """The member's DM for the day due, once. Every member due at the same minute is
        fired at once; only `members_ahead` of them (two seconds of posts) are worked
        out and posted at a time, the rest waiting their turn here. Unbounded, thousands
        of members each read their ratings, built their model and laid out their DM
        side by side, so the first DMs were ready only after seconds in which the
        pacer had nothing to post (and every member's pages sat in memory)."""
        if user.dm_closed:
            return Outcome(OutcomeStatus.DMS_CLOSED)
        target = user.target
        with self._alone(target) as alone:
            if not alone:
                return Outcome(OutcomeStatus.BUSY)
            async with self._member_slots:
                if self._closing:  # nothing claimed yet: the next start sends it
                    return Outcome(OutcomeStatus.RETRY, detail="shutting down")
                self.members_in_progress += 1
                try:
                    return await self._deliver_member(user, target, now)
                finally:
                    self.members_in_progress -= 1

    async def _deliver_member(self, user: UserDelivery, target: str, now: dt.datetime) -> Outcome:
        day = await self._due_day(target, user.timezone, now)
        if day is None:
            return Outcome(OutcomeStatus.NOTHING_NEW)
        pages = await self.member_pages(user, day)
        if not pages:
            record = await self._claim(target, day)
            if record.status == DeliveryStatus.HELD:
                return Outcome(OutcomeStatus.HELD, day, detail=HELD_DETAIL)
            if record.status == DeliveryStatus.SENDING:
                await self.ledger.finish_delivery(target, day, DeliveryStatus.EMPTY)
            return Outcome(OutcomeStatus.EMPTY, day)
        try:
            channel = await self.poster.member(user.user_id)
        except PostInterrupted as exc:  # the DM channel could not be opened
            return Outcome(OutcomeStatus.RETRY, day, detail=exc.detail)
        pager = Pager(PagerScope.MEMBER, day, 1, len(pages))
        outcome = await self._send_once(target, day, channel, pages[0], pager=pager)
        if outcome.status == OutcomeStatus.FAILED_CLOSED:
            await self.ledger.set_dm_closed(user.user_id, True)
            return Outcome(OutcomeStatus.DMS_CLOSED, day, detail=outcome.detail)
        return outcome

    # -- the exactly-once core ----------------------------------------------------------------
    async def _claim(self, target: str, day: dt.date) -> DeliveryRecord:
        if self.owner is None:
            return await self.ledger.claim_delivery(target, day)
        return await self.ledger.claim_delivery(
            target, day, owner=self.owner, lease=self.settings.claim_timeout
        )

    async def _send_once(
        self,
        target: str,
        day: dt.date,
        channel: Destination,
        payload: MessagePayload,
        *,
        pager: Pager | None = None,
        marker: str | None = None,
        lookback: int = HISTORY_LOOKBACK,
        then: Callable[[int], Awaitable[Outcome | None]] | None = None,
    ) -> Outcome:
        """Post `payload` to `target` for `day` exactly once. On a retry the channel's
        latest `lookback` messages are searched for `marker` (the digest's by default).

        `then` is what else belongs to this post (its threads, the per-paper messages):
        awaited with the message id once the post is out or found, before the row is
        marked sent. When it returns an unsettled outcome (retry, held) the row stays
        'sending', so the next attempt finds the post in the history and carries on."""
        ledger = self.ledger
        marker = marker or digest_marker(day)
        # Wait for our turn before claiming, not after: a fan-out can queue here for
        # longer than a lease, and a post sent after its lease lapsed may meet a peer
        # that took the claim over (finding nothing in the history yet) and sent it too.
        await self.pacer.acquire()
        if self._closing:  # the row is not even claimed: the next start posts it
            return Outcome(OutcomeStatus.RETRY, day, detail="shutting down")
        claimed_at = time.monotonic()
        record = await self._claim(target, day)
        if record.status.done:
            return Outcome(OutcomeStatus.ALREADY, day, record.message_id)
        if record.status == DeliveryStatus.HELD:
            # The detail may reach users (`/digest now`); the owner id is for the log.
            log.debug("%s for %s is claimed by %s", target, day, record.owner)
            return Outcome(OutcomeStatus.HELD, day, detail=HELD_DETAIL)
        if record.attempts > 1:
            found = await channel.find_posted(marker, lookback)
            if found is not None:
                if then is not None and (unsettled := await then(found)) is not None:
                    return unsettled
                await ledger.finish_delivery(target, day, DeliveryStatus.SENT, found, "reconciled")
                return Outcome(OutcomeStatus.RECONCILED, day, found)
        timeout: float | None = None
        if self.owner is not None:
            # A lease only protects a send that ends before the lease does. Give up at
            # half of it, counted from the claim (reconciling may have taken a while):
            # the row stays 'sending', and whoever tries next (us, or a process taking
            # over) looks in the channel's history first.
            lease = self.settings.claim_timeout.total_seconds()
            timeout = lease / 2 - (time.monotonic() - claimed_at)
            if timeout <= 0:
                return Outcome(OutcomeStatus.RETRY, day, detail="claim ran short before sending")
        try:
            message_id = await channel.post(
                payload, nonce=delivery_nonce(target, day), pager=pager, timeout=timeout
            )
        except (DmsClosed, TargetGone) as exc:
            refused = isinstance(exc, DmsClosed)
            status = OutcomeStatus.FAILED_CLOSED if refused else OutcomeStatus.FAILED_GONE
            await ledger.finish_delivery(target, day, DeliveryStatus.FAILED, detail=exc.detail)
            return Outcome(status, day, detail=exc.detail)
        except PostFailed as exc:  # PostInterrupted: a timeout, 5xx, 429 after retries...
            # Leave the row 'sending': the request may have reached Discord, so the next
            # attempt reconciles against history before it sends again.
            log.warning("sending %s for %s failed: %s", target, day, exc)
            return Outcome(OutcomeStatus.RETRY, day, detail=str(exc)[:200])
        if then is not None and (unsettled := await then(message_id)) is not None:
            return unsettled
        await ledger.finish_delivery(target, day, DeliveryStatus.SENT, message_id)
        return Outcome(OutcomeStatus.SENT, day, message_id)

    # -- discussion threads ---------------------------------------------------------------------
    async def _post_channel_digest(
        self,
        sub: ChannelSubscription,
        day: dt.date,
        channel: Destination,
        pages: list[MessagePayload],
    ) -> Outcome:
        """The channel's digest for `day`, with the threads its `thread` mode asks for.
        The digest's own row is marked sent only after every thread (and per-paper
        message) is settled, each under a ledger row of its own (core.threads)."""
        target = sub.target
        mode = thread_mode(sub.thread)
        pager = Pager(PagerScope.CHANNEL, day, 1, len(pages))
        if mode is ThreadMode.NONE:
            return await self._send_once(target, day, channel, pages[0], pager=pager)
        notices = _Notices(channel)
        if mode is ThreadMode.DIGEST:
            names = await self.topics.topic_names(sub.guild_id)
            shown = topic_display_names(sub.topics, names, REMOVED_TOPIC)
            name = digest_thread_name(day, DigestSettings(sub.topics, sub.max_items), shown)

            async def digest_thread(message_id: int) -> Outcome | None:
                step = step_target(target, "thread")
                started = await self._thread_once(step, day, channel, message_id, name, notices)
                return started if started.status in UNSETTLED else None

            outcome = await self._send_once(
                target, day, channel, pages[0], pager=pager, then=digest_thread
            )
            await notices.say_all()
            return outcome
        items = await self._paper_items(sub, day)
        if not items:  # nothing on the day (or under the filter): the usual short post
            return await self._send_once(target, day, channel, pages[0], pager=pager)

        async def per_paper(header_id: int) -> Outcome | None:
            return await self._paper_steps(sub, day, channel, items, notices)

        outcome = await self._send_once(
            target,
            day,
            channel,
            header_only(pages[0]),
            lookback=HISTORY_LOOKBACK + len(items),
            then=per_paper,
        )
        await notices.say_all()
        return outcome

    async def _paper_items(self, sub: ChannelSubscription, day: dt.date) -> list[PaperItem]:
        papers = await self._day_papers(day)
        names = await self.topics.topic_names(sub.guild_id)
        settings = DigestSettings(
            topics=sub.topics,
            max_items=sub.max_items,
            source=parse_source_filter(sub.source),
            order=sub.order,  # one post per paper, in the digest's own order
            likes=await self._likes(sub.order, sub.guild_id, papers),
        )
        return paper_items(papers, day, settings, names)

    async def _paper_steps(
        self,
        sub: ChannelSubscription,
        day: dt.date,
        channel: Destination,
        items: list[PaperItem],
        notices: _Notices,
    ) -> Outcome | None:
        """Each paper's message, then its thread, in order; None when all are settled."""
        target = sub.target
        lookback = HISTORY_LOOKBACK + len(items)
        for item in items:
            posted = await self._send_once(
                step_target(target, f"paper:{item.paper_id}"),
                day,
                channel,
                item.payload,
                marker=item_marker(day, item.paper_id),
                lookback=lookback,
            )
            if posted.status in UNSETTLED or posted.status in _FAILED:
                # Unsettled, or the channel refuses posts now (counted as the digest's
                # failure): the digest's row stays unfinished, retried like any post.
                return posted
            if posted.message_id is None or notices.threads_refused is not None:
                continue  # no message to hang a thread off; or threads are not allowed
            started = await self._thread_once(
                step_target(target, f"thread:{item.paper_id}"),
                day,
                channel,
                posted.message_id,
                item.thread_name,
                notices,
            )
            if started.status in UNSETTLED:
                return started
            if self.threads is not None and started.message_id is not None:
                # Written again on a retry (the same id): /discuss finds this thread.
                await self.threads.set_paper_thread(
                    sub.channel_id, item.paper_id, started.message_id, sub.guild_id
                )
        return None

    async def _thread_once(
        self,
        target: str,
        day: dt.date,
        channel: Destination,
        message_id: int,
        name: str,
        notices: _Notices,
    ) -> Outcome:
        """Start the thread of one message exactly once, under a ledger row of its own.
        Settled: "sent" or "already" with the thread id, or "failed" when refused for
        good (threads not allowed: told once in the channel; the message is gone).
        Unsettled: "retry" or "held", the row left for the next attempt."""
        await self.pacer.acquire()
        if self._closing:
            return Outcome(OutcomeStatus.RETRY, day, detail="shutting down")
        record = await self._claim(target, day)
        if record.status.done:
            return Outcome(OutcomeStatus.ALREADY, day, record.message_id)
        if record.status == DeliveryStatus.HELD:
            return Outcome(OutcomeStatus.HELD, day, detail=HELD_DETAIL)
        try:
            # Nothing to look up on a retry: Discord answers 160004 for a message that
            # has its thread already, and the poster returns that thread's id.
            thread_id = await channel.start_thread(message_id, name, self.archive_minutes)
        except (ThreadsRefused, TargetGone) as exc:
            # Refused for good (no permission; the message was deleted): the post stays.
            await self.ledger.finish_delivery(target, day, DeliveryStatus.FAILED, detail=exc.detail)
            log.warning("no thread for %s on %s: %s", target, day, exc.detail)
            if isinstance(exc, ThreadsRefused):
                notices.threads_refused = exc.detail
            return Outcome(OutcomeStatus.FAILED, day, detail=exc.detail)
        except PostFailed as exc:
            log.warning("starting the thread %s for %s failed: %s", target, day, exc)
            return Outcome(OutcomeStatus.RETRY, day, detail=str(exc)[:200])
        await self.ledger.finish_delivery(target, day, DeliveryStatus.SENT, thread_id)
        return Outcome(OutcomeStatus.SENT, day, thread_id)

    # -- telling members their DMs are closed --------------------------------------------------
    async def closed_dms_notice_due(self, user_id: int) -> bool:
        """True once per closed-DM episode, when the member should now be told (after
        their next command) that we stopped DMing them; records that they were told."""
        user = await self.ledger.user_delivery(user_id)
        if user is None or not user.dm_closed or user.dm_closed_told:
            return False
        await self.ledger.set_dm_closed(user.user_id, True, told=True)
        return True
