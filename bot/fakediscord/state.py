"""In-memory world of the fake: users, guilds, channels, members, roles, messages, commands."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .util import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    SnowflakeFactory,
    iso_now,
)

TEXT_CHANNEL = 0
DM_CHANNEL = 1
PUBLIC_THREAD = 11


@dataclass
class User:
    """A Discord user (human or bot)."""

    id: int
    name: str
    bot: bool = False
    global_name: str | None = None


@dataclass
class Role:
    """A guild role; the @everyone role shares its guild's id, as on Discord."""

    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0


@dataclass
class Channel:
    """A guild channel or a DM channel (``recipient_id`` set, ``guild_id`` None)."""

    id: int
    type: int
    name: str
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    recipient_id: int | None = None
    nsfw: bool = False
    thread: ThreadMeta | None = None  # set for a thread (a thread is a channel)


@dataclass
class ThreadMeta:
    """What Discord keeps about a thread besides its channel fields."""

    owner_id: int
    auto_archive_duration: int
    archived: bool = False
    locked: bool = False
    archive_timestamp: str = field(default_factory=iso_now)
    create_timestamp: str = field(default_factory=iso_now)
    idle_minutes: float = 0.0  # since the last message: auto-archive counts this
    message_count: int = 0


@dataclass
class Member:
    """A user's membership in a guild."""

    user_id: int
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)


@dataclass
class Guild:
    """A guild with its roles, channels (ordered ids) and members."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channel_ids: list[int] = field(default_factory=list)
    members: dict[int, Member] = field(default_factory=dict)
    joined_at: str = field(default_factory=iso_now)


@dataclass
class StoredMessage:
    """A message plus the bookkeeping Discord would keep server-side."""

    payload: dict[str, Any]
    channel_id: int
    ephemeral: bool = False
    interaction_id: int | None = None
    deleted: bool = False
    versions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StoredAttachment:
    """Bytes behind an attachment URL served by the fake."""

    payload: dict[str, Any]
    data: bytes


class FakeState:
    """Everything the fake Discord knows. Pure data; no networking here."""

    def __init__(self, bot_name: str = "paperbot", bot_id: int | None = None) -> None:
        self.ids = SnowflakeFactory()
        bot_user_id = bot_id or self.ids.next()
        self.bot = User(id=bot_user_id, name=bot_name, bot=True)
        # The bot user and the application share an id for modern bot applications.
        self.application_id = bot_user_id
        self.bot_permissions = DEFAULT_EVERYONE_PERMISSIONS | ADMINISTRATOR
        self.users: dict[int, User] = {self.bot.id: self.bot}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.dm_channels: dict[int, int] = {}
        self.messages: dict[int, StoredMessage] = {}
        self.channel_index: dict[int, list[int]] = {}
        self.attachments: dict[int, StoredAttachment] = {}
        # enforce_nonce: (channel, author, nonce) -> (monotonic time, message id).
        self.nonces: dict[tuple[int, int, str], tuple[float, int]] = {}
        # Registered application commands: key None = global, else guild id.
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        # Set by the server once it knows its port; attachment URLs are built from it.
        self.base_url = ""

    # ----------------------------------------------------------------- building
    def add_user(self, name: str, *, user_id: int | None = None, bot: bool = False) -> int:
        """Create (or rename) a user and return its id."""
        uid = user_id or self.ids.next()
        self.users[uid] = User(id=uid, name=name, bot=bot)
        return uid

    def add_guild(
        self, name: str, *, guild_id: int | None = None, owner_id: int | None = None
    ) -> Guild:
        """Create a guild with an @everyone role and the bot as a member."""
        gid = guild_id or self.ids.next()
        if owner_id is None:
            owner_id = self.add_user(f"{name}-owner")
        guild = Guild(id=gid, name=name, owner_id=owner_id)
        guild.roles[gid] = Role(gid, gid, "@everyone", DEFAULT_EVERYONE_PERMISSIONS)
        bot_role = Role(self.ids.next(), gid, self.bot.name, self.bot_permissions, position=1)
        guild.roles[bot_role.id] = bot_role
        guild.members[self.bot.id] = Member(self.bot.id, gid, roles=[bot_role.id])
        if owner_id in self.users:
            guild.members[owner_id] = Member(owner_id, gid)
        self.guilds[gid] = guild
        return guild

    def add_role(
        self, guild_id: int, name: str, permissions: int, *, role_id: int | None = None
    ) -> Role:
        """Create a role in a guild."""
        guild = self.guilds[guild_id]
        role = Role(role_id or self.ids.next(), guild_id, name, permissions, len(guild.roles))
        guild.roles[role.id] = role
        return role

    def add_channel(
        self,
        guild_id: int,
        name: str,
        *,
        channel_id: int | None = None,
        type: int = TEXT_CHANNEL,
        topic: str | None = None,
        parent_id: int | None = None,
    ) -> Channel:
        """Create a guild channel."""
        guild = self.guilds[guild_id]
        cid = channel_id or self.ids.next()
        channel = Channel(cid, type, name, guild_id, len(guild.channel_ids), topic, parent_id)
        self.channels[cid] = channel
        guild.channel_ids.append(cid)
        self.channel_index.setdefault(cid, [])
        return channel

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
    ) -> Member:
        """Create a user (unless ``user_id`` exists) and add them to a guild.

        Non-zero ``permissions`` become a dedicated role, so role-based code paths see them.
        """
        guild = self.guilds[guild_id]
        uid = user_id if user_id in self.users else self.add_user(name, user_id=user_id, bot=bot)
        member = Member(uid, guild_id, nick=nick)
        if permissions:
            member.roles.append(self.add_role(guild_id, f"{name}-perms", permissions).id)
        guild.members[uid] = member
        if owner:
            guild.owner_id = uid
        return member

    def remove_channel(self, channel_id: int) -> Channel | None:
        """Forget a channel (its messages stay retrievable by id for assertions)."""
        channel = self.channels.pop(channel_id, None)
        if channel is not None and channel.guild_id in self.guilds:
            ids = self.guilds[channel.guild_id].channel_ids
            if channel_id in ids:  # threads are channels too, but not listed there
                ids.remove(channel_id)
        return channel

    def threads_of(self, guild_id: int, parent_id: int | None = None) -> list[Channel]:
        """The guild's threads (of one parent channel when given), oldest first."""
        return [
            c
            for c in self.channels.values()
            if c.thread is not None
            and c.guild_id == guild_id
            and (parent_id is None or c.parent_id == parent_id)
        ]

    def ensure_dm_channel(self, user_id: int) -> Channel:
        """Return the DM channel with ``user_id``, creating it on first use (and again
        after a test deleted it)."""
        cid = self.dm_channels.get(user_id)
        if cid is None or cid not in self.channels:
            cid = self.ids.next()
            self.channels[cid] = Channel(cid, DM_CHANNEL, "", recipient_id=user_id)
            self.dm_channels[user_id] = cid
            self.channel_index.setdefault(cid, [])
        return self.channels[cid]

    # ------------------------------------------------------------------ queries
    def member_permissions(self, guild_id: int, user_id: int) -> int:
        """Guild-level permissions of a member (owner/administrator implies all)."""
        guild = self.guilds[guild_id]
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        member = guild.members.get(user_id)
        perms = guild.roles[guild_id].permissions
        for role_id in member.roles if member else []:
            perms |= guild.roles[role_id].permissions
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def guild_of_channel(self, channel_id: int) -> int | None:
        """Guild id of a channel (None for DMs or unknown channels)."""
        channel = self.channels.get(channel_id)
        return channel.guild_id if channel else None

    def visible_messages(self, channel_id: int) -> list[StoredMessage]:
        """Messages everyone can see in a channel, oldest first (no ephemerals)."""
        stored = (self.messages[mid] for mid in self.channel_index.get(channel_id, []))
        return [m for m in stored if not m.deleted and not m.ephemeral]

    def message_payload(self, message_id: int) -> dict[str, Any] | None:
        """Deep copy of a stored message payload, or None."""
        stored = self.messages.get(message_id)
        return copy.deepcopy(stored.payload) if stored else None

    def find_commands(self, guild_id: int | None) -> list[dict[str, Any]]:
        """Commands visible in a guild (guild-specific first, then global) or in DMs."""
        found = list(self.commands.get(guild_id, [])) if guild_id else []
        return found + list(self.commands.get(None, []))
