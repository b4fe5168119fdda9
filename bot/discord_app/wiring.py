"""The composition root: the one place that builds paperbot's services over a storage,
settings and a clock, and the discord.py client they run in.

Everything else takes what it uses: the services take ports (bot.core.ports),
settings, a clock, the MessagePoster and callbacks, never the client. The callbacks
that close the loops between services are wired here: the delivery service pausing a
digest, or a topic removal, makes the scheduler rebuild its jobs.
"""

from __future__ import annotations

from typing import Any

from bot.cli.settings import Settings
from bot.core.ports import Clock, MessagePoster
from bot.core.topics import load_default_topics
from bot.discord_app.client import PaperBot, ShardedPaperBot, utcnow
from bot.discord_app.paper_actions import PAPER_ITEMS
from bot.discord_app.poster import DiscordPoster
from bot.discord_app.reading_views import READING_ITEMS
from bot.discord_app.views import DigestPageButton
from bot.services.app import Services
from bot.services.delivery import DeliveryService
from bot.services.discussions import DiscussionService
from bot.services.follows import FollowService
from bot.services.ingest_job import IngestJob
from bot.services.reading import ReadingService
from bot.services.relevance_service import RelevanceService
from bot.services.scheduling import ScheduleService
from bot.services.search import SearchService
from bot.services.search_processes import Close, SearchProcesses
from bot.services.server_topics import ServerTopicService
from bot.services.site.pages import Site, SitePages
from bot.services.site.server import SiteServer
from bot.services.status import StatusService
from bot.services.subscriptions import SubscriptionService
from bot.services.topic_removal import TopicRemover
from bot.services.topics import TopicCatalog
from storage import Storage, open_storage

# Persistent components: the digest pager's buttons on old messages keep working after
# a restart.
DYNAMIC_ITEMS = (DigestPageButton, *PAPER_ITEMS, *READING_ITEMS)


def build_services(
    *, settings: Settings, storage: Storage, clock: Clock, poster: MessagePoster
) -> Services:
    """Every service of one process, over one storage (it implements every port)."""
    topics = TopicCatalog(storage, load_default_topics())
    schedules: ScheduleService | None = None

    async def schedules_changed() -> None:
        assert schedules is not None  # set below, before anything can run
        await schedules.rebuild()

    relevance = RelevanceService(store=storage, papers=storage, topics=topics)
    delivery = DeliveryService(
        ledger=storage,
        papers=storage,
        topics=topics,
        poster=poster,
        settings=settings,
        on_schedules_changed=schedules_changed,
        threads=storage,
        ranker=relevance,  # a member's DM: their model's picks, above its threshold
        community=storage,  # the relevance order: this server's 👍 per paper
    )
    ingest_job = IngestJob(
        store=storage,
        topics=topics,
        settings=settings,
        clock=clock,
        after_new_papers=relevance.sync_vectors,  # their vectors, in a worker thread
    )
    schedules = ScheduleService(
        subscriptions=storage,
        ledger=storage,
        delivery=delivery,
        ingest=ingest_job.run,
        settings=settings,
        clock=clock,
    )
    return Services(
        topics=topics,
        search=SearchService(storage, topics.defaults, relevance),  # hybrid: words + meaning
        delivery=delivery,
        ingest_job=ingest_job,
        schedules=schedules,
        topic_removal=TopicRemover(
            subscriptions=storage,
            topics=topics,
            poster=poster,
            pacer=delivery.pacer,  # topic-removal DMs share the post rate with digests
            on_schedules_changed=schedules_changed,
        ),
        subscriptions=SubscriptionService(
            digests=storage,
            papers=storage,
            ledger=storage,
            topics=topics,
            delivery=delivery,
            schedules=schedules,
            clock=clock,
        ),
        follows=FollowService(
            follows=storage, topics=topics, delivery=delivery, schedules=schedules
        ),
        server_topics=ServerTopicService(store=storage, papers=storage, topics=topics),
        discussions=DiscussionService(threads=storage, topics=topics, poster=poster),
        status=StatusService(papers=storage, digests=storage, topics=topics, schedules=schedules),
        relevance=relevance,
        reading=ReadingService(relevance=relevance, store=storage),
    )


def make_bot(
    *,
    settings: Settings,
    storage: Storage,
    clock: Clock = utcnow,
    client_class: type[PaperBot] | None = None,
    **kwargs: Any,
) -> PaperBot:
    """The client for these settings, with its services: sharded when SHARD_COUNT is
    set, else plain (`client_class` picks one instead). `kwargs` go to PaperBot:
    extensions, start_scheduler, sync_commands and discord.py's client options."""
    cls = client_class or (ShardedPaperBot if settings.sharded else PaperBot)

    def services(client: PaperBot) -> Services:
        poster = DiscordPoster(client, storage)
        built = build_services(settings=settings, storage=storage, clock=clock, poster=poster)
        database = getattr(storage, "path", None)  # a SQLite file (PostgreSQL searches
        # run in the database server: nothing to move out of this process)
        if settings.search_processes > 0 and database and database != ":memory:":
            built.search.elsewhere = SearchProcesses(
                open_search_service, database, settings.search_processes
            )
        return built

    return cls(
        settings=settings,
        storage=storage,
        clock=clock,
        services=services,
        dynamic_items=DYNAMIC_ITEMS,
        **kwargs,
    )


async def open_search_service(database: str) -> tuple[SearchService, Close]:
    """The SearchService of a search worker process (bot/services/search_processes.py),
    as `build_services` makes it, over the process's own storage of `database`; and
    what closes that storage."""
    storage = await open_storage(database)
    topics = TopicCatalog(storage, load_default_topics())
    relevance = RelevanceService(store=storage, papers=storage, topics=topics)
    return SearchService(storage, topics.defaults, relevance), storage.close


def build_site_server(*, settings: Settings, storage: Storage) -> SiteServer | None:
    """The live site of `paperbot run` (HTTP_PORT), or None when it is off: the pages
    and feeds of `paperbot export-site`, read from this storage on request."""
    if settings.http_port is None:
        return None
    pages = SitePages(storage, Site(topics=load_default_topics()))
    return SiteServer(pages, settings.http_host, settings.http_port)
