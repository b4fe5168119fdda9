"""Percentiles, memory and progress lines."""

from __future__ import annotations

import math
import resource
import sys
import time
from collections.abc import Iterable, Mapping, Sequence


def percentile(samples: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation; None for no samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def summary_ms(samples: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/p99/max in milliseconds of samples in seconds."""
    return {
        "p50": ms(percentile(samples, 50)),
        "p95": ms(percentile(samples, 95)),
        "p99": ms(percentile(samples, 99)),
        "max": ms(max(samples) if samples else None),
    }


def by_class_p99(samples: Iterable[tuple[str, float]]) -> dict[str, float | None]:
    groups: dict[str, list[float]] = {}
    for cls, seconds in samples:
        groups.setdefault(cls, []).append(seconds)
    return {cls: ms(percentile(values, 99)) for cls, values in groups.items()}


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b <= 0:
        return None
    return round(a / b, 2)


def peak_rss_mb() -> float:
    """The process' peak resident set so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return round(peak / scale, 1)


def current_rss_mb() -> float | None:
    try:
        import psutil
    except ImportError:
        return None
    return round(psutil.Process().memory_info().rss / (1024 * 1024), 1)


def mapped_file_mb() -> float | None:
    """The file-backed part of the resident set (Linux `RssFile`): memory-mapped index
    files and shared libraries, pages the kernel can drop and read back; None elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("RssFile:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


class Progress:
    """Progress lines on stderr, prefixed with the elapsed time."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.enabled:
            elapsed = time.perf_counter() - self.start
            print(f"[bench {elapsed:7.1f}s] {message}", file=sys.stderr, flush=True)


def flatten_classes(prefix: str, classes: Mapping[str, float | None]) -> dict[str, float | None]:
    return {f"{prefix}{cls}_p99_ms": value for cls, value in classes.items()}
