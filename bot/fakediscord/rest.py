"""REST plumbing: route matching, body parsing, request recording, faults, JSON responses."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from .hub import Hub, RecordedRequest
from .util import json_response, normalize_route
from .validation import run_validator

_API_PREFIX = re.compile(r"^/api/v\d+")


class ApiError(Exception):
    """Raised by handlers to answer with a Discord-style JSON error."""

    def __init__(self, status: int, code: int, message: str, errors: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "code": code}
        if errors is not None:
            self.body["errors"] = errors


@dataclass
class RestRequest:
    """What a route handler receives."""

    fake: Hub
    method: str
    route: str
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    files: list[tuple[str, bytes, str]]
    record: RecordedRequest

    def int_param(self, name: str) -> int:
        """A path parameter as an int (404 Unknown ... if it is not a snowflake)."""
        value = self.params[name]
        if not value.isdigit():
            raise ApiError(404, 0, f"404: Not Found ({name})")
        return int(value)

    def body(self) -> dict[str, Any]:
        """The JSON body as a dict (empty if absent)."""
        return self.json if isinstance(self.json, dict) else {}

    def validate_message(self, payload: dict[str, Any]) -> None:
        """Run the message validator hook; record problems; 400 in strict mode."""
        problems = run_validator(self.fake.validator, payload)
        self.add_problems(problems)

    def add_problems(self, problems: list[str]) -> None:
        """Record payload problems for this request (and reject them in strict mode)."""
        if not problems:
            return
        self.record.problems.extend(problems)
        self.fake.payload_problems.append((self.route, problems))
        if self.fake.strict:
            raise ApiError(400, 50035, "Invalid Form Body", {"_errors": problems})


Handler = Callable[[RestRequest], Awaitable[tuple[int, Any]]]


class Router:
    """Matches concrete paths to ``METHOD /template/{param}`` routes; literals beat params."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, str, list[str], Handler]] = []

    def add(self, route: str, handler: Handler) -> None:
        """Register ``"METHOD /path/{param}"``."""
        method, template = route.split(" ", 1)
        self._routes.append((method, template, template.strip("/").split("/"), handler))

    def match(self, method: str, path: str) -> tuple[str, dict[str, str], Handler] | None:
        """Best match for a request, or None."""
        segments = path.strip("/").split("/")
        best: tuple[int, str, dict[str, str], Handler] | None = None
        for r_method, template, parts, handler in self._routes:
            if r_method != method or len(parts) != len(segments):
                continue
            params: dict[str, str] = {}
            literals = 0
            for part, seg in zip(parts, segments, strict=True):
                if part.startswith("{"):
                    params[part[1:-1]] = seg
                elif part == seg:
                    literals += 1
                else:
                    break
            else:
                if best is None or literals > best[0]:
                    best = (literals, f"{method} {template}", params, handler)
        return None if best is None else best[1:]


async def _read_body(request: web.Request) -> tuple[Any, list[tuple[str, bytes, str]]]:
    """Parse a JSON or multipart (``payload_json`` + ``files[n]``) body."""
    files: list[tuple[str, bytes, str]] = []
    if request.content_type.startswith("multipart/"):
        payload: Any = None
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            assert isinstance(part, BodyPartReader), "discord.py nests no multipart body"
            data = await part.read()
            name = part.name or ""
            if name == "payload_json":
                payload = json.loads(data.decode())
            elif part.filename:
                ctype = part.headers.get("Content-Type", "application/octet-stream")
                files.append((part.filename, bytes(data), ctype))
        return payload, files
    raw = await request.read()
    if not raw:
        return None, files
    try:
        return json.loads(raw), files
    except ValueError:
        return raw.decode(errors="replace"), files


class RestApi:
    """The aiohttp handler for everything under ``/api/v10``."""

    def __init__(self, fake: Hub, router: Router) -> None:
        self.fake = fake
        self.router = router

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Record, maybe fault, then run the matching handler."""
        fake = self.fake
        path = _API_PREFIX.sub("", request.path) or "/"
        body, files = await _read_body(request)
        match = self.router.match(request.method, path)
        route, params, handler = match if match else (f"{request.method} UNKNOWN", {}, None)
        record = RecordedRequest(
            method=request.method,
            route=route,
            path=path,
            params=params,
            query=dict(request.query),
            json=body,
            files=[(name, len(data)) for name, data, _ in files],
            timestamp=time.monotonic(),
        )
        fake.record_request(record)
        fake.stats["requests"] += 1
        headers: dict[str, str] = {"Via": "1.1 google"}
        if handler is None:
            return self._finish(record, 404, {"message": "Unknown route", "code": 0}, headers)
        if not self._authorized(request, path):
            return self._finish(record, 401, {"message": "401: Unauthorized", "code": 0}, headers)
        limit_headers, fault = fake.faults.check(route, path, params)
        headers.update(limit_headers)
        if fault is not None:
            record.fault = fault.kind
            fake.stats[fault.kind] += 1
            if fault.status == 429:
                fake.stats["429"] += 1
            headers.update(fault.headers)
            return self._finish(record, fault.status, fault.body, headers)
        req = RestRequest(fake, request.method, route, params, record.query, body, files, record)
        early = fake.faults.request_delay(route)
        if early:
            # aiohttp runs a handler to its end even when the client hangs up
            # (handler_cancellation is off), as Discord applies what it received.
            await asyncio.sleep(early)
        try:
            status, data = await handler(req)
        except ApiError as exc:
            status, data = exc.status, exc.body
        delay = fake.faults.response_delay(route) if status < 300 else 0.0
        if delay:
            fake.faults.held.append(record)
            fake.faults.holding.set()
            await asyncio.sleep(delay)
        return self._finish(record, status, data, headers)

    def _authorized(self, request: web.Request, path: str) -> bool:
        # Webhook and interaction-callback routes authenticate by token in the URL.
        if self.fake.token is None or path.startswith(("/webhooks/", "/interactions/")):
            return True
        return request.headers.get("Authorization") == f"Bot {self.fake.token}"

    def _finish(
        self, record: RecordedRequest, status: int, data: Any, headers: dict[str, str]
    ) -> web.Response:
        record.status = status
        record.response = data
        record.response_headers = dict(headers)
        if status == 204 or data is None:
            record.status = 204
        self.fake.requests_changed.pulse()  # answered: waiters on the status re-check
        if record.status == 204:
            return web.Response(status=204, headers=headers)
        return json_response(data, status, headers)


def matches(record: RecordedRequest, route: str, params: dict[str, Any]) -> bool:
    """Whether a recorded request fits ``route`` (placeholder names ignored) and params."""
    if normalize_route(record.route) != normalize_route(route):
        return False
    return all(record.params.get(k) == str(v) for k, v in params.items())
