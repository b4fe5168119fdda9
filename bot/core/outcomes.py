"""The words delivery speaks in: what the ledger records for one (target, day), and what
one delivery attempt came to.

Both are `StrEnum`s: a member is its string (`DeliveryStatus.SENT == "sent"`), so the
database stores and returns the same text as before, and logs and messages show it.
"""

from __future__ import annotations

from enum import StrEnum


class DeliveryStatus(StrEnum):
    """A delivery ledger row's state (`DeliveryRecord.status`)."""

    SENDING = "sending"  # claimed: the message may be on its way, or may have arrived
    SENT = "sent"  # posted; `message_id` says which message
    EMPTY = "empty"  # nothing to post that day (no paper matched a member's follows)
    FAILED = "failed"  # the target refused it; the next claim tries again
    # Never stored: a claim's answer when another process holds a live lease on the row.
    HELD = "held"

    @property
    def done(self) -> bool:
        """Posted or settled as empty: never sent again."""
        return self in (DeliveryStatus.SENT, DeliveryStatus.EMPTY)


class OutcomeStatus(StrEnum):
    """What one call of `DeliveryService.deliver_channel` / `deliver_member` came to."""

    # Settled: nothing more to do for that day.
    SENT = "sent"
    RECONCILED = "reconciled"  # an interrupted send had arrived: found in the history
    ALREADY = "already"  # the ledger says it was sent (or was empty) before
    NOTHING_NEW = "nothing-new"  # every day with papers was delivered already
    NO_PAPERS = "no-papers"  # nothing was ever ingested
    PAUSED = "paused"  # the channel's digest is paused
    EMPTY = "empty"  # the member's follows matched no paper that day
    DMS_CLOSED = "dms-closed"  # the member does not take DMs from us
    # Refused by the target (403/404): counted toward pausing a channel's digest.
    FAILED = "failed"
    # Transient: the next sweep tries again.
    BUSY = "busy"  # this process is delivering to the target right now
    RETRY = "retry"  # a 5xx, a 429 after discord.py's retries, a timeout, shutting down
    HELD = "held"  # another process holds a live claim on it (sharded)
    # Only between the exactly-once core and its callers, which turn them into FAILED
    # (counting the channel's failures) or DMS_CLOSED (recording the closed DMs).
    FAILED_GONE = "failed-gone"
    FAILED_CLOSED = "failed-closed"

    @property
    def transient(self) -> bool:
        """The day is not settled: a later attempt should try it again."""
        return self in (OutcomeStatus.BUSY, OutcomeStatus.RETRY, OutcomeStatus.HELD)
