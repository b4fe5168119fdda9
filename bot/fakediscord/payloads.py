"""JSON payload builders shaped like what Discord sends (and discord.py 2.7 requires)."""

from __future__ import annotations

import copy
import mimetypes
import re
from typing import Any

from .state import DM_CHANNEL, Channel, FakeState, Role, StoredAttachment, StoredMessage
from .util import iso_now

# Message flags a client may set itself (suppress embeds, ephemeral, silent, components v2).
CLIENT_SETTABLE_FLAGS = 4 | 64 | 4096 | 32768
EPHEMERAL = 64
LOADING = 128


def user_payload(state: FakeState, user_id: int) -> dict[str, Any]:
    """A user object; unknown ids get a placeholder user rather than a crash."""
    user = state.users.get(user_id)
    name = user.name if user else f"user{user_id}"
    return {
        "id": str(user_id),
        "username": name,
        "global_name": user.global_name if user else None,
        "discriminator": "0",
        "avatar": None,
        "bot": bool(user and user.bot),
        "public_flags": 0,
        "flags": 0,
    }


def role_payload(role: Role) -> dict[str, Any]:
    """A role object."""
    return {
        "id": str(role.id),
        "name": role.name,
        "permissions": str(role.permissions),
        "position": role.position,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "icon": None,
        "unicode_emoji": None,
        "flags": 0,
    }


def member_payload(
    state: FakeState, guild_id: int, user_id: int, *, with_user: bool = True
) -> dict[str, Any]:
    """A guild member object. ``flags`` is mandatory for discord.py's Member parser."""
    member = state.guilds[guild_id].members.get(user_id)
    data: dict[str, Any] = {
        "roles": [str(r) for r in (member.roles if member else [])],
        "nick": member.nick if member else None,
        "avatar": None,
        "banner": None,
        "joined_at": member.joined_at if member else iso_now(),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
    }
    if with_user:
        data["user"] = user_payload(state, user_id)
    return data


def channel_payload(state: FakeState, channel: Channel) -> dict[str, Any]:
    """A channel object (guild text/voice/category or DM)."""
    if channel.thread is not None:
        return thread_payload(state, channel)
    if channel.type == DM_CHANNEL:
        recipient = channel.recipient_id or 0
        return {
            "id": str(channel.id),
            "type": DM_CHANNEL,
            "last_message_id": None,
            "flags": 0,
            "recipients": [user_payload(state, recipient)],
        }
    return {
        "id": str(channel.id),
        "type": channel.type,
        "guild_id": str(channel.guild_id),
        "name": channel.name,
        "position": channel.position,
        "permission_overwrites": [],
        "topic": channel.topic,
        "nsfw": channel.nsfw,
        "parent_id": str(channel.parent_id) if channel.parent_id else None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def thread_payload(state: FakeState, channel: Channel) -> dict[str, Any]:
    """A thread channel object, as discord.py's Thread needs it."""
    meta = channel.thread
    assert meta is not None
    return {
        "id": str(channel.id),
        "type": channel.type,
        "guild_id": str(channel.guild_id),
        "parent_id": str(channel.parent_id),
        "owner_id": str(meta.owner_id),
        "name": channel.name,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": meta.message_count,
        "member_count": 1,
        "total_message_sent": meta.message_count,
        "flags": 0,
        "thread_metadata": {
            "archived": meta.archived,
            "auto_archive_duration": meta.auto_archive_duration,
            "archive_timestamp": meta.archive_timestamp,
            "locked": meta.locked,
            "create_timestamp": meta.create_timestamp,
        },
    }


def guild_create_payload(state: FakeState, guild_id: int) -> dict[str, Any]:
    """The full GUILD_CREATE payload sent after READY (or when the bot joins)."""
    guild = state.guilds[guild_id]
    channels = [channel_payload(state, state.channels[c]) for c in guild.channel_ids]
    for channel in channels:
        del channel["guild_id"]  # Discord omits it inside GUILD_CREATE
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": str(guild.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [role_payload(r) for r in guild.roles.values()],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": guild.channel_ids[0] if guild.channel_ids else None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "joined_at": guild.joined_at,
        "large": False,
        "unavailable": False,
        "member_count": len(guild.members),
        "members": [member_payload(state, guild.id, uid) for uid in guild.members],
        "channels": channels,
        "threads": [
            thread_payload(state, t)
            for t in state.threads_of(guild.id)
            if t.thread and not t.thread.archived
        ],
        "presences": [],
        "voice_states": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def resolved_channel(state: FakeState, channel: Channel, permissions: int) -> dict[str, Any]:
    """Channel as it appears in ``resolved.channels`` of an interaction."""
    data = channel_payload(state, channel)
    data["permissions"] = str(permissions)
    return data


_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


def _attachments_from_body(
    state: FakeState, channel_id: int, body: dict[str, Any], files: list[tuple[str, bytes, str]]
) -> list[dict[str, Any]]:
    """Turn uploaded ``files[n]`` parts (+ ``attachments`` metadata) into attachment objects."""
    result: list[dict[str, Any]] = []
    wanted = body.get("attachments")
    existing = {int(a["id"]): a for a in body.get("_existing_attachments", [])}
    meta_by_index: dict[int, dict[str, Any]] = {}
    for meta in wanted or []:
        att_id = int(meta.get("id", -1))
        if att_id in existing:
            result.append(existing[att_id])  # kept from the previous version on edit
        else:
            meta_by_index[att_id] = meta
    for index, (filename, data, content_type) in enumerate(files):
        meta = meta_by_index.get(index, {})
        att = make_attachment(
            state, channel_id, meta.get("filename") or filename, data, content_type
        )
        if meta.get("description"):
            att.payload["description"] = meta["description"]
        result.append(att.payload)
    return result


def make_attachment(
    state: FakeState, channel_id: int, filename: str, data: bytes, content_type: str | None
) -> StoredAttachment:
    """Store bytes and return an attachment whose URL is served by the fake itself."""
    att_id = state.ids.next()
    url = f"{state.base_url}/attachments/{channel_id}/{att_id}/{filename}"
    payload = {
        "id": str(att_id),
        "filename": filename,
        "size": len(data),
        "url": url,
        "proxy_url": url,
        # Like Discord, sniff the type from the name when the client sent a generic one.
        "content_type": (
            content_type
            if content_type and content_type != "application/octet-stream"
            else mimetypes.guess_type(filename)[0] or "application/octet-stream"
        ),
        "flags": 0,
    }
    stored = StoredAttachment(payload, data)
    state.attachments[att_id] = stored
    return stored


def apply_message_body(
    state: FakeState,
    payload: dict[str, Any],
    body: dict[str, Any],
    files: list[tuple[str, bytes, str]],
) -> None:
    """Apply a create/edit JSON body to a message payload, Discord-style (partial update)."""
    if "content" in body:
        payload["content"] = body["content"] or ""
        payload["mentions"] = [
            user_payload(state, int(u))
            for u in _USER_MENTION.findall(payload["content"])
            if int(u) in state.users
        ]
        payload["mention_roles"] = _ROLE_MENTION.findall(payload["content"])
        payload["mention_everyone"] = "@everyone" in payload["content"]
    if "embeds" in body or "embed" in body:
        embeds = body.get("embeds")
        if embeds is None and body.get("embed") is not None:
            embeds = [body["embed"]]
        payload["embeds"] = [{"type": "rich", **e} for e in embeds or []]
    if "components" in body:
        payload["components"] = copy.deepcopy(body["components"] or [])
    if "flags" in body and body["flags"] is not None:
        keep = payload.get("flags", 0) & ~CLIENT_SETTABLE_FLAGS
        payload["flags"] = keep | (int(body["flags"]) & CLIENT_SETTABLE_FLAGS)
    if "attachments" in body or files:
        body = dict(body, _existing_attachments=payload.get("attachments", []))
        channel_id = int(payload["channel_id"])
        payload["attachments"] = _attachments_from_body(state, channel_id, body, files)


def new_message(
    state: FakeState,
    channel_id: int,
    body: dict[str, Any],
    files: list[tuple[str, bytes, str]],
    *,
    author_id: int,
    message_type: int = 0,
    extra: dict[str, Any] | None = None,
) -> StoredMessage:
    """Create and store a message in a channel from a JSON body."""
    message_id = state.ids.next()
    payload: dict[str, Any] = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": user_payload(state, author_id),
        "content": "",
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": bool(body.get("tts", False)),
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "reactions": [],
        "pinned": False,
        "type": message_type,
        "flags": 0,
    }
    if body.get("nonce") is not None:
        payload["nonce"] = body["nonce"]
    reference = body.get("message_reference")
    if reference and reference.get("message_id"):
        payload["type"] = 19  # REPLY
        payload["message_reference"] = {"channel_id": str(channel_id), **reference}
        referenced = state.messages.get(int(reference["message_id"]))
        payload["referenced_message"] = copy.deepcopy(referenced.payload) if referenced else None
    apply_message_body(state, payload, {"content": "", **body}, files)
    payload.update(extra or {})
    stored = StoredMessage(payload, channel_id, ephemeral=bool(payload["flags"] & EPHEMERAL))
    state.messages[message_id] = stored
    state.channel_index.setdefault(channel_id, []).append(message_id)
    return stored


def edit_message(
    state: FakeState,
    stored: StoredMessage,
    body: dict[str, Any],
    files: list[tuple[str, bytes, str]],
) -> None:
    """Edit a stored message in place, keeping the previous version for assertions."""
    stored.versions.append(copy.deepcopy(stored.payload))
    apply_message_body(state, stored.payload, body, files)
    stored.payload["flags"] = stored.payload.get("flags", 0) & ~LOADING
    stored.payload["edited_timestamp"] = iso_now()
