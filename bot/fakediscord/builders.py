"""Builds INTERACTION_CREATE payloads the way Discord does for slash commands, autocomplete,
components and modal submits, enforcing what Discord's own UI would enforce."""

from __future__ import annotations

from typing import Any

from .interactions import InteractionRecord
from .payloads import channel_payload, member_payload, resolved_channel, role_payload, user_payload
from .state import FakeState
from .util import ALL_PERMISSIONS

# discord.py reads this key unconditionally (KeyError without it); 10 MiB is Discord's default.
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
SUBCOMMAND, SUBCOMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE = 3, 4, 5, 6, 7, 8, 9
NUMBER, ATTACHMENT = 10, 11


class InvocationRefused(PermissionError):
    """Discord's client would not let this user run this command here."""


def base_payload(state: FakeState, record: InteractionRecord, locale: str) -> dict[str, Any]:
    """Fields every interaction carries (discord.py needs ``attachment_size_limit`` and more)."""
    channel = state.channels[record.channel_id]
    chan = channel_payload(state, channel)
    data: dict[str, Any] = {
        "id": str(record.id),
        "application_id": str(state.application_id),
        "type": record.type,
        "token": record.token,
        "version": 1,
        "channel_id": str(channel.id),
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        "locale": locale,
    }
    gid = record.guild_id
    if gid is not None:
        perms = state.member_permissions(gid, record.user_id)
        chan["permissions"] = str(perms)
        member = member_payload(state, gid, record.user_id)
        member["permissions"] = str(perms)
        data.update(
            guild_id=str(gid),
            guild={"id": str(gid), "locale": "en-US", "features": []},
            guild_locale="en-US",
            member=member,
            app_permissions=str(state.member_permissions(gid, state.bot.id)),
            authorizing_integration_owners={"0": str(gid)},
            context=0,
        )
    else:
        data.update(
            user=user_payload(state, record.user_id),
            app_permissions=str(state.bot_permissions),
            # A guild-installed app used in the bot's DM: owner key "0" with value "0".
            authorizing_integration_owners={"0": "0"},
            context=1,
        )
    data["channel"] = chan
    return data


def check_allowed(
    state: FakeState, command: dict[str, Any], guild_id: int | None, uid: int
) -> None:
    """Raise :class:`InvocationRefused` where Discord would hide the command from the user."""
    contexts = command.get("contexts")
    if guild_id is None:
        if (contexts is not None and 1 not in contexts) or command.get("dm_permission") is False:
            raise InvocationRefused(f"/{command['name']} is not available in DMs")
        return
    if contexts is not None and 0 not in contexts:
        raise InvocationRefused(f"/{command['name']} is not available in guilds")
    if uid not in state.guilds[guild_id].members:
        raise InvocationRefused(f"user {uid} is not a member of guild {guild_id}")
    required = command.get("default_member_permissions")
    if required is None:
        return
    perms = state.member_permissions(guild_id, uid)
    needed = int(required)
    # "0" means administrators only; otherwise every required bit must be present.
    if (needed == 0 and perms != ALL_PERMISSIONS) or perms & needed != needed:
        raise InvocationRefused(
            f"user {uid} lacks default_member_permissions={needed} for /{command['name']}"
        )


def find_command(state: FakeState, guild_id: int | None, root: str) -> dict[str, Any]:
    """Look up a registered chat-input command by its top-level name."""
    commands = state.find_commands(guild_id)
    for command in commands:
        if command["name"] == root and command.get("type", 1) == 1:
            return command
    names = sorted({c["name"] for c in commands})
    raise LookupError(
        f"/{root} is not registered for guild {guild_id} (did the bot sync its command tree?); "
        f"registered: {names}"
    )


def command_data(
    state: FakeState,
    guild_id: int | None,
    user_id: int,
    name: str,
    options: dict[str, Any],
    *,
    focused: str | None = None,
) -> dict[str, Any]:
    """``data`` for an application command (or autocomplete when ``focused`` is set)."""
    parts = name.split()
    command = find_command(state, guild_id, parts[0])
    check_allowed(state, command, guild_id, user_id)
    chain: list[dict[str, Any]] = []
    specs = command.get("options") or []
    for part in parts[1:]:
        sub = next((o for o in specs if o["name"] == part and o["type"] in (1, 2)), None)
        if sub is None:
            raise LookupError(f"/{name}: no subcommand {part!r} in {[o['name'] for o in specs]}")
        chain.append(sub)
        specs = sub.get("options") or []
    if any(o["type"] in (SUBCOMMAND, SUBCOMMAND_GROUP) for o in specs):
        raise LookupError(f"/{name} needs a subcommand: {[o['name'] for o in specs]}")
    resolved: dict[str, dict[str, Any]] = {}
    ctx = (guild_id, user_id)
    built = build_options(state, ctx, name, specs, options, resolved, focused)
    for sub in reversed(chain):
        built = [{"name": sub["name"], "type": sub["type"], "options": built}]
    data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": 1}
    data["options"] = built
    if resolved:
        data["resolved"] = resolved
    if command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    return data


def build_options(
    state: FakeState,
    ctx: tuple[int | None, int],
    name: str,
    specs: list[dict[str, Any]],
    values: dict[str, Any],
    resolved: dict[str, dict[str, Any]],
    focused: str | None,
) -> list[dict[str, Any]]:
    """Typed option list (spec order) plus ``resolved`` entries; validates like Discord's UI.

    ``ctx`` is (guild id or None, invoking user id).
    """
    known = {s["name"]: s for s in specs}
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"/{name}: unknown option(s) {sorted(unknown)}; options: {list(known)}")
    result = []
    for spec in specs:
        key = spec["name"]
        if key not in values:
            if spec.get("required") and focused is None:
                raise ValueError(f"/{name}: missing required option {key!r}")
            continue
        if key == focused:
            # Autocomplete sends whatever the user has typed so far, as text.
            result.append({"name": key, "type": spec["type"], "value": str(values[key])})
            result[-1]["focused"] = True
            continue
        value = convert_value(state, ctx, spec, values[key], resolved)
        result.append({"name": key, "type": spec["type"], "value": value})
    return result


def _snowflake(value: Any) -> int:
    if isinstance(value, dict):
        value = value["id"]
    return int(getattr(value, "id", value))


def convert_value(
    state: FakeState,
    ctx: tuple[int | None, int],
    spec: dict[str, Any],
    value: Any,
    resolved: dict[str, dict[str, Any]],
) -> Any:
    """Convert one option value to its wire form, filling ``resolved`` for entity options."""
    kind, key = spec["type"], spec["name"]
    if kind == STRING:
        value = str(value)
        if not spec.get("min_length", 0) <= len(value) <= spec.get("max_length", 6000):
            raise ValueError(f"option {key!r}: length {len(value)} outside the allowed range")
    elif kind in (INTEGER, NUMBER):
        if isinstance(value, bool):
            raise ValueError(f"option {key!r} expects a number, got {value!r}")
        value = int(value) if kind == INTEGER else float(value)
        low, high = spec.get("min_value"), spec.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"option {key!r}: {value} outside [{low}, {high}]")
    elif kind == BOOLEAN:
        value = bool(value)
    elif kind == ATTACHMENT:
        att = value if isinstance(value, dict) else state.attachments[int(value)].payload
        resolved.setdefault("attachments", {})[str(att["id"])] = dict(att)
        return str(att["id"])
    elif kind in (USER, CHANNEL, ROLE, MENTIONABLE):
        snowflake = _snowflake(value)
        resolve_entity(state, ctx, kind, snowflake, resolved, spec.get("channel_types"))
        return str(snowflake)
    choices = spec.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise ValueError(f"option {key!r}: {value!r} is not one of the choices")
    return value


def resolve_entity(
    state: FakeState,
    ctx: tuple[int | None, int],
    kind: int,
    snowflake: int,
    resolved: dict[str, dict[str, Any]],
    channel_types: list[int] | None = None,
) -> None:
    """Add a user/member, channel or role to ``resolved`` (validating that it exists).

    ``ctx`` is (guild id or None, invoking user id): resolved channels carry that user's
    permissions, as on Discord.
    """
    guild_id, user_id = ctx
    if kind == CHANNEL:
        channel = state.channels.get(snowflake)
        if channel is None:
            raise ValueError(f"unknown channel {snowflake}")
        if channel.guild_id is not None and channel.guild_id != ctx[0]:
            # Discord only offers (and accepts) the invoking server's own channels.
            raise ValueError(f"channel {snowflake} is not in this server")
        if channel_types and channel.type not in channel_types:
            raise ValueError(f"channel {snowflake} has type {channel.type}, not {channel_types}")
        perms = state.member_permissions(guild_id, user_id) if guild_id else 0
        resolved.setdefault("channels", {})[str(snowflake)] = resolved_channel(
            state, channel, perms
        )
        return
    guild = state.guilds.get(guild_id) if guild_id else None
    if kind in (USER, MENTIONABLE) and snowflake in state.users:
        resolved.setdefault("users", {})[str(snowflake)] = user_payload(state, snowflake)
        if guild is not None and snowflake in guild.members:
            member = member_payload(state, guild.id, snowflake, with_user=False)
            member["permissions"] = str(state.member_permissions(guild.id, snowflake))
            resolved.setdefault("members", {})[str(snowflake)] = member
        return
    if kind in (ROLE, MENTIONABLE) and guild is not None and snowflake in guild.roles:
        resolved.setdefault("roles", {})[str(snowflake)] = role_payload(guild.roles[snowflake])
        return
    raise ValueError(f"unknown {'role' if kind == ROLE else 'user'} {snowflake}")


def iter_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every component in a message/modal tree (rows, sections, containers, labels)."""
    found: list[dict[str, Any]] = []
    for comp in components or []:
        found.append(comp)
        found.extend(iter_components(comp.get("components") or []))
        for key in ("accessory", "component"):
            if isinstance(comp.get(key), dict):
                found.extend(iter_components([comp[key]]))
    return found


def find_component(message: dict[str, Any], custom_id: str) -> dict[str, Any]:
    """The interactive component with ``custom_id``; refuses what a user could not click."""
    for comp in iter_components(message.get("components", [])):
        if comp.get("custom_id") == custom_id:
            if comp.get("disabled"):
                raise InvocationRefused(f"component {custom_id!r} is disabled")
            return comp
    ids = [
        c["custom_id"] for c in iter_components(message.get("components", [])) if "custom_id" in c
    ]
    raise LookupError(f"no component {custom_id!r} on message {message['id']}; custom_ids: {ids}")


def modal_submit_components(modal: dict[str, Any], values: dict[str, Any]) -> list[dict[str, Any]]:
    """Mirror a modal's layout with submitted values, as Discord sends it back."""

    def submitted(comp: dict[str, Any]) -> dict[str, Any] | None:
        cid = comp.get("custom_id")
        if cid is None:
            return None
        if comp["type"] == 4:  # text input
            return {
                "type": 4,
                "custom_id": cid,
                "value": str(values.get(cid, comp.get("value", ""))),
            }
        return {"type": comp["type"], "custom_id": cid, "values": list(values.get(cid, []))}

    result: list[dict[str, Any]] = []
    for top in modal.get("components", []):
        if top["type"] == 1:
            inner = [s for c in top.get("components", []) if (s := submitted(c))]
            result.append({"type": 1, "components": inner})
        elif top["type"] == 18 and isinstance(top.get("component"), dict):
            inner_one = submitted(top["component"])
            if inner_one:
                result.append({"type": 18, "component": inner_one})
    return result
