"""The gateway websocket: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats, RESUME, drops.

Frames are plain JSON text: discord.py asks for ``compress=zlib-stream`` in the query but
only decompresses *binary* frames, so text frames need no compression at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections import Counter, deque
from typing import Any

from aiohttp import WSMsgType, web

from .payloads import guild_create_payload, member_payload, user_payload
from .state import FakeState
from .util import Signal

OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_RESUME = 0, 1, 2, 6
OP_RECONNECT, OP_REQUEST_MEMBERS, OP_INVALID_SESSION, OP_HELLO, OP_ACK = 7, 8, 9, 10, 11

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15

# Client close codes after which Discord forgets the session (no RESUME possible).
_SESSION_ENDING_CLOSE_CODES = {1000, 1001}
# APPLICATION_COMMAND_BADGE: what a typical slash-command bot reports.
APPLICATION_FLAGS = 1 << 23


class Connection:
    """One websocket. Outgoing frames go through a queue so their order is preserved."""

    def __init__(self, ws: web.WebSocketResponse, path: str) -> None:
        self.ws = ws
        self.path = path
        self.session: Session | None = None
        self.dropped_by_server = False
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write(), name="fakediscord-gateway-writer")

    def send(self, frame: dict[str, Any]) -> None:
        """Queue a frame for sending (safe to call from synchronous code)."""
        self._queue.put_nowait(frame)

    async def _write(self) -> None:
        while True:
            frame = await self._queue.get()
            try:
                await self.ws.send_str(json.dumps(frame))
            except (ConnectionError, RuntimeError):
                # The socket is gone; dispatches stay in the session history for RESUME.
                return

    async def close(self, code: int) -> None:
        """Close from the server side (a 'drop')."""
        self.dropped_by_server = True
        self._writer.cancel()
        with contextlib.suppress(Exception):
            await self.ws.close(code=code)

    def stop_writer(self) -> None:
        """Stop the writer task once the socket has ended."""
        self._writer.cancel()


class Session:
    """A gateway session: survives connection drops until it is resumed or invalidated."""

    def __init__(self, shard: tuple[int, int] | None, intents: int) -> None:
        self.id = secrets.token_hex(16)
        self.shard = shard
        self.intents = intents
        self.seq = 0
        self.history: deque[dict[str, Any]] = deque(maxlen=5000)
        self.connection: Connection | None = None
        self.ready = False
        self.closed = False

    def owns_guild(self, guild_id: int | None) -> bool:
        """Whether this session's shard receives events for ``guild_id`` (None = DMs)."""
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return ((guild_id or 0) >> 22) % count == shard_id

    def dispatch(self, event: str, data: Any) -> None:
        """Send (or buffer, while disconnected) a dispatch with the next sequence number."""
        self.seq += 1
        frame = {"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data}
        self.history.append(frame)
        if self.connection is not None:
            self.connection.send(frame)


class GatewayHub:
    """All gateway sessions and connections of one fake Discord."""

    def __init__(self, state: FakeState, stats: Counter[str], heartbeat_interval_ms: int) -> None:
        self.state = state
        self.stats = stats
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.ws_url = ""  # set by the server once the port is known
        self.token: str | None = None  # if set, IDENTIFY must carry it (else close 4004)
        self.sessions: dict[str, Session] = {}
        self.connections: set[Connection] = set()
        self.log: list[dict[str, Any]] = []
        self.changed = Signal()
        self._chaos: asyncio.Task[None] | None = None

    # -------------------------------------------------------------- websocket
    async def handle(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for the gateway (and resume) URL."""
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        conn = Connection(ws, request.path)
        self.connections.add(conn)
        self.stats["gateway_connections"] += 1
        conn.send({"op": OP_HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_frame(conn, msg.data)
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            self._on_closed(conn, ws.close_code)
        return ws

    def _on_closed(self, conn: Connection, code: int | None) -> None:
        conn.stop_writer()
        self.connections.discard(conn)
        session = conn.session
        self.log.append({"event": "close", "code": code, "by_server": conn.dropped_by_server})
        if session is not None and session.connection is conn:
            session.connection = None
            if not conn.dropped_by_server and code in _SESSION_ENDING_CLOSE_CODES:
                session.closed = True
        self.changed.pulse()

    async def _on_frame(self, conn: Connection, raw: str) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            await conn.close(4002)  # Decode error
            return
        op, data = frame.get("op"), frame.get("d")
        if op == OP_HEARTBEAT:
            conn.send({"op": OP_ACK})
        elif op == OP_IDENTIFY:
            await self._identify(conn, data or {})
        elif op == OP_RESUME:
            self._resume(conn, data or {})
        elif op == OP_REQUEST_MEMBERS:
            self._request_members(conn, data or {})
        else:
            self.log.append({"event": "op", "op": op, "d": data})

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        if conn.session is not None:
            await conn.close(4005)  # Already authenticated
            return
        if self.token is not None and data.get("token") != self.token:
            await conn.close(4004)  # Authentication failed
            return
        shard = tuple(data["shard"]) if data.get("shard") else None
        if shard is not None and not 0 <= shard[0] < shard[1]:
            await conn.close(4010)  # Invalid shard
            return
        session = Session(shard, int(data.get("intents", 0)))
        self.sessions[session.id] = session
        session.connection = conn
        conn.session = session
        self.stats["identify"] += 1
        self.log.append({"event": "identify", "session_id": session.id, "shard": shard})
        guild_ids = [g for g in self.state.guilds if session.owns_guild(g)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**user_payload(self.state, self.state.bot.id), "verified": True},
            "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.ws_url + "resume/",
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "application": {"id": str(self.state.application_id), "flags": APPLICATION_FLAGS},
        }
        if shard is not None:
            ready["shard"] = list(shard)
        session.dispatch("READY", ready)
        for gid in guild_ids:
            session.dispatch("GUILD_CREATE", guild_create_payload(self.state, gid))
        session.ready = True
        self.changed.pulse()

    def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        self.stats["resume"] += 1
        client_seq = int(data.get("seq") or 0)
        # Frames older than the kept history cannot be replayed: the session is lost.
        gap = (
            session is not None
            and bool(session.history)
            and session.history[0]["s"] > client_seq + 1
        )
        if session is None or session.closed or gap:
            self.log.append({"event": "resume", "ok": False, "session_id": data.get("session_id")})
            conn.send({"op": OP_INVALID_SESSION, "d": False})
            return
        old = session.connection
        if old is not None and old is not conn:
            old.session = None
            asyncio.create_task(old.close(4000))  # noqa: RUF006 - fire and forget close
        session.connection = conn
        conn.session = session
        missed = [f for f in session.history if f["s"] > client_seq]
        for frame in missed:
            conn.send(frame)
        session.dispatch("RESUMED", {})
        self.log.append(
            {"event": "resume", "ok": True, "session_id": session.id, "replayed": len(missed)}
        )
        self.changed.pulse()

    def _request_members(self, conn: Connection, data: dict[str, Any]) -> None:
        if conn.session is None:
            return
        gid = int(data.get("guild_id", 0))
        guild = self.state.guilds.get(gid)
        wanted = {int(u) for u in data.get("user_ids") or []}
        query = (data.get("query") or "").lower()
        members = []
        for uid in guild.members if guild else []:
            name = self.state.users[uid].name.lower()
            if (wanted and uid in wanted) or (not wanted and name.startswith(query)):
                members.append(member_payload(self.state, gid, uid))
        chunk = {"guild_id": str(gid), "members": members, "chunk_index": 0, "chunk_count": 1}
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        conn.session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    # ------------------------------------------------------------- dispatching
    def live_sessions(self) -> list[Session]:
        """Sessions that have identified and were not invalidated/closed."""
        return [s for s in self.sessions.values() if s.ready and not s.closed]

    def dispatch(
        self, guild_id: int | None, event: str, data: Any, *, intent: int = 0
    ) -> list[Session]:
        """Dispatch to every live session owning ``guild_id`` (and subscribed to ``intent``)."""
        targets = [
            s
            for s in self.live_sessions()
            if s.owns_guild(guild_id) and (not intent or s.intents & intent)
        ]
        for session in targets:
            session.dispatch(event, data)
        self.stats["dispatch"] += len(targets)
        return targets

    async def wait_for_ready(self, timeout: float, sessions: int) -> None:
        """Wait until ``sessions`` sessions are identified, READY'd and connected."""

        def enough() -> bool:
            connected = [s for s in self.live_sessions() if s.connection is not None]
            return len(connected) >= sessions

        await self.changed.wait_for(enough, timeout, f"{sessions} READY gateway session(s)")

    # ------------------------------------------------------------------ faults
    async def drop(self, code: int = 4000) -> int:
        """Close every connection from the server side; sessions stay resumable."""
        conns = list(self.connections)
        self.log.append({"event": "drop", "code": code, "connections": len(conns)})
        self.stats["gateway_drops"] += len(conns)
        self.changed.pulse()
        await asyncio.gather(*(c.close(code) for c in conns))
        return len(conns)

    async def invalidate(self, resumable: bool = False) -> None:
        """Send INVALID_SESSION to every connection (non-resumable forgets the sessions)."""
        for conn in list(self.connections):
            if conn.session is not None and not resumable:
                conn.session.closed = True
            conn.send({"op": OP_INVALID_SESSION, "d": resumable})

    def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: the client closes and RESUMEs."""
        for conn in list(self.connections):
            conn.send({"op": OP_RECONNECT, "d": None})

    def drop_every(self, interval: float | None, code: int = 4000) -> None:
        """Start (or with ``None`` stop) dropping all connections every ``interval`` s."""
        if self._chaos is not None:
            self._chaos.cancel()
            self._chaos = None
        if interval:
            self._chaos = asyncio.create_task(self._chaos_loop(interval, code))

    async def _chaos_loop(self, interval: float, code: int) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.drop(code)

    async def close(self) -> None:
        """Stop chaos and close all sockets (used when the fake shuts down)."""
        self.drop_every(None)
        await asyncio.gather(*(c.close(1001) for c in list(self.connections)))
