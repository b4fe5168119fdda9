"""The services one paperbot process runs, as the composition root
(bot/discord_app/wiring.py) builds them and the client hands them to the cogs."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.delivery import DeliveryService
from bot.services.ingest_job import IngestJob
from bot.services.scheduling import ScheduleService
from bot.services.search import SearchService
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
