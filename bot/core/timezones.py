"""Time zones as people type them: an IANA name, an abbreviation (PST, IST, CET), a
country ("india", "USA"), a city ("mumbai", "são paulo"), a US state, or a UTC offset.

`resolve_zone` turns one into the IANA zone to store (or a ValueError that suggests the
closest zones); `zone_choices` is the autocomplete; `zone_label` how a zone is shown.
Each takes the loaded tables (`ZoneIndex`) first: bot.services.timezones binds them to
the tables bot.services.zone_data builds on first use.

Policies:
- An abbreviation means the DST-aware zone people mean by it (PST -> America/Los_Angeles,
  IST -> Asia/Kolkata), never a fixed-offset zone.
- A country with several zones means its most populous one (USA -> America/New_York),
  and the reply says so; autocomplete lists all of them, most populous first.
- A name shared by several cities means the most populous (Portland -> Oregon).
- An offset ("UTC+2", "GMT-5") of whole hours is kept as the fixed IANA zone Etc/GMT-2
  (IANA writes the sign the other way round), with a note that it ignores daylight
  saving; other offsets ("+5:30") are refused with the zones that use them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.limits import MAX_CHOICE_NAME, MAX_CHOICES
from bot.core.markdown import escape_markdown
from bot.core.zone_data import COUNTRY, NICKNAME, TIME, UTC, ZONE_CITY, Place, ZoneIndex
from bot.core.zone_names import Abbreviation, place_key

_SUGGESTIONS = 3
ALTERNATE_DISCOUNT = 10
_FUZZY_LIMIT, _FUZZY_CUTOFF = 20, 75  # near spellings tried, and how near they must be
_ADVICE = (
    "Give a city, a country, an abbreviation such as CET, or an IANA name such as Europe/Berlin."
)
_OFFSET = re.compile(
    r"^(?:utc|gmt|z)?\s*(?P<sign>[+\-\u2212])\s*(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?$",
    re.IGNORECASE,
)
_ETC_ZONE = re.compile(r"^Etc/GMT(?P<sign>[+-])(?P<hours>\d{1,2})$")
_FIXED_NOTE = "A fixed offset ignores daylight saving; give a city instead to follow it."


@dataclass(frozen=True)
class ZoneMatch:
    zone: str  # the IANA name to store
    label: str  # how to show it: "Asia/Kolkata (India)"
    note: str = ""  # a sentence worth adding to the reply, if any

    @property
    def aside(self) -> str:
        """The note as a sentence to append to a reply (empty without one)."""
        return f" {self.note}" if self.note else ""


def resolve_zone(index: ZoneIndex, text: str) -> ZoneMatch:
    """The zone `text` names, or ValueError with the closest zones to try."""
    typed = " ".join((text or "").split())
    if not typed:
        raise ValueError(f"Unknown timezone: none given. {_ADVICE}")
    abbreviation = index.abbreviations.get(typed.upper())
    if abbreviation is not None:
        return ZoneMatch(abbreviation.zone, zone_label(index, abbreviation.zone), abbreviation.note)
    zone = index.canonical.get(typed.replace(" ", "_").casefold())
    if zone is not None:
        return ZoneMatch(
            zone, zone_label(index, zone), _FIXED_NOTE if _ETC_ZONE.match(zone) else ""
        )
    offset = _offset_minutes(typed)
    if offset is not None:
        return _fixed_offset(index, offset)
    key = place_key(typed)
    if key in index.by_key:
        return ZoneMatch(index.by_key[key], zone_label(index, index.by_key[key]))
    place = _best_exact(index.named(key))
    if place is not None:
        return ZoneMatch(place.zone, zone_label(index, place.zone), _country_note(index, place))
    if key in index.old_names:
        return ZoneMatch(index.old_names[key], zone_label(index, index.old_names[key]))
    raise ValueError(_unknown(index, typed))


def zone_label(index: ZoneIndex, zone: str) -> str:
    """`Asia/Kolkata (India)`, `Etc/GMT-2 (UTC+2 all year)`, `UTC`."""
    fixed = _ETC_ZONE.match(zone)
    if fixed:
        hours = int(fixed["hours"]) * (-1 if fixed["sign"] == "+" else 1)
        return f"{zone} ({_utc(hours * 60)} all year)"
    country = index.zone_country.get(zone)
    return f"{zone} ({index.country_names[country]})" if country else zone


def zone_choices(index: ZoneIndex, text: str, limit: int = MAX_CHOICES) -> list[tuple[str, str]]:
    """Autocomplete: (name shown, IANA zone) pairs, best first, one per zone.

    An abbreviation, an offset or an exact name first; then names that start with what
    was typed (the most populous first), IANA names containing it, and other names of
    cities; fixed-offset zones (Etc/GMT+5) come last, after every zone of a real place."""
    picked: dict[str, str] = {}
    for zone, name in _candidates(index, " ".join((text or "").split()), limit):
        picked.setdefault(zone, _cut(name))
        if len(picked) == limit:
            break
    return [(name, zone) for zone, name in picked.items()]


def _candidates(index: ZoneIndex, typed: str, limit: int) -> Iterator[tuple[str, str]]:
    key = place_key(typed)
    if not key:
        yield UTC, UTC
        for zone in sorted(index.zone_country, key=lambda z: -index.population(z)):
            yield zone, zone_label(index, zone)
        return
    abbreviation = index.abbreviations.get(typed.upper())
    exact_zone = None if abbreviation else index.canonical.get(typed.replace(" ", "_").casefold())
    offset = _offset_minutes(typed)
    if exact_zone and _ETC_ZONE.match(exact_zone):
        offset = index.offsets[exact_zone][0]
    if abbreviation is not None:
        for zone in (abbreviation.zone, *abbreviation.also):
            yield zone, _abbreviation_name(index, abbreviation, zone)
    elif offset is not None:
        for zone in _zones_at(index, offset, places=limit // 2):
            yield zone, f"{zone_label(index, zone)} · {_offset_text(index, zone)}"
    elif exact_zone is not None:
        yield exact_zone, zone_label(index, exact_zone)
    for place in _ranked_exact(index.named(key)):
        yield place.zone, _place_name(index, place)
    if key in index.old_names and abbreviation is None:
        yield index.old_names[key], zone_label(index, index.old_names[key])
    names, alternates = _ranked_prefix(index, key, limit)
    for place in names:
        yield place.zone, _place_name(index, place)
    zones = sorted(
        {z for k, z in index.zone_keys if key in k},
        key=lambda z: (-index.population(z), index.offsets[z], z),
    )
    for zone in zones:
        if not _ETC_ZONE.match(zone):
            yield zone, zone_label(index, zone)
    for place in alternates:
        yield place.zone, _place_name(index, place)
    for zone in zones:  # fixed offsets: after every real place
        if _ETC_ZONE.match(zone):
            yield zone, zone_label(index, zone)


# --- exact names --------------------------------------------------------------------------


def _ranked_exact(named: list[tuple[Place, bool]]) -> list[Place]:
    """A city's nickname (LA, NYC) first, then countries (their zones in order, most
    populous first), then the others by how many people they stand for. A city's other
    name (Bombay, St Petersburg) counts a tenth: it wins over a town of that very name
    only if ten times bigger."""
    first = [p for p, _ in named if p.kind == NICKNAME] + [p for p, _ in named if p.kind == COUNTRY]
    others = sorted(
        ((p, alternate) for p, alternate in named if p.kind not in (NICKNAME, COUNTRY)),
        key=lambda pa: -pa[0].weight / (ALTERNATE_DISCOUNT if pa[1] else 1),
    )
    return first + [p for p, _ in others]


def _best_exact(named: list[tuple[Place, bool]]) -> Place | None:
    ranked = _ranked_exact(named)
    return ranked[0] if ranked else None


def _country_note(index: ZoneIndex, place: Place) -> str:
    """For a country whose zones keep different clocks: which one this is, and how to
    get another."""
    if place.kind != COUNTRY:
        return ""
    code = index.zone_country.get(place.zone, "")
    clocks = {index.offsets.get(z) for z in index.country_zones.get(code, [])}
    if len(clocks) < 2:
        return ""
    return (
        f"{place.name} has {len(clocks)} time zones; this is its most populous. "
        "Give a city to pick another."
    )


# --- prefixes -----------------------------------------------------------------------------


def _ranked_prefix(index: ZoneIndex, key: str, limit: int) -> tuple[list[Place], list[Place]]:
    """Places with a name (or a later word of one) starting with `key`, the most
    populous first and one per zone; then those found by another name of a city."""
    zones, weights = index.places.zones, index.places.weights
    best: dict[int, tuple[bool, int, int]] = {}  # zone -> (alternate, -weight, place)
    for place, alternate in index.starting(key):
        held = best.get(zones[place])
        if held is None or (alternate, -weights[place]) < held[:2]:
            best[zones[place]] = (alternate, -weights[place], place)
    ranked = sorted(best.values(), key=lambda r: r[:2])
    names = [place for alternate, _, place in ranked if not alternate][:limit]
    others = [place for alternate, _, place in ranked if alternate][:limit]
    return [index.places[n] for n in names], [index.places[n] for n in others]


# --- offsets ------------------------------------------------------------------------------


def _offset_minutes(text: str) -> int | None:
    match = _OFFSET.match(text.replace(" ", ""))
    if match is None:
        return None
    minutes = int(match["hours"]) * 60 + int(match["minutes"] or 0)
    return -minutes if match["sign"] in "-\u2212" else minutes


def _fixed_offset(index: ZoneIndex, minutes: int) -> ZoneMatch:
    if minutes == 0:
        return ZoneMatch(UTC, UTC)
    hours, rest = divmod(abs(minutes), 60)
    if rest == 0 and -12 * 60 <= minutes <= 14 * 60:
        # POSIX style: Etc/GMT-2 is two hours *ahead* of UTC.
        zone = f"Etc/GMT{'-' if minutes > 0 else '+'}{hours}"
        return ZoneMatch(zone, zone_label(index, zone), _FIXED_NOTE)
    places = [zone_label(index, z) for z in _zones_at(index, minutes) if not _ETC_ZONE.match(z)]
    if not places:
        raise ValueError(f"No place keeps {_utc(minutes)}. {_ADVICE}")
    raise ValueError(
        f"There is no fixed-offset zone for {_utc(minutes)}: give a place that keeps it, "
        f"such as {_or_list(places[:_SUGGESTIONS])}."
    )


def _zones_at(index: ZoneIndex, minutes: int, places: int = MAX_CHOICES) -> list[str]:
    """Zones for real places that are `minutes` from UTC in winter or summer (the
    `places` most populous), then the fixed-offset zone, if there is one."""
    found = [
        z
        for z in index.zone_country
        if minutes in index.offsets.get(z, ()) and index.population(z) > 0
    ]
    found.sort(key=lambda z: -index.population(z))
    hours, rest = divmod(abs(minutes), 60)
    fixed = f"Etc/GMT{'-' if minutes > 0 else '+'}{hours}" if minutes else UTC
    return found[:places] + ([fixed] if rest == 0 and fixed in index.offsets else [])


def _utc(minutes: int) -> str:
    hours, rest = divmod(abs(minutes), 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "") if minutes else "UTC"


def _offset_text(index: ZoneIndex, zone: str) -> str:
    standard, daylight = min(index.offsets[zone]), max(index.offsets[zone])
    if standard == daylight:
        return _utc(standard)
    return f"{_utc(standard)}, {_utc(daylight)} with daylight saving"


# --- names shown --------------------------------------------------------------------------


def _place_name(index: ZoneIndex, place: Place) -> str:
    if place.kind == ZONE_CITY:
        return zone_label(index, place.zone)
    if place.kind == TIME:
        return f"{place.name} ({place.where}) → {zone_label(index, place.zone)}"
    what = f"{place.name}, {place.where}" if place.where else place.name
    arrow = f" → {place.zone}"
    if len(what) + len(arrow) > MAX_CHOICE_NAME:  # a long region: cut it, not the zone
        what = what[: MAX_CHOICE_NAME - len(arrow) - 1] + "…"
    return what + arrow


def _abbreviation_name(index: ZoneIndex, abbreviation: Abbreviation, zone: str) -> str:
    code = abbreviation.codes[0]
    if zone == abbreviation.zone:
        return f"{code} ({abbreviation.meaning}) → {zone_label(index, zone)}"
    return f"{code} → {zone_label(index, zone)}"


def _cut(name: str) -> str:
    return name if len(name) <= MAX_CHOICE_NAME else name[: MAX_CHOICE_NAME - 1] + "…"


# --- unknown input ------------------------------------------------------------------------


def _unknown(index: ZoneIndex, typed: str) -> str:
    shown = escape_markdown(typed[:60])
    nearby = _suggestions(index, typed)
    if not nearby:
        return f"Unknown timezone “{shown}”. {_ADVICE}"
    return f"Unknown timezone “{shown}”. Did you mean {_or_list(nearby)}? {_ADVICE}"


def _near_spellings(key: str, keys: Iterable[str]) -> list[tuple[str, float]]:
    found = process.extract(
        key, list(keys), scorer=fuzz.ratio, limit=_FUZZY_LIMIT, score_cutoff=_FUZZY_CUTOFF
    )
    return [(near, score) for near, score, _ in found]


def _suggestions(index: ZoneIndex, typed: str) -> list[str]:
    """What `typed` may have meant: names spelled like it, then names starting with it."""
    key = place_key(typed)
    if not key:
        return []
    spelled: list[tuple[float, int, str, str]] = []  # (score, people, zone, name)
    for near, score in _near_spellings(key, index.fuzzy_keys):
        if place := _best_exact(index.named(near)):
            spelled.append((score, place.weight, place.zone, _place_name(index, place)))
    for near, score in _near_spellings(key, index.by_key):
        zone = index.by_key[near]
        spelled.append((score, index.population(zone), zone, zone_label(index, zone)))
    # A near spelling of a big place beats a nearer one of a small town (Indai: India).
    spelled.sort(key=lambda s: -(s[0] + 5 * math.log10(s[1] + 10)))
    found: dict[str, str] = {}
    for _, _, zone, name in spelled:
        found.setdefault(zone, name)
    for name, zone in zone_choices(index, typed, _SUGGESTIONS):
        found.setdefault(zone, name)
    return list(found.values())[:_SUGGESTIONS]


def _or_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"
