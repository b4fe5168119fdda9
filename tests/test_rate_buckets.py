"""discord.py's rate-limit records during a fan-out to thousands of new channels: our
client does not look through every record for each new channel (about n²/2 checks), and
inactive records still go (bot/discord_app/rate_buckets.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from discord.http import HTTPClient, Ratelimit

from bot.discord_app.rate_buckets import SCAN_EVERY_S, SCAN_METHOD, throttle_bucket_expiry
from tests.discord_harness import bot_against_fake

NEW_CHANNELS = 3000
INACTIVE_AFTER_S = 300  # discord.py's Ratelimit.is_inactive


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times discord.py asks a record whether it is inactive."""
    counted = [0]
    inactive = Ratelimit.is_inactive

    def counting(self: Ratelimit) -> bool:
        counted[0] += 1
        return inactive(self)

    monkeypatch.setattr(Ratelimit, "is_inactive", counting)
    return counted


def test_discord_py_still_has_the_scan_we_throttle() -> None:
    assert callable(getattr(HTTPClient, SCAN_METHOD, None))


async def test_a_fan_out_to_new_channels_does_not_rescan_every_record(
    tmp_path: Path, checks: list[int]
) -> None:
    async with bot_against_fake(tmp_path, ingest_sample=False) as (_, bot, _):
        http = bot.http
        for channel in range(NEW_CHANNELS):  # what each DM to a new channel asks for
            http.get_ratelimit(f"POST /channels/{{channel_id}}/messages:{channel}")
        assert len(http._buckets) >= NEW_CHANNELS
    # Unthrottled: every new channel from the 256th on checks every record, ~4.5 million.
    assert checks[0] <= 2 * NEW_CHANNELS


async def test_inactive_records_still_expire_at_most_a_scan_interval_later(
    checks: list[int],
) -> None:
    loop = asyncio.get_running_loop()
    http = HTTPClient(loop)
    now = [1000.0]
    assert throttle_bucket_expiry(http, clock=lambda: now[0])
    records = [http.get_ratelimit(f"route:{i}") for i in range(400)]
    idle = records[:100]
    for record in idle:  # last used more than 5 minutes ago
        record._last_request = loop.time() - INACTIVE_AFTER_S - 1
    http.get_ratelimit("route:new-1")  # within the interval of the last scan: no scan
    assert all(http._buckets.get(f"route:{i}") is idle[i] for i in range(100))
    now[0] += SCAN_EVERY_S
    http.get_ratelimit("route:new-2")
    assert not any(f"route:{i}" in http._buckets for i in range(100))
    assert all(f"route:{i}" in http._buckets for i in range(100, 400))
    assert {"route:new-1", "route:new-2"} <= set(http._buckets)
    await http.close()
