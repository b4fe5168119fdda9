"""Static word embeddings from wordllama: the dense half of a paper vector.

wordllama ships its weights inside the wheel (a 256-dimensional table distilled from
LLaMA-2's token embeddings, 16 MB) and needs neither torch nor a download: an embedding
is the average of the token vectors, so a day of papers embeds in milliseconds on CPU.
Its default loader looks for the tokenizer elsewhere and would try to fetch it, so it
is loaded from the package folder with downloads disabled.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DIM = 256

_lock = threading.Lock()


@functools.cache
def _model():  # -> wordllama.inference.WordLlamaInference
    import wordllama  # deferred: only code that embeds pays for loading the table

    with _lock:
        return wordllama.WordLlama.load(
            config="l2_supercat",
            dim=DIM,
            cache_dir=Path(wordllama.__file__).parent,
            disable_download=True,
        )


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text (zeros for empty text)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    vectors = np.asarray(_model().embed(list(texts), norm=False), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    # An empty text pools no tokens: keep it a zero vector (similar to nothing).
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
