"""REST handlers for users, application, gateway, commands, channels, messages, DMs, guilds."""

from __future__ import annotations

import copy
import time
from typing import Any

from .gateway import INTENT_DIRECT_MESSAGES, INTENT_GUILD_MESSAGES
from .hub import Hub
from .payloads import (
    channel_payload,
    edit_message,
    guild_create_payload,
    member_payload,
    new_message,
    user_payload,
)
from .rest import ApiError, RestRequest, Router
from .state import DM_CHANNEL, Channel, StoredMessage
from .threads import check_post_in_thread, touched_by_message
from .validation import command_problems

NONCE_WINDOW_SECONDS = 300.0  # "the past few minutes" in Discord's docs


Result = tuple[int, Any]


def announce(fake: Hub, stored: StoredMessage, event: str = "MESSAGE_CREATE") -> None:
    """Send MESSAGE_CREATE/UPDATE/DELETE to the bot like Discord does (not for ephemerals)."""
    if stored.ephemeral:
        return
    channel = fake.state.channels.get(stored.channel_id)
    gid = channel.guild_id if channel else None
    intent = INTENT_GUILD_MESSAGES if gid else INTENT_DIRECT_MESSAGES
    if event == "MESSAGE_DELETE":
        data: dict[str, Any] = {"id": stored.payload["id"], "channel_id": str(stored.channel_id)}
    else:
        data = copy.deepcopy(stored.payload)
        author = int(data["author"]["id"])
        if gid and author in fake.state.guilds[gid].members:
            data["member"] = member_payload(fake.state, gid, author, with_user=False)
    if gid:
        data["guild_id"] = str(gid)
    fake.gateway.dispatch(gid, event, data, intent=intent)


def _channel(req: RestRequest) -> Channel:
    channel = req.fake.state.channels.get(req.int_param("channel_id"))
    if channel is None:
        raise ApiError(404, 10003, "Unknown Channel")
    return channel


def _message(req: RestRequest, channel: Channel) -> StoredMessage:
    stored = req.fake.state.messages.get(req.int_param("message_id"))
    if stored is None or stored.deleted or stored.channel_id != channel.id or stored.ephemeral:
        raise ApiError(404, 10008, "Unknown Message")
    return stored


def is_empty_message(body: dict[str, Any], files: list[Any]) -> bool:
    """Discord rejects messages with nothing to show (50006)."""
    keys = ("content", "embeds", "components", "sticker_ids", "poll", "attachments")
    return not files and not any(body.get(k) for k in keys)


async def get_me(req: RestRequest) -> Result:
    """``GET /users/@me`` (what ``login`` calls)."""
    state = req.fake.state
    me = user_payload(state, state.bot.id)
    me.update(verified=True, mfa_enabled=False, locale="en-US", email=None)
    return 200, me


async def get_user(req: RestRequest) -> Result:
    """``GET /users/{user_id}``."""
    uid = req.int_param("user_id")
    if uid not in req.fake.state.users:
        raise ApiError(404, 10013, "Unknown User")
    return 200, user_payload(req.fake.state, uid)


async def get_application(req: RestRequest) -> Result:
    """``GET /oauth2/applications/@me`` (discord.py's login reads the application id here)."""
    state = req.fake.state
    owner = next(iter(state.guilds.values())).owner_id if state.guilds else state.bot.id
    return 200, {
        "id": str(state.application_id),
        "name": state.bot.name,
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "bot_public": False,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": 1 << 23,
        "owner": user_payload(state, owner),
        "team": None,
        "bot": user_payload(state, state.bot.id),
        "interactions_endpoint_url": None,
        "redirect_uris": [],
        "tags": [],
        "approximate_guild_count": len(state.guilds),
    }


async def get_gateway(req: RestRequest) -> Result:
    """``GET /gateway``."""
    return 200, {"url": req.fake.gateway_url}


async def get_gateway_bot(req: RestRequest) -> Result:
    """``GET /gateway/bot`` (AutoShardedClient asks it for the shard count and URL)."""
    limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
    url = req.fake.gateway_url
    return 200, {"url": url, "shards": req.fake.recommended_shards, "session_start_limit": limit}


def _scope(req: RestRequest) -> int | None:
    if req.int_param("app_id") != req.fake.state.application_id:
        raise ApiError(403, 50001, "Missing Access")
    return req.int_param("guild_id") if "guild_id" in req.params else None


async def get_commands(req: RestRequest) -> Result:
    """``GET`` global or guild commands."""
    return 200, copy.deepcopy(req.fake.state.commands.get(_scope(req), []))


async def put_commands(req: RestRequest) -> Result:
    """Bulk overwrite: keep ids of commands with the same name+type, assign new ones."""
    scope = _scope(req)
    state = req.fake.state
    body = req.json if isinstance(req.json, list) else []
    old = {(c["name"], c.get("type", 1)): c for c in state.commands.get(scope, [])}
    problems = [p for cmd in body for p in command_problems(cmd)]
    if len(body) > 100:
        problems.append(f"{len(body)} commands (max 100 per scope)")
    req.add_problems(problems)
    stored = []
    for cmd in body:
        previous = old.get((cmd["name"], cmd.get("type", 1)))
        entry = {
            "type": 1,
            "options": [],
            "default_member_permissions": None,
            "dm_permission": True,
            "contexts": None,
            "integration_types": [0],
            "nsfw": False,
            "description": "",
            **copy.deepcopy(cmd),
            "id": previous["id"] if previous else str(state.ids.next()),
            "application_id": str(state.application_id),
            "version": str(state.ids.next()),
        }
        if scope is not None:
            entry["guild_id"] = str(scope)
        stored.append(entry)
    state.commands[scope] = stored
    req.fake.stats["command_syncs"] += 1
    return 200, copy.deepcopy(stored)


async def create_dm(req: RestRequest) -> Result:
    """``POST /users/@me/channels``: open (or reuse) the DM channel with ``recipient_id``."""
    recipient = int(req.body().get("recipient_id", 0))
    if recipient not in req.fake.state.users or recipient == req.fake.state.bot.id:
        raise ApiError(400, 50033, "Invalid Recipient(s)")
    return 200, channel_payload(req.fake.state, req.fake.state.ensure_dm_channel(recipient))


async def get_channel(req: RestRequest) -> Result:
    """``GET /channels/{channel_id}``."""
    return 200, channel_payload(req.fake.state, _channel(req))


async def list_messages(req: RestRequest) -> Result:
    """``GET /channels/{channel_id}/messages``: newest first, with limit/before/after/around."""
    channel = _channel(req)
    limit = max(1, min(100, int(req.query.get("limit", 50))))
    msgs = req.fake.state.visible_messages(channel.id)
    ids = [int(m.payload["id"]) for m in msgs]
    if "after" in req.query:
        after = int(req.query["after"])
        chosen = [m for m, i in zip(msgs, ids, strict=True) if i > after][:limit]
    elif "before" in req.query:
        before = int(req.query["before"])
        chosen = [m for m, i in zip(msgs, ids, strict=True) if i < before][-limit:]
    elif "around" in req.query:
        around = int(req.query["around"])
        pivot = next((n for n, i in enumerate(ids) if i >= around), len(ids))
        start = max(0, pivot - limit // 2)
        chosen = msgs[start : start + limit]
    else:
        chosen = msgs[-limit:]
    return 200, [copy.deepcopy(m.payload) for m in reversed(chosen)]


async def create_message(req: RestRequest) -> Result:
    """``POST /channels/{channel_id}/messages``."""
    fake, channel = req.fake, _channel(req)
    if channel.type == DM_CHANNEL and channel.recipient_id in fake.faults.refused_dm_users:
        fault = fake.faults.dm_refused_fault()
        req.record.fault = fault.kind
        raise ApiError(fault.status, fault.body["code"], fault.body["message"])
    if channel.thread is not None:
        check_post_in_thread(fake, channel)
    body = req.body()
    if is_empty_message(body, req.files):
        raise ApiError(400, 50006, "Cannot send an empty message")
    req.validate_message(body)
    author = fake.state.bot.id
    nonce_key = None
    if body.get("nonce") is not None and body.get("enforce_nonce"):
        # Discord: the same author and nonce within a few minutes returns the message
        # already created instead of creating another.
        nonce_key = (channel.id, author, str(body["nonce"]))
        earlier = fake.state.nonces.get(nonce_key)
        if earlier and time.monotonic() - earlier[0] < NONCE_WINDOW_SECONDS:
            existing = fake.state.messages.get(earlier[1])
            if existing is not None and not existing.deleted:
                fake.stats["nonce_duplicates"] += 1
                return 200, copy.deepcopy(existing.payload)
    stored = new_message(fake.state, channel.id, body, req.files, author_id=author)
    if channel.thread is not None:
        touched_by_message(fake, channel)
    if nonce_key is not None:
        fake.state.nonces[nonce_key] = (time.monotonic(), int(stored.payload["id"]))
    announce(fake, stored)
    fake.messages_changed.pulse()
    return 200, copy.deepcopy(stored.payload)


async def get_message(req: RestRequest) -> Result:
    """``GET /channels/{channel_id}/messages/{message_id}``."""
    return 200, copy.deepcopy(_message(req, _channel(req)).payload)


async def edit_channel_message(req: RestRequest) -> Result:
    """``PATCH /channels/{channel_id}/messages/{message_id}`` (only the bot's own messages)."""
    stored = _message(req, _channel(req))
    if int(stored.payload["author"]["id"]) != req.fake.state.bot.id:
        raise ApiError(403, 50005, "Cannot edit a message authored by another user")
    req.validate_message(req.body())
    edit_message(req.fake.state, stored, req.body(), req.files)
    announce(req.fake, stored, "MESSAGE_UPDATE")
    # A component interaction acknowledged with a deferred update (type 6) is often
    # resolved by editing the message directly; count that as the interaction's update.
    for rec in req.fake.interactions.by_id.values():
        if rec.callback_type == 6 and rec.original_message_id == int(stored.payload["id"]):
            rec.touch()
    req.fake.messages_changed.pulse()
    return 200, copy.deepcopy(stored.payload)


async def delete_channel_message(req: RestRequest) -> Result:
    """``DELETE /channels/{channel_id}/messages/{message_id}``."""
    stored = _message(req, _channel(req))
    stored.deleted = True
    announce(req.fake, stored, "MESSAGE_DELETE")
    req.fake.messages_changed.pulse()
    return 204, None


async def no_content(req: RestRequest) -> Result:
    """Accepted and ignored (typing indicator, reactions)."""
    _channel(req)
    return 204, None


async def get_guild(req: RestRequest) -> Result:
    """``GET /guilds/{guild_id}``."""
    gid = req.int_param("guild_id")
    if gid not in req.fake.state.guilds:
        raise ApiError(404, 10004, "Unknown Guild")
    data = guild_create_payload(req.fake.state, gid)
    for key in ("members", "channels", "threads", "presences", "voice_states", "joined_at"):
        data.pop(key, None)
    return 200, data


async def get_guild_channels(req: RestRequest) -> Result:
    """``GET /guilds/{guild_id}/channels``."""
    guild = req.fake.state.guilds.get(req.int_param("guild_id"))
    if guild is None:
        raise ApiError(404, 10004, "Unknown Guild")
    state = req.fake.state
    return 200, [channel_payload(state, state.channels[c]) for c in guild.channel_ids]


async def get_member(req: RestRequest) -> Result:
    """``GET /guilds/{guild_id}/members/{user_id}``."""
    gid, uid = req.int_param("guild_id"), req.int_param("user_id")
    guild = req.fake.state.guilds.get(gid)
    if guild is None:
        raise ApiError(404, 10004, "Unknown Guild")
    if uid not in guild.members:
        raise ApiError(404, 10007, "Unknown Member")
    return 200, member_payload(req.fake.state, gid, uid)


def register(router: Router) -> None:
    """Add this module's routes."""
    router.add("GET /users/@me", get_me)
    router.add("GET /users/{user_id}", get_user)
    router.add("GET /oauth2/applications/@me", get_application)
    router.add("GET /gateway", get_gateway)
    router.add("GET /gateway/bot", get_gateway_bot)
    for prefix in ("/applications/{app_id}", "/applications/{app_id}/guilds/{guild_id}"):
        router.add(f"GET {prefix}/commands", get_commands)
        router.add(f"PUT {prefix}/commands", put_commands)
    router.add("POST /users/@me/channels", create_dm)
    router.add("GET /channels/{channel_id}", get_channel)
    router.add("GET /channels/{channel_id}/messages", list_messages)
    router.add("POST /channels/{channel_id}/messages", create_message)
    router.add("GET /channels/{channel_id}/messages/{message_id}", get_message)
    router.add("PATCH /channels/{channel_id}/messages/{message_id}", edit_channel_message)
    router.add("DELETE /channels/{channel_id}/messages/{message_id}", delete_channel_message)
    router.add("POST /channels/{channel_id}/typing", no_content)
    router.add("PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", no_content)
    router.add("GET /guilds/{guild_id}", get_guild)
    router.add("GET /guilds/{guild_id}/channels", get_guild_channels)
    router.add("GET /guilds/{guild_id}/members/{user_id}", get_member)
