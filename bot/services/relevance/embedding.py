"""Static word embeddings from wordllama: the dense half of a paper vector.

wordllama ships its tokenizer and its weights inside the wheel (a 32,000 × 256 float16
table distilled from LLaMA-2's token embeddings, 16 MB) and needs neither torch nor a
download. An embedding is the mean of the text's token vectors, so a day of papers
embeds in a fraction of a second on CPU.

The two files are read here directly, computing exactly what
``wordllama.WordLlama.load("l2_supercat", dim=256).embed(texts)`` computes, because
that API is expensive to keep: importing it pulls in pydantic and requests (~28 MB of
resident memory) and loading copies the whole table into memory as float32 (32 MB).
Here the table stays in its file: each batch of texts reads just the rows of the tokens
it holds (a few thousand, ~2 MB) and drops them when done. (Memory-mapping the file
would not do: the kernel maps the pages around every page touched, so a single
abstract's tokens make most of the 16 MB resident.)
"""

from __future__ import annotations

import importlib.util
import json
import struct
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DIM = 256
WEIGHTS = Path("weights") / f"l2_supercat_{DIM}.safetensors"
TOKENIZER = Path("tokenizers") / "l2_supercat_tokenizer_config.json"
_TENSOR = "embedding.weight"
_DTYPES: dict[str, np.dtype[np.floating]] = {"F16": np.dtype("<f2"), "F32": np.dtype("<f4")}
# Texts tokenized and embedded together: their distinct tokens' rows are read at once.
_TEXTS_AT_ONCE = 32

_lock = threading.Lock()
_loaded: _Model | None = None


class _Table:
    """The embedding table in its safetensors file: an 8-byte header length, a JSON
    header, then the raw tensor, row after row."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with open(path, "rb") as handle:
                (size,) = struct.unpack("<Q", handle.read(8))
                header = json.loads(handle.read(size))
            tensor = header[_TENSOR]
            self.dtype = _DTYPES[tensor["dtype"]]
            self.n_rows, dim = tensor["shape"]
            begin, end = tensor["data_offsets"]
        except (OSError, KeyError, ValueError, TypeError, struct.error) as exc:
            raise RuntimeError(f"wordllama's weights in {path} are not readable: {exc}") from None
        self.row_bytes = DIM * self.dtype.itemsize
        if dim != DIM or end - begin != self.n_rows * self.row_bytes:
            raise RuntimeError(f"wordllama's weights in {path} are not a {DIM}-wide table")
        self.offset = 8 + size + begin

    def read(self, ids: np.ndarray) -> np.ndarray:
        """Rows `ids` (ascending, distinct) of the table; one read per run of neighbours."""
        out = np.empty((len(ids), DIM), dtype=self.dtype)
        view = out.data.cast("B")  # the array's own buffer, as bytes
        breaks = (np.flatnonzero(np.diff(ids) != 1) + 1).tolist()
        with open(self.path, "rb", buffering=0) as handle:
            for start, end in zip([0, *breaks], [*breaks, len(ids)], strict=True):
                handle.seek(self.offset + int(ids[start]) * self.row_bytes)
                wanted = (end - start) * self.row_bytes
                if handle.readinto(view[start * self.row_bytes : end * self.row_bytes]) != wanted:
                    raise RuntimeError(f"wordllama's weights in {self.path} are truncated")
        return out


class _Model:
    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer  # deferred: only code that embeds pays for it

        self.table = _Table(folder / WEIGHTS)
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()

    def pooled(self, texts: Sequence[str]) -> np.ndarray:
        """The mean token vector of each text, float32 (zeros for a text with none)."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for first in range(0, len(texts), _TEXTS_AT_ONCE):
            group = texts[first : first + _TEXTS_AT_ONCE]
            # One text at a time: a batch call would tokenize on a thread pool, and every
            # thread keeps its own memory arena (~8 MB resident each).
            ids = [self.tokenizer.encode(text, add_special_tokens=False).ids for text in group]
            lengths = [len(found) for found in ids]
            flat = np.fromiter(
                (token for found in ids for token in found), dtype=np.int64, count=sum(lengths)
            )
            np.clip(flat, 0, self.table.n_rows - 1, out=flat)
            distinct, where = np.unique(flat, return_inverse=True)
            rows = self.table.read(distinct)
            end = 0
            for row, length in enumerate(lengths, start=first):
                start, end = end, end + length
                if length:
                    # Added in token order in float32, then divided, as wordllama does:
                    # the result matches it bit for bit.
                    vectors = rows[where[start:end]].astype(np.float32)
                    out[row] = vectors.sum(axis=0) / np.float32(length)
        return out


def _package_folder() -> Path:
    # Found without importing wordllama, whose import is the expensive part.
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("wordllama is not installed: pip install 'wordllama>=0.4,<0.5'")
    return Path(next(iter(spec.submodule_search_locations)))


def _model() -> _Model:
    global _loaded
    with _lock:  # one load, however many threads ask at once
        if _loaded is None:
            _loaded = _Model(_package_folder())
        return _loaded


def load() -> None:
    """Open the tokenizer and the table now (e.g. at start-up, in a worker thread)
    rather than at the first embedding."""
    _model()


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text (zeros for empty text)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    vectors = _model().pooled(list(texts))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    # An empty text pools no tokens: keep it a zero vector (similar to nothing).
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
