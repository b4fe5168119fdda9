"""Threads in the fake: started from a message (one thread per message, 160004 on a
second try), posted into like any channel, archived by hand or after their
auto-archive duration of idle time, listed, reopened, and refused without the
permissions Discord asks for (Create Public Threads; Send Messages in Threads to post).

A thread started from a message has the message's id, as on Discord."""

from __future__ import annotations

import copy
from typing import Any

from .gateway import INTENT_GUILDS
from .hub import Hub
from .payloads import thread_payload
from .rest import ApiError, RestRequest, Router
from .state import PUBLIC_THREAD, TEXT_CHANNEL, Channel, FakeState, ThreadMeta
from .util import CREATE_PUBLIC_THREADS, MANAGE_THREADS, SEND_MESSAGES_IN_THREADS, iso_now

ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
MAX_THREAD_NAME = 100
HAS_THREAD = 1 << 5  # message flag
THREAD_ALREADY_CREATED = 160004
THREAD_ARCHIVED = 50083
MISSING_PERMISSIONS = 50013

Result = tuple[int, Any]


def thread_problems(body: dict[str, Any]) -> list[str]:
    """Discord's limits for starting a thread: a 1-100 character name and one of the
    four auto-archive durations (when given)."""
    problems = []
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_THREAD_NAME:
        size = len(name) if isinstance(name, str) else "no"
        problems.append(f"thread name has {size} characters (must be 1..{MAX_THREAD_NAME})")
    elif "\n" in name:
        problems.append("thread name holds a line break")
    duration = body.get("auto_archive_duration")
    if duration is not None and duration not in ARCHIVE_DURATIONS:
        problems.append(f"auto_archive_duration {duration!r} is not one of {ARCHIVE_DURATIONS}")
    return problems


def bot_may(state: FakeState, guild_id: int | None, permission: int) -> bool:
    """Whether the bot holds `permission` in the guild (the fake has no overwrites)."""
    if guild_id is None:
        return False
    return state.member_permissions(guild_id, state.bot.id) & permission == permission


def announce_thread(fake: Hub, thread: Channel, event: str) -> None:
    data = thread_payload(fake.state, thread)
    if event == "THREAD_CREATE":
        data["newly_created"] = True
    fake.gateway.dispatch(thread.guild_id, event, data, intent=INTENT_GUILDS)


def set_archived(fake: Hub, thread: Channel, archived: bool) -> None:
    meta = thread.thread
    assert meta is not None
    if meta.archived == archived:
        return
    meta.archived = archived
    meta.archive_timestamp = iso_now()
    meta.idle_minutes = 0.0
    announce_thread(fake, thread, "THREAD_UPDATE")


def touched_by_message(fake: Hub, thread: Channel) -> None:
    """A message in a thread: it counts, resets the idle time and, when the thread was
    archived (and not locked), reopens it, as sending does on Discord."""
    meta = thread.thread
    assert meta is not None
    meta.message_count += 1
    meta.idle_minutes = 0.0
    if meta.archived:
        set_archived(fake, thread, False)


def check_post_in_thread(fake: Hub, thread: Channel) -> None:
    """The bot may post in this thread, or the ApiError Discord would answer."""
    meta = thread.thread
    assert meta is not None
    if not bot_may(fake.state, thread.guild_id, SEND_MESSAGES_IN_THREADS):
        raise ApiError(403, MISSING_PERMISSIONS, "Missing Permissions")
    if meta.archived and meta.locked:
        raise ApiError(400, THREAD_ARCHIVED, "Thread is archived")


def idle_threads(fake: Hub, minutes: float) -> list[int]:
    """Let `minutes` pass without messages: threads idle past their auto-archive
    duration are archived (THREAD_UPDATE). Returns the ids archived now."""
    archived = []
    for channel in list(fake.state.channels.values()):
        meta = channel.thread
        if meta is None or meta.archived:
            continue
        meta.idle_minutes += minutes
        if meta.idle_minutes >= meta.auto_archive_duration:
            set_archived(fake, channel, True)
            archived.append(channel.id)
    return archived


async def start_thread_from_message(req: RestRequest) -> Result:
    """``POST /channels/{channel_id}/messages/{message_id}/threads``."""
    fake, state = req.fake, req.fake.state
    parent = state.channels.get(req.int_param("channel_id"))
    if parent is None:
        raise ApiError(404, 10003, "Unknown Channel")
    stored = state.messages.get(req.int_param("message_id"))
    if stored is None or stored.deleted or stored.ephemeral or stored.channel_id != parent.id:
        raise ApiError(404, 10008, "Unknown Message")
    if parent.type != TEXT_CHANNEL or parent.thread is not None:
        raise ApiError(400, 50024, "Cannot execute action on this channel type")
    if not bot_may(state, parent.guild_id, CREATE_PUBLIC_THREADS):
        raise ApiError(403, MISSING_PERMISSIONS, "Missing Permissions")
    body = req.body()
    req.add_problems(thread_problems(body))
    thread_id = int(stored.payload["id"])
    if thread_id in state.channels or stored.payload.get("flags", 0) & HAS_THREAD:
        fake.stats["thread_exists"] += 1
        raise ApiError(
            400, THREAD_ALREADY_CREATED, "A thread has already been created for this message"
        )
    duration = body.get("auto_archive_duration") or 1440
    thread = Channel(
        thread_id,
        PUBLIC_THREAD,
        str(body.get("name", ""))[:MAX_THREAD_NAME],
        parent.guild_id,
        parent_id=parent.id,
        thread=ThreadMeta(owner_id=state.bot.id, auto_archive_duration=int(duration)),
    )
    state.channels[thread_id] = thread
    state.channel_index.setdefault(thread_id, [])
    stored.payload["flags"] = stored.payload.get("flags", 0) | HAS_THREAD
    stored.payload["thread"] = thread_payload(state, thread)
    fake.stats["threads_created"] += 1
    announce_thread(fake, thread, "THREAD_CREATE")
    fake.messages_changed.pulse()
    return 201, thread_payload(state, thread)


def _thread(req: RestRequest) -> Channel:
    channel = req.fake.state.channels.get(req.int_param("channel_id"))
    if channel is None:
        raise ApiError(404, 10003, "Unknown Channel")
    return channel


async def edit_channel(req: RestRequest) -> Result:
    """``PATCH /channels/{channel_id}``: a thread's name, archived and locked flags."""
    fake, channel = req.fake, _thread(req)
    meta = channel.thread
    if meta is None:
        raise ApiError(403, MISSING_PERMISSIONS, "Missing Permissions")  # only threads here
    body = req.body()
    may_manage = bot_may(fake.state, channel.guild_id, MANAGE_THREADS)
    if "locked" in body and not may_manage:
        raise ApiError(403, MISSING_PERMISSIONS, "Missing Permissions")
    if body.get("archived") is False:
        # Unarchiving takes Send Messages in Threads, and Manage Threads when locked.
        if meta.locked and not may_manage:
            raise ApiError(403, MISSING_PERMISSIONS, "Missing Permissions")
        if not bot_may(fake.state, channel.guild_id, SEND_MESSAGES_IN_THREADS):
            raise ApiError(403, MISSING_PERMISSIONS, "Missing Permissions")
    if "name" in body or "auto_archive_duration" in body:
        req.add_problems(thread_problems({"name": body.get("name", channel.name), **body}))
        channel.name = str(body.get("name", channel.name))[:MAX_THREAD_NAME]
        meta.auto_archive_duration = int(body.get("auto_archive_duration") or 1440)
    if "locked" in body:
        meta.locked = bool(body["locked"])
    if "archived" in body:
        set_archived(fake, channel, bool(body["archived"]))
    else:
        announce_thread(fake, channel, "THREAD_UPDATE")
    return 200, thread_payload(fake.state, channel)


async def archived_public_threads(req: RestRequest) -> Result:
    """``GET /channels/{channel_id}/threads/archived/public``: newest archived first."""
    state, parent = req.fake.state, _thread(req)
    found = [t for t in state.threads_of(parent.guild_id or 0, parent.id) if t.thread]
    archived = [t for t in found if t.thread and t.thread.archived]
    archived.sort(key=lambda t: t.thread.archive_timestamp if t.thread else "", reverse=True)
    limit = max(1, min(100, int(req.query.get("limit", 50))))
    threads = [thread_payload(state, t) for t in archived[:limit]]
    return 200, {"threads": threads, "members": [], "has_more": len(archived) > limit}


async def active_threads(req: RestRequest) -> Result:
    """``GET /guilds/{guild_id}/threads/active``."""
    state = req.fake.state
    gid = req.int_param("guild_id")
    if gid not in state.guilds:
        raise ApiError(404, 10004, "Unknown Guild")
    threads = [
        thread_payload(state, t)
        for t in state.threads_of(gid)
        if t.thread is not None and not t.thread.archived
    ]
    return 200, {"threads": copy.deepcopy(threads), "members": []}


def register(router: Router) -> None:
    """Add this module's routes."""
    router.add(
        "POST /channels/{channel_id}/messages/{message_id}/threads", start_thread_from_message
    )
    router.add("PATCH /channels/{channel_id}", edit_channel)
    router.add("GET /channels/{channel_id}/threads/archived/public", archived_public_threads)
    router.add("GET /guilds/{guild_id}/threads/active", active_threads)
