"""Deterministic folders of daily dumps for the crash and load scenarios."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from tests.conftest import SAMPLE_DUMP

FIRST_DAY = dt.date(2026, 3, 1)


def sample_pairs() -> list[tuple[str, str]]:
    blocks = [b.strip() for b in SAMPLE_DUMP.read_text(encoding="utf-8").split("\n\n") if b.strip()]
    body = blocks[5:]  # 4 boilerplate lines and the date line
    return list(zip(body[0::2], body[1::2], strict=True))


def write_dump_folder(folder: Path, days: int, per_day: int = 60, seed: int = 7) -> list[Path]:
    """`days` dump files named by date. Each day mixes papers new that day with a few
    repeats of earlier days' papers, so dedupe and appearances are exercised."""
    rng = random.Random(seed)
    pairs = sample_pairs()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    seen: list[tuple[str, str]] = []
    for index in range(days):
        day = FIRST_DAY + dt.timedelta(days=index)
        fresh = []
        for n in range(per_day):
            title, abstract = pairs[(index * per_day + n) % len(pairs)]
            # A day-unique number keeps synthetic papers distinct (numbers never merge).
            fresh.append((f"{title} (study {index * per_day + n})", abstract))
        repeats = rng.sample(seen, min(len(seen), 5))
        papers = fresh + repeats
        rng.shuffle(papers)
        seen += fresh
        text = "new\n\nSubscribe\n\n" + day.strftime("%b %d") + "\n\n"
        text += "\n\n".join(f"{t}\n\n{a}" for t, a in papers) + "\n"
        path = folder / f"{day.isoformat()}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def papers_written(path: Path) -> int:
    """How many papers a dump file written above holds: its paragraphs after the three
    header ones, two per paper. Counted from the file's text, not by paperbot's parser,
    so it can disagree with what paperbot stored."""
    paragraphs = [p for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    return (len(paragraphs) - 3) // 2
