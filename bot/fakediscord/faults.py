"""Deterministic fault injection and optional realistic rate limiting for the fake REST API.

Every fault here targets requests made *by the bot* over HTTP; the test driver talks to the
fake through Python calls and is never affected.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

from .util import normalize_route

# Routes Discord keeps out of the bot's global rate limit: interaction callbacks and the
# interaction webhook (`/webhooks/{application}/{token}`: follow-ups, edits of the answer).
_GLOBAL_EXEMPT_PREFIXES = ("/interactions/", "/webhooks/")
_MAJOR_PARAMS = ("channel_id", "guild_id", "webhook_id", "app_id", "token", "interaction_id")


@dataclass
class Fault:
    """An error response the fake should send instead of running the handler."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = "error"


@dataclass
class _Window:
    start: float
    count: int = 0


class RateLimiter:
    """Fixed-window limits: one global (requests/s) and one per (route bucket, major id)."""

    def __init__(self, global_per_second: int, bucket_limit: int, bucket_window: float) -> None:
        self.global_per_second = global_per_second
        self.bucket_limit = bucket_limit
        self.bucket_window = bucket_window
        self._global = _Window(0.0)
        self._buckets: dict[tuple[str, str], _Window] = {}

    def check(
        self, route: str, path: str, params: dict[str, str], now: float
    ) -> tuple[dict[str, str], Fault | None]:
        """Count a request; return the X-RateLimit-* headers and a 429 fault if exceeded."""
        bucket_hash = bucket_hash_for(route)
        major = "/".join(params.get(k, "") for k in _MAJOR_PARAMS)
        window = self._buckets.setdefault((bucket_hash, major), _Window(now))
        if now - window.start >= self.bucket_window:
            window.start, window.count = now, 0
        reset_after = max(window.start + self.bucket_window - now, 0.001)
        if not path.startswith(_GLOBAL_EXEMPT_PREFIXES):
            if now - self._global.start >= 1.0:
                self._global.start, self._global.count = now, 0
            if self._global.count >= self.global_per_second:
                retry = max(self._global.start + 1.0 - now, 0.001)
                return {}, _too_many(retry, global_=True, bucket=bucket_hash)
            self._global.count += 1
        if window.count >= self.bucket_limit:
            return {}, _too_many(reset_after, global_=False, bucket=bucket_hash)
        window.count += 1
        headers = _rate_headers(self.bucket_limit, self.bucket_limit - window.count, reset_after)
        headers["X-RateLimit-Bucket"] = bucket_hash
        return headers, None


def bucket_hash_for(route: str) -> str:
    """A stable fake X-RateLimit-Bucket value per route template."""
    return hashlib.sha1(normalize_route(route).encode()).hexdigest()[:16]


def _rate_headers(limit: int, remaining: int, reset_after: float) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
    }


def _too_many(retry_after: float, *, global_: bool, bucket: str) -> Fault:
    """A 429 exactly as discord.py needs it: JSON body plus a ``Via`` header.

    discord.py treats a 429 *without* ``Via`` as a Cloudflare ban and raises instead of retrying.
    """
    headers = _rate_headers(1, 0, retry_after)
    headers.update(
        {
            "X-RateLimit-Bucket": bucket,
            "X-RateLimit-Scope": "global" if global_ else "user",
            "Retry-After": str(max(1, math.ceil(retry_after))),
        }
    )
    if global_:
        headers["X-RateLimit-Global"] = "true"
    body = {
        "message": "You are being rate limited.",
        "retry_after": round(retry_after, 3),
        "global": global_,
    }
    kind = "rate_limited_global" if global_ else "rate_limited"
    return Fault(429, body, headers, kind)


class FaultInjector:
    """Seeded random faults plus targeted channel / DM failures."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.rate_limit_fraction = 0.0
        self.server_error_fraction = 0.0
        self.retry_after = 0.05
        # If set, random faults only hit these route templates (placeholder names ignored).
        self.routes: set[str] | None = None
        self.channel_faults: dict[int, Fault] = {}
        self.refused_dm_users: set[int] = set()
        self.rate_limiter: RateLimiter | None = None
        self._queued: list[list[Any]] = []  # [normalized route or None, status, remaining]
        # Responses to hold back after the request took effect: [route, skip, seconds].
        self._holds: list[list[Any]] = []
        # Requests to hold back *before* they take effect: [route, skip, seconds].
        self._delays: list[list[Any]] = []
        self.holding = asyncio.Event()  # set while a held response is waiting
        # The requests whose responses were held, in order (RecordedRequest): which
        # channel, and so which shard's process, is waiting for an answer.
        self.held: list[Any] = []

    def reseed(self, seed: int) -> None:
        """Restart the random sequence."""
        self.rng = random.Random(seed)

    def configure(
        self,
        *,
        rate_limit_fraction: float | None = None,
        server_error_fraction: float | None = None,
        retry_after: float | None = None,
        routes: set[str] | None = None,
    ) -> None:
        """Set the random fault rates (None leaves a setting unchanged)."""
        if rate_limit_fraction is not None:
            self.rate_limit_fraction = rate_limit_fraction
        if server_error_fraction is not None:
            self.server_error_fraction = server_error_fraction
        if retry_after is not None:
            self.retry_after = retry_after
        if routes is not None:
            self.routes = {normalize_route(r) for r in routes}

    def inject_next(self, route: str | None = None, *, status: int = 429, count: int = 1) -> None:
        """Fail the next ``count`` bot requests (to ``route`` if given) with ``status``.

        Deterministic alternative to the random fractions: 429 carries ``retry_after``,
        500 makes discord.py retry after ~1 s, anything else is a plain JSON error.
        """
        self._queued.append([normalize_route(route) if route else None, status, count])

    def hold_response(self, route: str, *, skip: int = 0, seconds: float = 30.0) -> None:
        """Let the request after ``skip`` matching ones take effect (the message is stored,
        as Discord would have accepted it), then delay its response by ``seconds``.

        This is the window "accepted by Discord, not yet known to the bot": a test kills
        the bot while ``holding`` is set.
        """
        self.holding.clear()
        self._holds.append([normalize_route(route), skip, seconds])

    def delay_request(self, route: str, *, skip: int = 0, seconds: float = 30.0) -> None:
        """Hold the request after ``skip`` matching ones for ``seconds`` *before* it takes
        effect, and carry it out then even if the bot gave up waiting: Discord may apply a
        request whose client timed out, after the client already tried again."""
        self._delays.append([normalize_route(route), skip, seconds])

    def request_delay(self, route: str) -> float:
        """Seconds to wait before handling this request; 0 for none."""
        return _take(self._delays, route)

    def response_delay(self, route: str) -> float:
        """Seconds to hold this (already handled) request's response; 0 for none."""
        return _take(self._holds, route)

    def _queued_fault(self, route: str) -> Fault | None:
        for entry in self._queued:
            if entry[0] is None or entry[0] == normalize_route(route):
                entry[2] -= 1
                if entry[2] <= 0:
                    self._queued.remove(entry)
                return self._status_fault(entry[1], route)
        return None

    def _status_fault(self, status: int, route: str) -> Fault:
        if status == 429:
            retry = self.retry_after * (1 + self.rng.random())
            return _too_many(retry, global_=False, bucket=bucket_hash_for(route))
        if status >= 500:
            body = {"message": f"{status}: Internal Server Error", "code": 0}
            return Fault(status, body, kind="server_error")
        return Fault(status, {"message": f"{status}: injected error", "code": 0}, kind="injected")

    def enable_rate_limits(
        self, global_per_second: int = 50, bucket_limit: int = 5, bucket_window: float = 5.0
    ) -> None:
        """Turn on realistic rate limiting (headers on every response, 429 when exceeded)."""
        self.rate_limiter = RateLimiter(global_per_second, bucket_limit, bucket_window)

    def disable_rate_limits(self) -> None:
        """Turn realistic rate limiting off again."""
        self.rate_limiter = None

    def fail_channel(self, channel_id: int, status: int = 403, code: int | None = None) -> None:
        """Make every bot request touching ``channel_id`` fail (403 Missing Access / 404)."""
        if status == 404:
            body = {"message": "Unknown Channel", "code": code or 10003}
        elif status == 403:
            code = code or 50001
            text = "Missing Permissions" if code == 50013 else "Missing Access"
            body = {"message": text, "code": code}
        else:
            body = {"message": f"{status}: injected failure", "code": code or 0}
        self.channel_faults[channel_id] = Fault(status, body, kind="channel_fault")

    def restore_channel(self, channel_id: int) -> None:
        """Undo :meth:`fail_channel`."""
        self.channel_faults.pop(channel_id, None)

    def refuse_dms(self, user_id: int, refuse: bool = True) -> None:
        """Make DMs to ``user_id`` fail with 403 / 50007 like a user with DMs closed."""
        if refuse:
            self.refused_dm_users.add(user_id)
        else:
            self.refused_dm_users.discard(user_id)

    @staticmethod
    def dm_refused_fault() -> Fault:
        """The error Discord returns when a user does not accept DMs from the bot."""
        body = {"message": "Cannot send messages to this user", "code": 50007}
        return Fault(403, body, kind="dm_refused")

    def check(
        self, route: str, path: str, params: dict[str, str]
    ) -> tuple[dict[str, str], Fault | None]:
        """Decide the fate of one bot request before its handler runs."""
        headers: dict[str, str] = {}
        if self.rate_limiter is not None:
            headers, fault = self.rate_limiter.check(route, path, params, time.monotonic())
            if fault is not None:
                return headers, fault
        queued = self._queued_fault(route)
        if queued is not None:
            return headers, queued
        if self.routes is None or normalize_route(route) in self.routes:
            roll = self.rng.random()
            if roll < self.rate_limit_fraction:
                return headers, self._status_fault(429, route)
            if roll < self.rate_limit_fraction + self.server_error_fraction:
                return headers, self._status_fault(500, route)
        channel_id = params.get("channel_id")
        if channel_id and channel_id.isdigit() and int(channel_id) in self.channel_faults:
            return headers, self.channel_faults[int(channel_id)]
        return headers, None


def _take(entries: list[list[Any]], route: str) -> float:
    """The delay of the first entry for ``route`` whose skips are used up (removed)."""
    for entry in entries:
        if entry[0] == normalize_route(route):
            if entry[1] > 0:
                entry[1] -= 1
                return 0.0
            entries.remove(entry)
            return entry[2]
    return 0.0
