"""The IANA side of time-zone lookup, from the tzdata package's own files: every zone and
link name (`tzdata.zi`), the zones each country uses and the region each covers
(`zone.tab`), and the countries' names (`iso3166.tab`). The files' text is handed in
(`TzdataReader`); reading them is the loader's business (bot.services.zone_data)."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.zone_names import COUNTRY_ALIASES, place_key

UTC = "UTC"
# A file of the tzdata package's `zoneinfo` folder, by name, as text.
TzdataReader = Callable[[str], str]
# The names IANA keeps for UTC itself; all of them are stored as plain "UTC".
_UTC_TARGETS = {"Etc/UTC", "Etc/GMT", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "Etc/Greenwich"}
# Old names that are no place. tzdata 2024b made most of them links to these cities; the
# table keeps every tzdata version answering the same. (Typed, the abbreviation table
# answers first: EST means America/New_York, not Panama's year-round EST.)
_LEGACY = {
    "EST": "America/Panama",
    "MST": "America/Phoenix",
    "HST": "Pacific/Honolulu",
    "EST5EDT": "America/New_York",
    "CST6CDT": "America/Chicago",
    "MST7MDT": "America/Denver",
    "PST8PDT": "America/Los_Angeles",
    "CET": "Europe/Brussels",
    "MET": "Europe/Brussels",
    "EET": "Europe/Athens",
    "WET": "Europe/Lisbon",
}
# Zones that are not a place at all: refused when typed.
_NOT_A_PLACE = {"Factory", "localtime", "posixrules"}
_SIGNED_OFFSET = re.compile(r"[+-]\d")


def _tzdata_lines(tzdata: TzdataReader, name: str) -> list[str]:
    return [line for line in tzdata(name).splitlines() if line and not line.startswith("#")]


def _zone_names(tzdata: TzdataReader) -> tuple[set[str], dict[str, str]]:
    """(zones, links: name -> target) as tzdata itself defines them."""
    zones: set[str] = set()
    links: dict[str, str] = {}
    for line in _tzdata_lines(tzdata, "tzdata.zi"):
        parts = line.split()
        if parts[0] == "Z":
            zones.add(parts[1])
        elif parts[0] == "L":
            links[parts[2]] = parts[1]
    return zones, links


def _stored_name(name: str, tab_zones: set[str], links: dict[str, str]) -> str:
    """The name to keep for a zone or link: zone.tab's own (Europe/Oslo stays, though
    tzdata makes it a link to Berlin), UTC for UTC's many names, else the link's target
    (US/Pacific -> America/Los_Angeles, Asia/Calcutta -> Asia/Kolkata)."""
    seen = set()
    while name not in tab_zones and name not in seen:
        seen.add(name)
        name = _LEGACY.get(name) or links.get(name) or name
    return UTC if name in _UTC_TARGETS or name == UTC else name


def _offsets(zone: str, year: int) -> tuple[int, int]:
    """UTC offsets in minutes in mid-January and mid-July (winter and summer, one way
    round or the other)."""
    tz = ZoneInfo(zone)
    return _minutes(dt.datetime(year, 1, 15, 12, tzinfo=tz)), _minutes(
        dt.datetime(year, 7, 15, 12, tzinfo=tz)
    )


def _minutes(moment: dt.datetime) -> int:
    offset = moment.utcoffset()
    assert offset is not None, "an aware datetime always has a UTC offset"
    return int(offset.total_seconds()) // 60


def _country_keys(
    geo_countries: dict[str, dict[str, Any]], iso3166: dict[str, str]
) -> dict[str, list[str]]:
    """Name key -> ISO codes, from both packages' names, the ISO codes themselves and
    the everyday aliases."""
    keys: dict[str, list[str]] = defaultdict(list)
    for code, line in iso3166.items():
        keys[place_key(line)].append(code)
        keys[place_key(line.split("(")[0])].append(code)  # "Korea (South)" -> korea
        keys[code.casefold()].append(code)
    for code, country in geo_countries.items():
        keys[place_key(country["name"])].append(code)
        keys[place_key(country["name"].removeprefix("The "))].append(code)
        keys[country["iso3"].casefold()].append(code)
    for key, code in COUNTRY_ALIASES.items():
        keys[key].append(code)
    return {k: list(dict.fromkeys(v)) for k, v in keys.items() if k}


def _iso3166(tzdata: TzdataReader) -> dict[str, str]:
    return dict(line.split("\t")[:2] for line in _tzdata_lines(tzdata, "iso3166.tab"))


@dataclass
class ZoneTables:
    stored: dict[str, str]  # every zone and link name -> the name stored for it
    zone_country: dict[str, str]  # zone -> ISO code, for zones of zone.tab
    zone_region: dict[str, str]  # zone -> "Eastern (most areas)" (zone.tab's comment)
    tab_order: dict[str, int]  # zone -> its row in zone.tab
    country_zones: dict[str, list[str]]  # ISO code -> zones, in zone.tab's order
    country_names: dict[str, str]  # ISO code -> "United Kingdom"
    country_keys: dict[str, list[str]]  # place_key of a name -> ISO codes
    country_people: dict[str, int]  # ISO code -> population (which "Korea" is meant)
    offsets: dict[str, tuple[int, int]]  # stored zone -> (January, July) offsets

    def city_zone(self, zone: str, country: str) -> str:
        """A city's zone as stored, in the city's own country where one of that
        country's zones keeps the same clock (GeoNames puts Hanoi in Asia/Bangkok)."""
        zone = self.stored.get(zone, zone)
        if self.zone_country.get(zone, country) == country:
            return zone
        same = [
            z
            for z in self.country_zones.get(country, [])
            if self.offsets[z] == self.offsets.get(zone)
        ]
        return same[0] if same else zone

    def canonical(self) -> dict[str, str]:
        """Every Area/City name, casefolded -> stored zone (Asia/Calcutta -> Asia/Kolkata)."""
        return {n.casefold(): z for n, z in self.stored.items() if "/" in n or n == UTC}

    def by_key(self) -> dict[str, str]:
        """place_key of every Area/City name -> stored zone; a zone's own name wins over
        a link's. Etc/GMT+5 and Etc/GMT-5 share a key: those go by exact name only."""
        named = [
            (n, z) for n, z in self.stored.items() if "/" in n and not _SIGNED_OFFSET.search(n)
        ]
        keys = {place_key(name): zone for name, zone in named}
        keys.update({place_key(name): zone for name, zone in named if name == zone})
        return keys

    def old_names(self) -> dict[str, str]:
        """place_key of the old one-word names (Japan, Navajo, EST5EDT) -> stored zone.
        They count after abbreviations, countries and cities: tzdata flattens their
        links, so "Iceland" now points to Africa/Abidjan (the same clock), but Iceland
        the country means Atlantic/Reykjavik."""
        return {place_key(n): z for n, z in self.stored.items() if "/" not in n and n != UTC}

    def zone_keys(self) -> list[tuple[str, str]]:
        """(key, zone) for autocomplete to search IANA names in: zones and links, but
        not the old names an abbreviation stands for (EST, CET)."""
        return sorted(
            (place_key(name), zone) for name, zone in self.stored.items() if name not in _LEGACY
        )


def read_tables(geo_countries: dict[str, dict[str, Any]], tzdata: TzdataReader) -> ZoneTables:
    """The tables from GeoNames' countries and tzdata's files (read by `tzdata`)."""
    zones, links = _zone_names(tzdata)
    tab = [line.split("\t") for line in _tzdata_lines(tzdata, "zone.tab")]
    tab_zones = {row[2] for row in tab}
    names = (zones | set(links) | {UTC}) - _NOT_A_PLACE
    stored = {name: _stored_name(name, tab_zones, links) for name in names}
    country_zones: dict[str, list[str]] = defaultdict(list)
    for row in tab:
        country_zones[row[0]].append(row[2])
    iso3166 = _iso3166(tzdata)
    country_names = dict(iso3166)
    # GeoNames' everyday names: "United Kingdom", not "Britain (UK)".
    country_names.update({c: g["name"].removeprefix("The ") for c, g in geo_countries.items()})
    year = dt.date.today().year
    return ZoneTables(
        stored=stored,
        zone_country={row[2]: row[0] for row in tab},
        zone_region={row[2]: row[3] for row in tab if len(row) > 3},
        tab_order={row[2]: i for i, row in enumerate(tab)},
        country_zones=dict(country_zones),
        country_names=country_names,
        country_keys=_country_keys(geo_countries, iso3166),
        country_people={c: g["population"] for c, g in geo_countries.items()},
        offsets={zone: _offsets(zone, year) for zone in set(stored.values())},
    )
