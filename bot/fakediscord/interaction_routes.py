"""REST handlers for interaction callbacks and the interaction webhook (followups, @original)."""

from __future__ import annotations

import copy
import time
from typing import Any

from .interactions import APPLICATION_COMMAND, AUTOCOMPLETE, COMPONENT, InteractionRecord
from .payloads import EPHEMERAL, LOADING, edit_message, new_message, user_payload
from .rest import ApiError, RestRequest, Router
from .routes import announce, is_empty_message
from .state import StoredMessage
from .validation import autocomplete_problems, run_validator

Result = tuple[int, Any]

# Which callback types Discord accepts for each interaction type.
_ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {4, 5, 9},
    COMPONENT: {4, 5, 6, 7, 9},
    AUTOCOMPLETE: {8},
    5: {4, 5, 6, 7},  # modal submit
}


def _check(req: RestRequest, rec: InteractionRecord, problems: list[str]) -> None:
    rec.problems.extend(problems)
    req.add_problems(problems)


def _validate_message(req: RestRequest, rec: InteractionRecord, payload: dict[str, Any]) -> None:
    _check(req, rec, run_validator(req.fake.validator, payload))


def _modal_problems(data: dict[str, Any]) -> list[str]:
    problems = []
    if not 1 <= len(str(data.get("title", ""))) <= 45:
        problems.append("modal title must be 1-45 characters")
    if not 1 <= len(data.get("components") or []) <= 5:
        problems.append("modal must have 1-5 top-level components")
    if not data.get("custom_id"):
        problems.append("modal has no custom_id")
    return problems


def _interaction_extra(req: RestRequest, rec: InteractionRecord) -> dict[str, Any]:
    """Fields Discord adds to messages created by an interaction response."""
    state = req.fake.state
    meta: dict[str, Any] = {
        "id": str(rec.id),
        "type": rec.type,
        "user": user_payload(state, rec.user_id),
        "authorizing_integration_owners": {"0": str(rec.guild_id or 0)},
    }
    if rec.type == APPLICATION_COMMAND:
        meta["name"] = rec.name
    if rec.source_message_id:
        meta["interacted_message_id"] = str(rec.source_message_id)
    app = str(state.application_id)
    return {"webhook_id": app, "application_id": app, "interaction_metadata": meta}


def _create(req: RestRequest, rec: InteractionRecord, body: dict[str, Any], mtype: int) -> Any:
    state = req.fake.state
    stored = new_message(
        state,
        rec.channel_id,
        body,
        req.files,
        author_id=state.bot.id,
        message_type=mtype,
        extra=_interaction_extra(req, rec),
    )
    stored.interaction_id = rec.id
    return stored


async def interaction_callback(req: RestRequest) -> Result:
    """``POST /interactions/{interaction_id}/{token}/callback``."""
    fake = req.fake
    rec = fake.interactions.by_id.get(req.int_param("interaction_id"))
    if rec is None or rec.token != req.params["token"]:
        raise ApiError(404, 10062, "Unknown interaction")
    if rec.callback_type is not None:
        raise ApiError(400, 40060, "Interaction has already been acknowledged.")
    if fake.interaction_timeout and time.monotonic() - rec.created > fake.interaction_timeout:
        # Discord forgets interactions not answered within 3 seconds.
        fake.stats["expired_interactions"] += 1
        raise ApiError(404, 10062, "Unknown interaction")
    body = req.body()
    cb = int(body.get("type", 0))
    data = body.get("data") or {}
    if cb not in _ALLOWED_CALLBACKS.get(rec.type, set()):
        raise ApiError(400, 50035, "Invalid Form Body", {"type": f"{cb} invalid for {rec.type}"})
    if cb in (6, 7) and rec.source_message_id is None:
        raise ApiError(400, 50035, "Invalid Form Body", {"type": "no message to update"})
    if cb == 4 and is_empty_message(data, req.files):
        raise ApiError(400, 50006, "Cannot send an empty message")
    if cb in (4, 7):
        _validate_message(req, rec, data)
    elif cb == 8:
        _check(req, rec, autocomplete_problems(data))
    elif cb == 9:
        _check(req, rec, _modal_problems(data))
    rec.callback_type, rec.callback_data = cb, copy.deepcopy(data)
    stored: StoredMessage | None = None
    if cb == 4:
        stored = _create(req, rec, data, 20 if rec.type == APPLICATION_COMMAND else 0)
    elif cb == 5:
        stored = _create(req, rec, {"flags": data.get("flags", 0)}, 20)
        stored.payload["flags"] |= LOADING
    elif cb in (6, 7):
        assert rec.source_message_id is not None  # refused above otherwise
        stored = fake.state.messages[rec.source_message_id]
        if cb == 7:
            edit_message(fake.state, stored, data, req.files)
            announce(fake, stored, "MESSAGE_UPDATE")
    if stored is not None:
        rec.original_message_id = int(stored.payload["id"])
        if cb in (4, 5):
            announce(fake, stored)
    rec.changed.pulse()
    fake.messages_changed.pulse()
    if req.query.get("with_response", "").lower() not in ("1", "true"):
        return 204, None
    return 200, _callback_response(rec, cb, stored)


def _callback_response(rec: InteractionRecord, cb: int, stored: StoredMessage | None) -> Any:
    """The body discord.py 2.7 parses for ``?with_response=1`` (InteractionCallbackResponse)."""
    interaction: dict[str, Any] = {"id": str(rec.id), "type": rec.type}
    resource: dict[str, Any] = {"type": cb}
    if stored is not None:
        flags = stored.payload.get("flags", 0)
        interaction.update(
            response_message_id=stored.payload["id"],
            response_message_loading=bool(flags & LOADING),
            response_message_ephemeral=bool(flags & EPHEMERAL),
        )
        if cb in (4, 5, 7):
            resource["message"] = copy.deepcopy(stored.payload)
    return {"interaction": interaction, "resource": resource}


def _webhook_record(req: RestRequest) -> InteractionRecord:
    fake = req.fake
    rec = fake.interactions.by_token.get(req.params["token"])
    if req.int_param("app_id") != fake.state.application_id or rec is None:
        raise ApiError(404, 10015, "Unknown Webhook")
    if rec.callback_type is None:
        # Followups/edits before the initial response are rejected by Discord too.
        raise ApiError(404, 10015, "Unknown Webhook")
    return rec


def _webhook_message(req: RestRequest, rec: InteractionRecord) -> StoredMessage:
    raw = req.params.get("message_id", "@original")
    mid = rec.original_message_id if raw == "@original" else req.int_param("message_id")
    owned = mid == rec.original_message_id or mid in rec.followup_ids
    stored = req.fake.state.messages.get(mid) if mid is not None and owned else None
    if stored is None or stored.deleted:
        raise ApiError(404, 10008, "Unknown Message")
    return stored


async def get_webhook_message(req: RestRequest) -> Result:
    """``GET /webhooks/{app_id}/{token}/messages/@original`` or ``/{message_id}``."""
    rec = _webhook_record(req)
    return 200, copy.deepcopy(_webhook_message(req, rec).payload)


async def edit_webhook_message(req: RestRequest) -> Result:
    """``PATCH`` @original or a followup: edits it (and fills a deferred 'thinking' message)."""
    rec = _webhook_record(req)
    stored = _webhook_message(req, rec)
    _validate_message(req, rec, req.body())
    edit_message(req.fake.state, stored, req.body(), req.files)
    announce(req.fake, stored, "MESSAGE_UPDATE")
    rec.touch()
    req.fake.messages_changed.pulse()
    return 200, copy.deepcopy(stored.payload)


async def delete_webhook_message(req: RestRequest) -> Result:
    """``DELETE`` @original or a followup."""
    rec = _webhook_record(req)
    stored = _webhook_message(req, rec)
    stored.deleted = True
    announce(req.fake, stored, "MESSAGE_DELETE")
    rec.touch()
    req.fake.messages_changed.pulse()
    return 204, None


async def create_followup(req: RestRequest) -> Result:
    """``POST /webhooks/{app_id}/{token}``: a followup message.

    As on Discord, the first followup after a 'thinking' defer replaces the loading message.
    """
    rec = _webhook_record(req)
    body = req.body()
    if is_empty_message(body, req.files):
        raise ApiError(400, 50006, "Cannot send an empty message")
    _validate_message(req, rec, body)
    state = req.fake.state
    original = state.messages.get(rec.original_message_id or 0)
    if original is not None and original.payload.get("flags", 0) & LOADING:
        edit_message(state, original, {k: v for k, v in body.items() if k != "flags"}, req.files)
        stored = original
        announce(req.fake, stored, "MESSAGE_UPDATE")
    else:
        stored = _create(req, rec, body, 0)
        rec.followup_ids.append(int(stored.payload["id"]))
        announce(req.fake, stored)
    rec.touch()
    req.fake.messages_changed.pulse()
    if req.query.get("wait", "").lower() in ("0", "false"):
        return 204, None
    return 200, copy.deepcopy(stored.payload)


def register(router: Router) -> None:
    """Add this module's routes."""
    router.add("POST /interactions/{interaction_id}/{token}/callback", interaction_callback)
    router.add("POST /webhooks/{app_id}/{token}", create_followup)
    for suffix in ("@original", "{message_id}"):
        route = f"/webhooks/{{app_id}}/{{token}}/messages/{suffix}"
        router.add(f"GET {route}", get_webhook_message)
        router.add(f"PATCH {route}", edit_webhook_message)
        router.add(f"DELETE {route}", delete_webhook_message)
