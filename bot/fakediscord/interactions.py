"""Interaction bookkeeping and the :class:`Reply` handle tests use to read the bot's answer.

Each interaction the driver creates gets a unique id and token. The callback, followup and
``@original`` webhook routes find it again by token, so a Reply always shows the *latest*
state of the original response message (after edits, e.g. paging) and of its followups.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .payloads import EPHEMERAL, LOADING
from .util import Signal

if TYPE_CHECKING:
    from .state import FakeState

APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5

CALLBACK_KINDS = {
    1: "pong",
    4: "message",
    5: "deferred",
    6: "deferred_update",
    7: "update",
    8: "autocomplete",
    9: "modal",
}


@dataclass
class InteractionRecord:
    """Server-side state of one interaction."""

    id: int
    token: str
    type: int
    guild_id: int | None
    channel_id: int
    user_id: int
    name: str
    source_message_id: int | None = None
    created: float = field(default_factory=time.monotonic)
    payload: dict[str, Any] = field(default_factory=dict)
    callback_type: int | None = None
    callback_data: dict[str, Any] | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    # Bumped whenever the response is edited or a followup arrives (resolves a defer).
    updates: int = 0
    problems: list[str] = field(default_factory=list)
    changed: Signal = field(default_factory=Signal)

    def touch(self) -> None:
        """Mark a change and wake anyone waiting on this interaction."""
        self.updates += 1
        self.changed.pulse()


class InteractionTracker:
    """All interactions created by the driver, findable by id or token."""

    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.by_id: dict[int, InteractionRecord] = {}
        self.by_token: dict[str, InteractionRecord] = {}

    def new(self, type: int, **fields: Any) -> InteractionRecord:
        """Create and register a new interaction record."""
        record = InteractionRecord(
            id=self.state.ids.next(), token=f"aW50{secrets.token_urlsafe(48)}", type=type, **fields
        )
        self.by_id[record.id] = record
        self.by_token[record.token] = record
        return record


class Reply:
    """The bot's answer to one interaction; every property reads live state."""

    def __init__(self, state: FakeState, record: InteractionRecord) -> None:
        self._state = state
        self.record = record

    def __repr__(self) -> str:
        return f"<Reply {self.record.name!r} kind={self.kind} content={self.content!r}>"

    # ----------------------------------------------------------------- status
    @property
    def interaction_id(self) -> int:
        """The interaction's snowflake."""
        return self.record.id

    @property
    def token(self) -> str:
        """The interaction token (also the webhook token for followups)."""
        return self.record.token

    @property
    def callback_type(self) -> int | None:
        """Raw interaction callback type, None while unanswered."""
        return self.record.callback_type

    @property
    def kind(self) -> str:
        """One of pending, message, deferred, deferred_update, update, autocomplete, modal."""
        cb = self.record.callback_type
        return "pending" if cb is None else CALLBACK_KINDS.get(cb, f"type{cb}")

    @property
    def responded(self) -> bool:
        """Whether the interaction callback arrived."""
        return self.record.callback_type is not None

    @property
    def resolved(self) -> bool:
        """Responded, and a defer has been followed by an edit or a followup."""
        cb = self.record.callback_type
        if cb is None:
            return False
        return cb not in (5, 6) or self.record.updates > 0

    @property
    def problems(self) -> list[str]:
        """Validation problems found in this interaction's payloads."""
        return list(self.record.problems)

    # ---------------------------------------------------------------- message
    @property
    def message_id(self) -> int | None:
        """Id of the original response message (or the updated component message)."""
        return self.record.original_message_id

    @property
    def message(self) -> dict[str, Any] | None:
        """Latest payload of the original response / updated message."""
        mid = self.record.original_message_id
        return None if mid is None else self._state.message_payload(mid)

    @property
    def deleted(self) -> bool:
        """Whether the original response message was deleted."""
        mid = self.record.original_message_id
        stored = self._state.messages.get(mid) if mid is not None else None
        return bool(stored and stored.deleted)

    @property
    def content(self) -> str | None:
        """Text content of the (latest) response message."""
        msg = self.message
        return None if msg is None else msg.get("content", "")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        """Embeds of the response message."""
        return (self.message or {}).get("embeds", [])

    @property
    def components(self) -> list[dict[str, Any]]:
        """Components (action rows etc.) of the response message."""
        return (self.message or {}).get("components", [])

    @property
    def attachments(self) -> list[dict[str, Any]]:
        """Attachments of the response message."""
        return (self.message or {}).get("attachments", [])

    @property
    def flags(self) -> int:
        """Message flags of the response (or of the callback data if there is no message)."""
        if self.message is not None:
            return int(self.message.get("flags", 0))
        return int((self.record.callback_data or {}).get("flags", 0) or 0)

    @property
    def ephemeral(self) -> bool:
        """Whether only the invoking user sees the response (flag 64)."""
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while a deferred ('thinking') response has not been filled in."""
        return bool(self.flags & LOADING)

    @property
    def followups(self) -> list[dict[str, Any]]:
        """Followup messages (latest versions), oldest first."""
        found = (self._state.message_payload(mid) for mid in self.record.followup_ids)
        return [m for m in found if m is not None]

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The original response message (if any) followed by the followups."""
        return ([self.message] if self.message else []) + self.followups

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        """Autocomplete choices (type 8 callback), else None."""
        if self.record.callback_type != 8:
            return None
        return list((self.record.callback_data or {}).get("choices", []))

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal the bot opened (type 9 callback), else None."""
        return self.record.callback_data if self.record.callback_type == 9 else None

    # ---------------------------------------------------------------- waiting
    async def wait_for(
        self, predicate: Callable[[Reply], bool], timeout: float = 10.0, what: str = "condition"
    ) -> Reply:
        """Wait until ``predicate(self)`` holds."""
        await self.record.changed.wait_for(
            lambda: predicate(self), timeout, f"{what} of interaction {self.record.name!r}"
        )
        return self

    async def wait(self, timeout: float = 10.0, *, resolved: bool = True) -> Reply:
        """Wait for the callback; with ``resolved`` also for a defer's edit/followup."""
        if resolved:
            return await self.wait_for(lambda r: r.resolved, timeout, "a resolved response")
        return await self.wait_for(lambda r: r.responded, timeout, "the callback")

    async def wait_for_followups(self, count: int = 1, timeout: float = 10.0) -> Reply:
        """Wait until at least ``count`` followup messages exist."""
        return await self.wait_for(
            lambda r: len(r.record.followup_ids) >= count, timeout, f"{count} followup(s)"
        )

    async def wait_for_update(self, after: int, timeout: float = 10.0) -> Reply:
        """Wait until ``record.updates`` exceeds ``after`` (e.g. a later edit of a paged view)."""
        return await self.wait_for(lambda r: r.record.updates > after, timeout, "an update")
