"""Time zones as people type them, over the installed zone tables: the resolver of
bot.core.timezones bound to the index bot.services.zone_data builds on first use.

The first call builds the tables (about a second): callers on the event loop ask from a
worker thread."""

from __future__ import annotations

from bot.core import timezones
from bot.core.timezones import MAX_CHOICES, ZoneMatch
from bot.services.zone_data import zone_index

__all__ = [
    "MAX_CHOICES",
    "ZoneMatch",
    "parse_timezone",
    "resolve_zone",
    "timezone_choices",
    "zone_choices",
    "zone_label",
]


def resolve_zone(text: str) -> ZoneMatch:
    """The zone `text` names, or ValueError with the closest zones to try."""
    return timezones.resolve_zone(zone_index(), text)


def zone_label(zone: str) -> str:
    """`Asia/Kolkata (India)`, `Etc/GMT-2 (UTC+2 all year)`, `UTC`."""
    return timezones.zone_label(zone_index(), zone)


def zone_choices(text: str, limit: int = MAX_CHOICES) -> list[tuple[str, str]]:
    """Autocomplete: (name shown, IANA zone) pairs, best first, one per zone."""
    return timezones.zone_choices(zone_index(), text, limit)


def parse_timezone(text: str) -> str:
    """The IANA zone `text` names (a zone, city, country, abbreviation or offset; see
    bot.core.timezones), or ValueError suggesting the closest zones."""
    return resolve_zone(text).zone


def timezone_choices(text: str, limit: int = 25) -> list[str]:
    """Autocomplete for time zones: the zones offered for what was typed, best first."""
    return [zone for _, zone in zone_choices(text, limit)]
