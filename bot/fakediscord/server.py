"""The :class:`FakeDiscord` facade: an aiohttp server on 127.0.0.1 serving REST + gateway."""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiohttp import web

from . import interaction_routes, routes, threads
from .driver import InteractionDriver
from .faults import FaultInjector
from .gateway import INTENT_GUILD_MEMBERS, INTENT_GUILDS, GatewayHub
from .hub import RecordedRequest
from .interactions import InteractionTracker
from .payloads import channel_payload, guild_create_payload, make_attachment, member_payload
from .payloads import role_payload as _role_payload
from .rest import RestApi, Router, matches
from .state import TEXT_CHANNEL, FakeState
from .util import Signal
from .validation import Validator, load_message_validator

LISTEN_BACKLOG = 4096  # pending connections the listener holds (the kernel caps it)


class FakeDiscord(InteractionDriver):
    """A loopback Discord that the real discord.py client can log in to and run against.

    Typical use::

        async with FakeDiscord() as fake:
            guild = fake.add_guild("Lab")
            chan = fake.add_channel(guild, "papers")
            alice = fake.add_member(guild, "alice")
            async with running_bot(fake, bot):
                reply = await fake.invoke(guild, chan, alice, "digest show")
    """

    def __init__(
        self,
        *,
        bot_name: str = "paperbot",
        bot_id: int | None = None,
        token: str | None = None,
        heartbeat_interval_ms: int = 41250,
        seed: int = 0,
        interaction_timeout: float | None = 3.0,
        strict: bool = False,
        recommended_shards: int = 1,
    ) -> None:
        self.state = FakeState(bot_name, bot_id)
        self.stats: Counter[str] = Counter()
        self.faults = FaultInjector(seed)
        self.gateway = GatewayHub(self.state, self.stats, heartbeat_interval_ms)
        self.interactions = InteractionTracker(self.state)
        self.requests: list[RecordedRequest] = []
        # Pulsed when a request is recorded and again when it is answered.
        self.requests_changed = Signal()
        self.payload_problems: list[tuple[str, list[str]]] = []
        self.messages_changed = Signal()
        self.token = token
        self.gateway.token = token
        self.interaction_timeout = interaction_timeout
        self.strict = strict
        self.recommended_shards = recommended_shards
        self.port = 0
        # Loaded now, so a fake that cannot check payloads refuses to start at all.
        self._validator: Validator | None = load_message_validator()
        router = Router()
        routes.register(router)
        interaction_routes.register(router)
        threads.register(router)
        self._rest = RestApi(self, router)
        self._runner: web.AppRunner | None = None

    # --------------------------------------------------------------- lifecycle
    async def start(self, port: int = 0) -> FakeDiscord:
        """Listen on 127.0.0.1 (a free port unless given)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/", self.gateway.handle)
        app.router.add_get("/resume/", self.gateway.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._file)
        app.router.add_route("*", "/api/{tail:.*}", self._rest.handle)
        app.router.add_route("*", "/{tail:.*}", self._rest.handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        # Discord accepts any burst; aiohttp's default backlog (128) would drop the
        # connections of a burst of interaction answers until the loop accepts them.
        site = web.TCPSite(self._runner, "127.0.0.1", port, backlog=LISTEN_BACKLOG)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.state.base_url = self.base_url
        self.gateway.ws_url = self.gateway_url
        return self

    async def stop(self) -> None:
        """Close every gateway connection and the HTTP server."""
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY``."""
        return f"ws://127.0.0.1:{self.port}/"

    @property
    def bot_user_id(self) -> int:
        """The bot's user id."""
        return self.state.bot.id

    @property
    def application_id(self) -> int:
        """The application id (same as the bot user id)."""
        return self.state.application_id

    @property
    def validator(self) -> Validator | None:
        """Message validator hook: ``bot.core.limits.message_problems`` unless replaced
        (a test may set its own, or None to switch checking off on purpose)."""
        return self._validator

    @validator.setter
    def validator(self, func: Validator | None) -> None:
        self._validator = func

    @property
    def gateway_log(self) -> list[dict[str, Any]]:
        """Gateway lifecycle events: identify, resume, close, drop."""
        return self.gateway.log

    async def _file(self, request: web.Request) -> web.StreamResponse:
        """Serve attachment bytes (the bot downloads uploads from here)."""
        stored = None
        if request.match_info["attachment_id"].isdigit():
            stored = self.state.attachments.get(int(request.match_info["attachment_id"]))
        status = 200 if stored else 404
        self.record_request(
            RecordedRequest(
                "GET",
                "GET /attachments/{channel_id}/{attachment_id}/{filename}",
                request.path,
                dict(request.match_info),
                dict(request.query),
                None,
                [],
                time.monotonic(),
                status,
            )
        )
        if stored is None:
            return web.Response(status=404)
        ctype = stored.payload["content_type"]
        return web.Response(body=stored.data, headers={"Content-Type": ctype})

    # ------------------------------------------------------------ world building
    def add_guild(
        self, name: str = "Guild", *, guild_id: int | None = None, owner_id: int | None = None
    ) -> int:
        """Create a guild (the bot is a member); announced to a running bot."""
        guild = self.state.add_guild(name, guild_id=guild_id, owner_id=owner_id)
        data = guild_create_payload(self.state, guild.id)
        # A join omits "unavailable" (discord.py then fires on_guild_join, not _available).
        del data["unavailable"]
        self.gateway.dispatch(guild.id, "GUILD_CREATE", data)
        return guild.id

    def add_channel(
        self,
        guild_id: int,
        name: str,
        *,
        channel_id: int | None = None,
        type: int = TEXT_CHANNEL,
        topic: str | None = None,
        parent_id: int | None = None,
    ) -> int:
        """Create a guild channel (type 0 = text, 2 = voice, 4 = category, ...)."""
        channel = self.state.add_channel(
            guild_id, name, channel_id=channel_id, type=type, topic=topic, parent_id=parent_id
        )
        data = channel_payload(self.state, channel)
        self.gateway.dispatch(guild_id, "CHANNEL_CREATE", data, intent=INTENT_GUILDS)
        return channel.id

    def add_member(
        self,
        guild_id: int,
        name: str,
        *,
        user_id: int | None = None,
        permissions: int = 0,
        owner: bool = False,
        bot: bool = False,
        nick: str | None = None,
    ) -> int:
        """Add a user to a guild; ``permissions`` bits (e.g. MANAGE_GUILD) go on their role."""
        member = self.state.add_member(
            guild_id,
            name,
            user_id=user_id,
            permissions=permissions,
            owner=owner,
            bot=bot,
            nick=nick,
        )
        data = member_payload(self.state, guild_id, member.user_id)
        data["guild_id"] = str(guild_id)
        self.gateway.dispatch(guild_id, "GUILD_MEMBER_ADD", data, intent=INTENT_GUILD_MEMBERS)
        return member.user_id

    def add_user(self, name: str, *, user_id: int | None = None, bot: bool = False) -> int:
        """Create a user who shares no guild with the bot (DM-only)."""
        return self.state.add_user(name, user_id=user_id, bot=bot)

    def add_role(
        self, guild_id: int, name: str, permissions: int = 0, *, role_id: int | None = None
    ) -> int:
        """Create a role."""
        role = self.state.add_role(guild_id, name, permissions, role_id=role_id)
        data = {"guild_id": str(guild_id), "role": _role_payload(role)}
        self.gateway.dispatch(guild_id, "GUILD_ROLE_CREATE", data, intent=INTENT_GUILDS)
        return role.id

    def add_attachment(
        self, filename: str, data: bytes, *, content_type: str | None = None
    ) -> dict[str, Any]:
        """Store a user upload; pass the returned dict as an attachment option value."""
        if not self.port:
            raise RuntimeError("start() the fake before adding attachments (URLs need the port)")
        return dict(make_attachment(self.state, 0, filename, data, content_type).payload)

    def remove_guild(self, guild_id: int) -> None:
        """Kick the bot from a guild (GUILD_DELETE)."""
        self.gateway.dispatch(guild_id, "GUILD_DELETE", {"id": str(guild_id)}, intent=INTENT_GUILDS)
        guild = self.state.guilds.pop(guild_id)
        for cid in guild.channel_ids:
            self.state.channels.pop(cid, None)

    def delete_channel(self, channel_id: int) -> None:
        """Delete a channel or thread: CHANNEL_DELETE (THREAD_DELETE), then 404 Unknown
        Channel (10003) on REST."""
        channel = self.state.channels.get(channel_id)
        if channel is None:
            return
        data = channel_payload(self.state, channel)
        event = "CHANNEL_DELETE" if channel.thread is None else "THREAD_DELETE"
        self.gateway.dispatch(channel.guild_id, event, data, intent=INTENT_GUILDS)
        self.state.remove_channel(channel_id)

    # ------------------------------------------------------------------- faults
    def fail_channel(self, channel_id: int, status: int = 403, code: int | None = None) -> None:
        """Bot requests on this channel fail: 403 (50001, or ``code=50013``) or 404 (10003)."""
        self.faults.fail_channel(channel_id, status, code)

    def restore_channel(self, channel_id: int) -> None:
        """Undo :meth:`fail_channel`."""
        self.faults.restore_channel(channel_id)

    def refuse_dms(self, user_id: int, refuse: bool = True) -> None:
        """DMs to this user fail with 403 code 50007."""
        self.faults.refuse_dms(user_id, refuse)

    async def wait_for_ready(self, timeout: float = 10.0, sessions: int = 1) -> None:
        """Wait until ``sessions`` clients identified and got READY + GUILD_CREATE."""
        await self.gateway.wait_for_ready(timeout, sessions)

    async def drop_gateway(self, code: int = 4000) -> int:
        """Close all gateway connections (resumable codes make the client RESUME)."""
        return await self.gateway.drop(code)

    def drop_gateway_every(self, interval: float | None, code: int = 4000) -> None:
        """Drop all gateway connections every ``interval`` seconds (None stops)."""
        self.gateway.drop_every(interval, code)

    async def invalidate_sessions(self, resumable: bool = False) -> None:
        """Send INVALID_SESSION (non-resumable makes the client IDENTIFY again)."""
        await self.gateway.invalidate(resumable)

    def request_reconnect(self) -> None:
        """Send op 7 RECONNECT to every connection."""
        self.gateway.request_reconnect()

    # ------------------------------------------------------------------- threads
    def threads(self, parent_id: int | None = None) -> list[dict[str, Any]]:
        """Every thread (of one channel when given), oldest first, as GET returns it."""
        return [
            channel_payload(self.state, c)
            for c in self.state.channels.values()
            if c.thread is not None and (parent_id is None or c.parent_id == parent_id)
        ]

    def archive_thread(self, thread_id: int, archived: bool = True) -> None:
        """Archive (or reopen) a thread, as a moderator or Discord would: THREAD_UPDATE."""
        threads.set_archived(self, self.state.channels[thread_id], archived)

    def idle_threads(self, minutes: float) -> list[int]:
        """Let ``minutes`` pass with no messages in any thread: those idle past their
        auto-archive duration are archived. Returns their ids."""
        return threads.idle_threads(self, minutes)

    def set_role_permissions(self, guild_id: int, role_id: int, permissions: int) -> None:
        """Change a role's permissions (the guild id is its @everyone role), with the
        GUILD_ROLE_UPDATE Discord sends."""
        role = self.state.guilds[guild_id].roles[role_id]
        role.permissions = permissions
        data = {"guild_id": str(guild_id), "role": _role_payload(role)}
        self.gateway.dispatch(guild_id, "GUILD_ROLE_UPDATE", data, intent=INTENT_GUILDS)

    def set_bot_permissions(self, guild_id: int, permissions: int) -> None:
        """Give the bot's own role in a guild exactly these permissions (the @everyone
        role still adds its own): e.g. take Create Public Threads away."""
        guild = self.state.guilds[guild_id]
        for role_id in guild.members[self.state.bot.id].roles:
            self.set_role_permissions(guild_id, role_id, permissions)

    # ------------------------------------------------------------------ queries
    def channel_messages(
        self, channel_id: int, *, include_interaction_responses: bool = True
    ) -> list[dict[str, Any]]:
        """Visible (non-ephemeral, non-deleted) messages in a channel, oldest first."""
        return [
            copy.deepcopy(m.payload)
            for m in self.state.visible_messages(channel_id)
            if include_interaction_responses or m.interaction_id is None
        ]

    def dm_messages(self, user_id: int) -> list[dict[str, Any]]:
        """Messages in the DM channel between the bot and ``user_id``."""
        cid = self.state.dm_channels.get(user_id)
        return [] if cid is None else self.channel_messages(cid)

    def message(self, message_id: int) -> dict[str, Any] | None:
        """Latest payload of any stored message (also deleted/ephemeral ones)."""
        return self.state.message_payload(message_id)

    async def wait_for_messages(
        self, channel_id: int, count: int = 1, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait until a channel holds at least ``count`` visible messages; return them."""
        await self.messages_changed.wait_for(
            lambda: len(self.state.visible_messages(channel_id)) >= count,
            timeout,
            f"{count} message(s) in channel {channel_id}",
        )
        return self.channel_messages(channel_id)

    def requests_matching(self, route: str, **params: Any) -> list[RecordedRequest]:
        """Recorded requests for ``"METHOD /template"`` (placeholder names don't matter)."""
        return [r for r in self.requests if matches(r, route, params)]

    def record_request(self, record: RecordedRequest) -> None:
        """Keep a request the bot made and wake whoever waits on the recorded requests."""
        self.requests.append(record)
        self.requests_changed.pulse()

    async def wait_for_request(
        self,
        route: str,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        *,
        count: int = 1,
        answered: bool = False,
        timeout: float = 10.0,
        **params: Any,
    ) -> list[RecordedRequest]:
        """Wait until at least ``count`` recorded requests match ``route`` (and ``params``
        and ``predicate``); return every match, in arrival order.

        A request is recorded when it arrives, before it takes effect; with ``answered``
        only requests the fake has already answered count (``status`` is set then)."""

        def found() -> list[RecordedRequest]:
            return [
                r
                for r in self.requests_matching(route, **params)
                if (not answered or r.status) and (predicate is None or predicate(r))
            ]

        what = f"{count} {'answered ' if answered else ''}request(s) to {route}"
        await self.requests_changed.wait_for(lambda: len(found()) >= count, timeout, what)
        return found()

    def registered_commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Commands the bot synced (global, or for one guild)."""
        return copy.deepcopy(self.state.commands.get(guild_id, []))
