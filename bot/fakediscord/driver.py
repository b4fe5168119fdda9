"""The test/console driver: play a user running commands, clicking and typing in the fake."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

from .builders import (
    InvocationRefused,
    base_payload,
    command_data,
    find_component,
    modal_submit_components,
    resolve_entity,
)
from .gateway import (
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MESSAGES,
    INTENT_MESSAGE_CONTENT,
    GatewayHub,
)
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    COMPONENT,
    MODAL_SUBMIT,
    InteractionRecord,
    InteractionTracker,
    Reply,
)
from .payloads import member_payload, new_message
from .state import FakeState
from .util import Signal

# Select menu type -> option kind used to fill ``resolved`` (user, role, mentionable, channel).
_SELECT_ENTITY = {5: 6, 6: 8, 7: 9, 8: 7}


class InteractionDriver:
    """Mixin for :class:`FakeDiscord` with the user-side actions."""

    # Provided by the class this is mixed into.
    state: FakeState
    stats: Counter[str]
    gateway: GatewayHub
    interactions: InteractionTracker
    messages_changed: Signal

    async def invoke(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        wait: bool = True,
        timeout: float = 10.0,
        locale: str = "en-US",
    ) -> Reply:
        """Run slash command ``name`` ("group sub" for subcommands) as ``user_id``.

        With ``wait`` (default) returns once the bot answered (a defer also needs its
        edit/followup). Raises ``LookupError``/``ValueError`` for unknown commands or bad
        options and :class:`InvocationRefused` where Discord would not offer the command.
        """
        if self.state.guild_of_channel(channel_id) != guild_id:
            raise ValueError(f"channel {channel_id} is not a channel of guild {guild_id}")
        data = command_data(self.state, guild_id, user_id, name, options or {})
        rec = self.interactions.new(
            APPLICATION_COMMAND,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            name=name,
        )
        return await self._send_interaction(rec, data, wait, timeout, locale)

    async def invoke_dm(
        self,
        user_id: int,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        wait: bool = True,
        timeout: float = 10.0,
        locale: str = "en-US",
    ) -> Reply:
        """Run a (global) slash command in the user's DM with the bot."""
        if user_id not in self.state.users:
            raise ValueError(f"unknown user {user_id}")
        channel = self.state.ensure_dm_channel(user_id)
        data = command_data(self.state, None, user_id, name, options or {})
        rec = self.interactions.new(
            APPLICATION_COMMAND, guild_id=None, channel_id=channel.id, user_id=user_id, name=name
        )
        return await self._send_interaction(rec, data, wait, timeout, locale)

    async def autocomplete(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        name: str,
        options: dict[str, Any],
        *,
        focused: str,
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        """Type into option ``focused`` and return the bot's autocomplete choices.

        ``guild_id=None`` means the user's DM with the bot (``channel_id`` ignored).
        """
        if focused not in options:
            raise ValueError(f"focused option {focused!r} must be present in options")
        if guild_id is None:
            channel_id = self.state.ensure_dm_channel(user_id).id
        elif self.state.guild_of_channel(channel_id or 0) != guild_id:
            raise ValueError(f"channel {channel_id} is not a channel of guild {guild_id}")
        data = command_data(self.state, guild_id, user_id, name, options, focused=focused)
        rec = self.interactions.new(
            AUTOCOMPLETE, guild_id=guild_id, channel_id=channel_id, user_id=user_id, name=name
        )
        reply = await self._send_interaction(rec, data, True, timeout, "en-US")
        return reply.choices or []

    async def click(
        self,
        message: Reply | dict[str, Any] | int,
        user_id: int,
        custom_id: str,
        *,
        wait: bool = True,
        timeout: float = 10.0,
    ) -> Reply:
        """Press the button ``custom_id`` on a message (a Reply, message dict or id)."""
        msg = self._latest_message(message)
        comp = find_component(msg, custom_id)
        if comp.get("type") != 2:
            raise ValueError(f"component {custom_id!r} is not a button (type {comp.get('type')})")
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._component(msg, user_id, data, wait, timeout)

    async def select(
        self,
        message: Reply | dict[str, Any] | int,
        user_id: int,
        custom_id: str,
        values: list[Any],
        *,
        wait: bool = True,
        timeout: float = 10.0,
    ) -> Reply:
        """Pick ``values`` in the select menu ``custom_id`` (string/user/role/channel selects)."""
        msg = self._latest_message(message)
        comp = find_component(msg, custom_id)
        ctype = comp.get("type")
        if ctype not in (3, 5, 6, 7, 8):
            raise ValueError(f"component {custom_id!r} is not a select menu (type {ctype})")
        low, high = comp.get("min_values", 1), comp.get("max_values", 1)
        if not low <= len(values) <= high:
            raise ValueError(f"select {custom_id!r} takes {low}..{high} values, got {len(values)}")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
        if ctype == 3:
            allowed = [o["value"] for o in comp.get("options", [])]
            bad = [v for v in values if str(v) not in allowed]
            if bad:
                raise ValueError(f"select {custom_id!r}: {bad} not among options {allowed}")
            data["values"] = [str(v) for v in values]
        else:
            channel = self.state.channels[int(msg["channel_id"])]
            resolved: dict[str, dict[str, Any]] = {}
            ctx = (channel.guild_id, user_id)
            for value in values:
                resolve_entity(self.state, ctx, _SELECT_ENTITY[ctype], int(value), resolved)
            data.update(values=[str(v) for v in values], resolved=resolved)
        return await self._component(msg, user_id, data, wait, timeout)

    async def submit_modal(
        self,
        reply: Reply,
        user_id: int,
        values: dict[str, Any],
        *,
        wait: bool = True,
        timeout: float = 10.0,
    ) -> Reply:
        """Fill in and submit the modal the bot opened in ``reply`` (values by custom_id)."""
        modal = reply.modal
        if modal is None:
            raise ValueError(f"{reply!r} did not open a modal")
        src = reply.record
        rec = self.interactions.new(
            MODAL_SUBMIT,
            guild_id=src.guild_id,
            channel_id=src.channel_id,
            user_id=user_id,
            name=modal.get("custom_id", ""),
            source_message_id=src.source_message_id,
        )
        data = {
            "custom_id": modal["custom_id"],
            "components": modal_submit_components(modal, values),
        }
        message = self.state.message_payload(src.source_message_id or 0)
        return await self._send_interaction(rec, data, wait, timeout, "en-US", message)

    async def send_user_message(
        self, channel_id: int, user_id: int, content: str
    ) -> dict[str, Any]:
        """Post a message as a user and deliver MESSAGE_CREATE to the bot.

        Without the MESSAGE_CONTENT intent the bot sees empty content in guild channels
        unless it is mentioned, exactly like Discord.
        """
        stored = new_message(self.state, channel_id, {"content": content}, [], author_id=user_id)
        channel = self.state.channels[channel_id]
        gid = channel.guild_id
        mentioned = f"<@{self.state.bot.id}>" in content
        for session in self.gateway.live_sessions():
            intent = INTENT_GUILD_MESSAGES if gid else INTENT_DIRECT_MESSAGES
            if not session.owns_guild(gid) or not session.intents & intent:
                continue
            data = copy.deepcopy(stored.payload)
            if gid:
                data["guild_id"] = str(gid)
                data["member"] = member_payload(self.state, gid, user_id, with_user=False)
                if not session.intents & INTENT_MESSAGE_CONTENT and not mentioned:
                    data.update(content="", embeds=[], attachments=[], components=[])
            session.dispatch("MESSAGE_CREATE", data)
        self.messages_changed.pulse()
        return copy.deepcopy(stored.payload)

    # ----------------------------------------------------------------- helpers
    def _latest_message(self, message: Reply | dict[str, Any] | int) -> dict[str, Any]:
        if isinstance(message, Reply):
            mid = message.message_id
        elif isinstance(message, dict):
            mid = int(message["id"])
        else:
            mid = int(message)
        payload = self.state.message_payload(mid or 0)
        if payload is None or self.state.messages[int(payload["id"])].deleted:
            raise LookupError(f"message {mid} does not exist (or was deleted)")
        return payload

    async def _component(
        self,
        msg: dict[str, Any],
        user_id: int,
        data: dict[str, Any],
        wait: bool,
        timeout: float,
    ) -> Reply:
        stored = self.state.messages[int(msg["id"])]
        channel = self.state.channels[stored.channel_id]
        if stored.ephemeral and stored.interaction_id in self.interactions.by_id:
            owner = self.interactions.by_id[stored.interaction_id].user_id
            if owner != user_id:
                raise InvocationRefused(f"user {user_id} cannot see ephemeral message {msg['id']}")
        if channel.guild_id and user_id not in self.state.guilds[channel.guild_id].members:
            raise InvocationRefused(f"user {user_id} is not a member of guild {channel.guild_id}")
        rec = self.interactions.new(
            COMPONENT,
            guild_id=channel.guild_id,
            channel_id=channel.id,
            user_id=user_id,
            name=data["custom_id"],
            source_message_id=int(msg["id"]),
        )
        return await self._send_interaction(rec, data, wait, timeout, "en-US", msg)

    async def _send_interaction(
        self,
        rec: InteractionRecord,
        data: dict[str, Any],
        wait: bool,
        timeout: float,
        locale: str,
        message: dict[str, Any] | None = None,
    ) -> Reply:
        payload = base_payload(self.state, rec, locale)
        payload["data"] = data
        if message is not None:
            payload["message"] = message
        rec.payload = payload
        self.stats["interactions"] += 1
        if not self.gateway.dispatch(rec.guild_id, "INTERACTION_CREATE", payload):
            raise RuntimeError(
                "fakediscord: no bot session receives this interaction (call wait_for_ready?)"
            )
        reply = Reply(self.state, rec)
        if wait:
            await reply.wait(timeout, resolved=rec.type != AUTOCOMPLETE)
        return reply
