"""The labelled real papers of tests/data/relevance, loaded and encoded once per run
(encoding ~4.8k papers takes a few seconds; several test files share it)."""

from __future__ import annotations

import functools
from pathlib import Path

from bot.services.relevance.evaluate import Dataset, Encoded, encode_corpus, load_dataset

DATA = Path(__file__).parent / "data" / "relevance"


@functools.cache
def labelled_corpus() -> tuple[Dataset, Encoded]:
    data = load_dataset(DATA)
    return data, encode_corpus(data)
