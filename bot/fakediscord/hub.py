"""What the fake's REST routes and its user-side driver share: the server's state and
switches as a Protocol (FakeDiscord, in server.py, is the one implementation), and the
record of each request. Routes and driver type against this, never against the server
module, so no module of the fake imports server.py but the package's front door."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from .faults import FaultInjector
from .gateway import GatewayHub
from .interactions import InteractionTracker
from .state import FakeState
from .util import Signal
from .validation import Validator


@dataclass
class RecordedRequest:
    """One HTTP request the bot made, as the fake saw and answered it."""

    method: str
    route: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    files: list[tuple[str, int]]
    timestamp: float
    status: int = 0
    fault: str | None = None
    response: Any = None
    problems: list[str] = field(default_factory=list)
    response_headers: dict[str, str] = field(default_factory=dict)


class Hub(Protocol):
    """The fake Discord as its routes and driver see it."""

    state: FakeState
    stats: Counter[str]
    faults: FaultInjector
    gateway: GatewayHub
    interactions: InteractionTracker
    requests_changed: Signal
    messages_changed: Signal
    payload_problems: list[tuple[str, list[str]]]
    token: str | None
    strict: bool
    interaction_timeout: float | None
    recommended_shards: int

    @property
    def validator(self) -> Validator | None: ...

    @property
    def gateway_url(self) -> str: ...

    def record_request(self, record: RecordedRequest) -> None: ...
