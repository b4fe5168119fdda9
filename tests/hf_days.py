"""The real Hugging Face daily_papers days kept in tests/data/hf (see its README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HF_DIR = Path(__file__).parent / "data" / "hf"
TODAY_SHAPE = "2026-06-16"  # every optional field of today's shape somewhere
SHAPE_2024 = "2024-05-27"
REPR_DAYS = ("2024-12-11", "2025-01-10")  # items saved as Python-repr strings
OBJECT_DAYS = ("2024-05-27", "2025-04-02", "2025-07-07", "2026-06-16", "2026-08-17")
ALL_DAYS = tuple(sorted((*OBJECT_DAYS, *REPR_DAYS)))


def day_path(day: str) -> Path:
    return HF_DIR / f"{day}.json"


def day_bytes(day: str) -> bytes:
    return day_path(day).read_bytes()


def day_items(day: str) -> list[dict[str, Any]]:
    """The items of a day saved as a list of objects."""
    data = json.loads(day_bytes(day))
    assert isinstance(data, list)
    return data
