"""Time-zone autocomplete (`/timezone`, `/digest subscribe … timezone:`): every
keystroke of what people type, answered from the packed zone tables. It does not
depend on the corpus, so it is timed once per run; its budget is Discord's (an
autocomplete answered late is dropped), far above what it costs."""

from __future__ import annotations

import string
import time
from typing import Any

from bench.stats import Progress, percentile
from bot.core.zone_names import ABBREVIATIONS
from bot.services.timezones import zone_choices
from bot.services.zone_data import zone_index

PASSES = 5


def typed_zone_inputs() -> list[str]:
    """What people type, a keystroke at a time: every letter, every abbreviation, and
    each prefix of some names and offsets."""
    words = ["india", "new york", "europe/berlin", "etc/gmt+5", "utc-5", "gmt", "est5edt"]
    prefixes = [word[:n] for word in words for n in range(1, len(word) + 1)]
    codes = [code for a in ABBREVIATIONS for code in a.codes]
    return [*string.ascii_lowercase, *codes, *prefixes, "", "zzzz", "+05:30"]


def measure_zone_autocomplete(progress: Progress) -> dict[str, Any]:
    progress("time-zone autocomplete: the tables built, then every keystroke")
    started = time.perf_counter()
    zone_index()  # built once per process, before the first keystroke
    build_ms = (time.perf_counter() - started) * 1000
    inputs = typed_zone_inputs()
    took = []
    for _ in range(PASSES):
        for typed in inputs:
            started = time.perf_counter()
            zone_choices(typed)
            took.append((time.perf_counter() - started) * 1000)
    return {
        "zone_autocomplete_inputs": len(inputs),
        "zone_index_build_ms": round(build_ms, 1),
        "zone_autocomplete_p50_ms": _round(percentile(took, 50)),
        "zone_autocomplete_p99_ms": _round(percentile(took, 99)),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
