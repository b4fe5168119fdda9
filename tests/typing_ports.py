"""What mypy proves about the storage backends (`.ci/run` checks this file; nothing runs
it): each backend can be built, with no abstract method left out, and provides every
storage port of bot.core.ports as the services take them. A method missing from a
backend, or one whose signature drifted from its port, fails the type check here.
tests/test_architecture.py compares the same signatures at run time.
"""

from __future__ import annotations

from typing import Any

from bot.core import ports
from storage.postgres.ingest_tx import PostgresIngestTransaction
from storage.postgres.store import PostgresStorage
from storage.sqlite.ingest_tx import SqliteIngestTransaction
from storage.sqlite.store import SqliteStorage

StoragePorts = tuple[
    ports.PaperSearch,
    ports.PaperReader,
    ports.IngestStore,
    ports.GuildTopics,
    ports.Subscriptions,
    ports.DeliveryLedger,
]


def sqlite_backend(*args: Any) -> tuple[StoragePorts, ports.IngestTransaction]:
    storage = SqliteStorage(*args)
    return (storage, storage, storage, storage, storage, storage), SqliteIngestTransaction(*args)


def postgres_backend(*args: Any) -> tuple[StoragePorts, ports.IngestTransaction]:
    storage = PostgresStorage(*args)
    transaction = PostgresIngestTransaction(*args)
    return (storage, storage, storage, storage, storage, storage), transaction
