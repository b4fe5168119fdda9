"""discord.py's per-route rate-limit records, expired without a scan per new channel.

discord.py keeps a record (a `Ratelimit`) per route and channel, and from 256 records
on it looks through all of them for inactive ones (unused for 5 minutes) every time it
meets a channel it has no record of. A DM fan-out meets a new channel with each member:
at 10,000 members that is about n²/2 = 5·10⁷ checks, milliseconds of CPU per DM by the
end. A record can only become inactive 5 minutes after its last use, so looking more
often than every `SCAN_EVERY_S` finds nothing more: the scan runs at most that often,
and the records it drops are the same ones, at most `SCAN_EVERY_S` later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from discord.http import HTTPClient

log = logging.getLogger("paperbot")

SCAN_EVERY_S = 30.0
# discord.py's own name for the scan (discord/http.py, 2.x): checked by a test, so an
# upgrade that renames it fails there rather than quietly scanning on every channel.
SCAN_METHOD = "_try_clear_expired_ratelimits"


def throttle_bucket_expiry(
    http: HTTPClient,
    every_s: float = SCAN_EVERY_S,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Make `http` expire its inactive rate-limit records at most every `every_s`
    seconds; False (and nothing changed) when this discord.py has no such scan."""
    scan: Callable[[], None] | None = getattr(http, SCAN_METHOD, None)
    if scan is None:
        log.warning("discord.py has no %s: rate-limit records expire its own way", SCAN_METHOD)
        return False
    last: float | None = None

    def throttled() -> None:
        nonlocal last
        now = clock()
        if last is not None and now - last < every_s:
            return
        last = now
        scan()

    setattr(http, SCAN_METHOD, throttled)  # on this client only, not the class
    return True
