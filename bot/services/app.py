"""The services one paperbot process runs, as the composition root
(bot/discord_app/wiring.py) builds them and the client hands them to the cogs."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.delivery import DeliveryService
from bot.services.discussions import DiscussionService
from bot.services.follows import FollowService
from bot.services.ingest_job import IngestJob
from bot.services.reading import ReadingService
from bot.services.relevance_service import RelevanceService
from bot.services.scheduling import ScheduleService
from bot.services.search import SearchService
from bot.services.server_topics import ServerTopicService
from bot.services.status import StatusService
from bot.services.subscriptions import SubscriptionService
from bot.services.topic_removal import TopicRemover
from bot.services.topics import TopicCatalog


@dataclass(frozen=True)
class Services:
    topics: TopicCatalog
    search: SearchService
    delivery: DeliveryService
    ingest_job: IngestJob
    schedules: ScheduleService
    topic_removal: TopicRemover
    subscriptions: SubscriptionService  # channel digests (/digest)
    follows: FollowService  # members' follows and DM times (/follow, /delivery)
    server_topics: ServerTopicService  # a server's own topics (/topic add)
    discussions: DiscussionService  # papers' discussion threads (/discuss)
    status: StatusService  # what is stored (/status, /topics)
    relevance: RelevanceService  # feedback, For you, related papers, mutes, authors
    reading: ReadingService  # a member's clicks, saved papers, /forget-me
