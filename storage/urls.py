"""Telling database URLs apart, without importing any driver."""

from __future__ import annotations

from pathlib import Path

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(url_or_path: str | Path) -> bool:
    return str(url_or_path).strip().startswith(POSTGRES_SCHEMES)
