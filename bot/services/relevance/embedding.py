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
import itertools
import json
import re
import struct
import threading
import zlib
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

DIM = 256
WEIGHTS = Path("weights") / f"l2_supercat_{DIM}.safetensors"
TOKENIZER = Path("tokenizers") / "l2_supercat_tokenizer_config.json"
_TENSOR = "embedding.weight"
_DTYPES: dict[str, np.dtype[np.floating]] = {"F16": np.dtype("<f2"), "F32": np.dtype("<f4")}
# A call embedding fewer texts (a search's query, a day's few papers) tokenizes each
# text whole: its pieces would nearly all be new to the cache.
PIECES_FROM = 64
# A call embedding this many texts or more reads the whole table at once.
WHOLE_TABLE_FROM = 1000
# Texts tokenized and embedded together: their distinct tokens' rows are read at once
# (~6,000 rows, 6 MB as float32, for 256 abstracts).
_TEXTS_AT_ONCE = 256
_TEXTS_AT_ONCE_SMALL = 64  # in a smaller call, where resident memory matters more

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

    def read_all(self) -> np.ndarray:
        return self.read(np.arange(self.n_rows))


class _Model:
    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer  # deferred: only code that embeds pays for it

        self.table = _Table(folder / WEIGHTS)
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.splits = _Splits(self.tokenizer, folder / TOKENIZER)

    def pooled(self, texts: Sequence[str]) -> np.ndarray:
        """The mean token vector of each text, float32 (zeros for a text with none)."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        # A bulk call reads the whole table once (16 MB, freed after the call) rather
        # than thousands of scattered rows per group.
        bulk = len(texts) >= WHOLE_TABLE_FROM
        whole = self.table.read_all() if bulk else None
        at_once = _TEXTS_AT_ONCE if bulk else _TEXTS_AT_ONCE_SMALL
        for first in range(0, len(texts), at_once):
            group = texts[first : first + at_once]
            flat, lengths = self.splits.token_ids(group, by_piece=len(texts) >= PIECES_FROM)
            np.clip(flat, 0, self.table.n_rows - 1, out=flat)
            distinct, where = np.unique(flat, return_inverse=True)
            found = whole[distinct] if whole is not None else self.table.read(distinct)
            out[first : first + len(group)] = _mean_rows(found.astype(np.float32), where, lengths)
        if not bulk and len(texts) >= PIECES_FROM:
            # A long-running bot embeds a few hundred papers a day: the words it would
            # remember are not worth their memory (~150 bytes each) between calls.
            self.splits.forget()
        return out


_POSITION_STEPS_FROM = 48  # texts in a group from which `_mean_rows` steps by position


def _mean_rows(rows: np.ndarray, where: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Per text, the mean of `rows[where[...]]` over its tokens, float32.

    The sum runs over token positions, adding each text's row for that position: token
    after token in float32, as wordllama adds them (so the result matches it bit for
    bit), yet with one vectorised step per position for the whole group rather than
    one per token. Texts are taken longest first, so the texts still going at a
    position are always a prefix."""
    n_texts = len(lengths)
    out = np.zeros((n_texts, DIM), dtype=np.float32)
    if not n_texts or not lengths.max():
        return out
    if n_texts < _POSITION_STEPS_FROM:
        # A few texts: one sum each (in token order, the same float32 result) costs
        # less than a step per position of the longest.
        end = 0
        for row, length in enumerate(lengths.tolist()):
            start, end = end, end + length
            if length:
                out[row] = rows[where[start:end]].sum(axis=0) / np.float32(length)
        return out
    starts = np.zeros(n_texts, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    order = np.argsort(-lengths, kind="stable")
    ordered_lengths = lengths[order]
    ordered_starts = starts[order]
    total = np.zeros((n_texts, DIM), dtype=np.float32)
    step = np.empty_like(total)
    going = int(np.count_nonzero(ordered_lengths))
    for position in range(int(ordered_lengths[0])):
        while ordered_lengths[going - 1] <= position:
            going -= 1
        np.take(rows, where[ordered_starts[:going] + position], axis=0, out=step[:going])
        total[:going] += step[:going]
    counted = ordered_lengths > 0
    out[order[counted]] = total[counted] / ordered_lengths[counted, None].astype(np.float32)
    return out


# How texts reach the BPE. The tokenizer's text is its input with "▁" put before it and
# for every space, and its BPE (checked when it loads, see `_Splits`) has
#  - no token with a "▁" after another character, so a text tokenizes as the
#    concatenation of its pieces ("▁" runs with the word after them), each alone;
#  - (but for a few characters such as "²") no token that holds a letter or digit next
#    to another kind of character, so a piece tokenizes as its runs of letters and
#    digits and runs of other characters, each alone.
# Abstracts went to the BPE whole before (~280 us each); now each piece is looked up in
# a cache, a piece not seen before is cut into runs, and only runs never seen go to the
# BPE (a few per abstract once the common words are known).
_PIECE = re.compile(r"(?:^| )( *[^ ]+)")
_RUN = re.compile(r"[^\W_]+|(?:[^\w ]|_)+")
# Entries each cache keeps at most (~150 bytes each): past it, it starts again, and the
# common words are back at once.
MAX_PIECES = 100_000
MAX_RUNS = 100_000
_PIECES_PER_CALL = 256  # runs tokenized in one call, separated by NUL (see `_Splits.bpe`)
_NUL = "\x00"


def pieces(text: str) -> list[str]:
    """The text's pieces as the tokenizer should see them one by one: tokenizing each
    alone (the tokenizer adds its own "▁" before it) and concatenating the tokens gives
    the text's tokens. "" stands for a last piece of a single "▁"."""
    if not text:
        return []
    if "  " not in text and text[0] != " " and text[-1] != " ":
        return text.split(" ")  # the usual case: single spaces between words
    found: list[str] = _PIECE.findall(text)
    stripped = text.rstrip(" ")
    trailing = len(text) - len(stripped)
    if trailing:
        if not stripped:
            return [" " * trailing]
        found.append(" " * (trailing - 1))
    return found


class _Splits:
    """Tokens of pieces and runs seen before; the BPE for the rest."""

    def __init__(self, tokenizer: Tokenizer, config: Path) -> None:
        self.tokenizer = tokenizer
        space = tokenizer.token_to_id("\u2581")
        separator = tokenizer.token_to_id("<0x00>")
        self.space = space if space is not None else 0
        self.separator = separator if separator is not None else -1
        specials = tokenizer.get_added_tokens_decoder().values()
        self.specials = [t.content for t in specials]
        # Text holding a special token's name is split around it before any "▁" is
        # added, so its pieces do not tokenize alone: such (rare) text goes whole, as
        # does all text if the BPE were not as described above.
        self.pieces_safe, self.unsafe = _checked(tokenizer, config, self.specials)
        self.pieces_safe = self.pieces_safe and space is not None and separator is not None
        self.unsafe_re = (
            re.compile("[" + "".join(re.escape(c) for c in sorted(self.unsafe)) + "]")
            if self.unsafe
            else None
        )
        self.lock = threading.Lock()  # encoding may run in several threads
        self._reset_pieces()
        self.runs: dict[str, Sequence[int]] = {}

    def _reset_pieces(self, keep: Sequence[tuple[str, Iterable[int]]] = ()) -> None:
        self.index: dict[str, int] = {"": 0}
        self.tokens = array("i", [self.space])
        self.starts = array("q", [0, 1])
        for piece, ids in keep:
            self._store_piece(piece, ids)
        self.uses = np.zeros(len(self.index), dtype=np.int64)

    def forget(self) -> None:
        with self.lock:
            self._reset_pieces()
            self.runs = {}

    def _store_piece(self, piece: str, ids: Iterable[int]) -> None:
        self.index[piece] = len(self.starts) - 1
        self.tokens.extend(ids)
        self.starts.append(len(self.tokens))

    def _prune(self) -> None:
        """Keep the most used half of the pieces (common words, punctuation) and forget
        the rest: a full cache that started again would miss even "the" for a while."""
        uses = np.zeros(len(self.index), dtype=np.int64)
        uses[: len(self.uses)] = self.uses
        kept = np.sort(np.argsort(-uses, kind="stable")[: MAX_PIECES // 2])
        by_slot = list(self.index)
        starts = self.starts
        self._reset_pieces(
            [
                (by_slot[slot], self.tokens[starts[slot] : starts[slot + 1]])
                for slot in kept.tolist()
                if by_slot[slot]
            ]
        )

    def whole(self, text: str) -> bool:
        """Whether the text must go to the tokenizer whole."""
        return (
            not self.pieces_safe
            or _NUL in text
            or ("<" in text and any(s in text for s in self.specials))
        )

    def token_ids(
        self, texts: Sequence[str], *, by_piece: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """All the texts' token ids (int64, one text after another) and each text's
        number of tokens. `by_piece=False` sends every text to the tokenizer whole
        (cheaper for a few texts, whose pieces would all be new)."""
        if not by_piece:
            ids = [self.tokenizer.encode(t, add_special_tokens=False).ids for t in texts]
            lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
            flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int64)
            return flat, lengths
        whole = [self.whole(text) for text in texts]
        per_text = [[] if alone else pieces(text) for text, alone in zip(texts, whole, strict=True)]
        flat_pieces = list(itertools.chain.from_iterable(per_text))
        with self.lock:
            if len(self.index) > MAX_PIECES:
                self._prune()
            found = list(map(self.index.get, flat_pieces))
            if None in found:
                self._add_pieces(
                    dict.fromkeys(
                        p for p, hit in zip(flat_pieces, found, strict=True) if hit is None
                    )
                )
                found = list(map(self.index.__getitem__, flat_pieces))
            starts = np.frombuffer(self.starts, dtype=np.int64)
            tokens = np.frombuffer(self.tokens, dtype=np.int32)
            piece = np.array(found, dtype=np.int64)
            counted = np.bincount(piece, minlength=len(self.index))
            counted[: len(self.uses)] += self.uses
            self.uses = counted
            first = starts[piece]
            size = starts[piece + 1] - first
            flat = _gather(tokens, first, size)
        before = np.zeros(len(flat_pieces) + 1, dtype=np.int64)
        np.cumsum(size, out=before[1:])
        bounds = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum([len(found) for found in per_text], out=bounds[1:])
        lengths = before[bounds[1:]] - before[bounds[:-1]]
        if any(whole):
            flat, lengths = self._with_whole(texts, whole, flat, lengths)
        return flat, lengths

    def _with_whole(
        self, texts: Sequence[str], whole: list[bool], flat: np.ndarray, lengths: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        parts = []
        end = 0
        for text, alone, length in zip(texts, whole, lengths.tolist(), strict=True):
            if alone:
                ids = self.tokenizer.encode(text, add_special_tokens=False).ids
                parts.append(np.array(ids, dtype=np.int64))
            else:
                parts.append(flat[end : end + length])
                end += length
        sizes = np.array([len(p) for p in parts], dtype=np.int64)
        return (np.concatenate(parts) if parts else flat), sizes

    def _add_pieces(self, new: Iterable[str]) -> None:
        """Tokens of pieces not seen before, from their runs."""
        cut = {piece: self._runs_of(piece) for piece in new}
        if len(self.runs) > MAX_RUNS:
            self.runs = {}
        self.bpe({run for runs in cut.values() for run in runs if run not in self.runs})
        runs_tokens = self.runs
        for piece, runs in cut.items():
            if len(runs) == 1:
                self._store_piece(piece, runs_tokens[runs[0]])
            else:
                self._store_piece(
                    piece, itertools.chain.from_iterable(runs_tokens[r] for r in runs)
                )

    def _runs_of(self, piece: str) -> list[str]:
        """The runs a piece tokenizes as: the first with the piece's "▁" (its leading
        spaces kept), each later one marked by a leading NUL (tokenized without)."""
        if piece.isalnum() or not piece or (self.unsafe_re and self.unsafe_re.search(piece)):
            return [piece]
        body = piece.lstrip(" ")
        runs = _RUN.findall(body)
        if not runs or "".join(runs) != body:  # not expected; keep the piece whole
            return [piece]
        return [piece[: len(piece) - len(body)] + runs[0]] + [_NUL + run for run in runs[1:]]

    def bpe(self, runs: Iterable[str]) -> None:
        """Tokenize new runs. Many go to the tokenizer as one text, separated by NUL (no
        token of the BPE, so its byte token stands alone and marks where a run ends):
        "\\x00 " before a run that has its "▁", "\\x00" before one without. One call
        per run would cost ~9 us of overhead each. Calls stay one at a time, not a
        batch call: a batch call tokenizes on a thread pool, and every thread keeps its
        own memory arena (~8 MB each)."""
        todo = sorted(runs)
        if "" in todo:  # a piece of a single "▁": its token
            self.runs[""] = [self.space]
            todo.remove("")
        led = [run for run in todo if not run.startswith(_NUL)]
        bare = [run for run in todo if run.startswith(_NUL)]
        for first in range(0, len(led), _PIECES_PER_CALL):
            chunk = led[first : first + _PIECES_PER_CALL]
            self._store(chunk, (_NUL + " ").join(chunk), skip=0)
        for first in range(0, len(bare), _PIECES_PER_CALL):
            chunk = bare[first : first + _PIECES_PER_CALL]
            self._store(chunk, "".join(chunk), skip=1)  # the text's own "▁" comes first

    def _store(self, chunk: list[str], text: str, skip: int) -> None:
        ids = self.tokenizer.encode(text, add_special_tokens=False).ids
        ends = [i for i, token in enumerate(ids) if token == self.separator]
        bounds = list(zip([-1, *ends], [*ends, len(ids)], strict=True))[skip:]
        if len(bounds) != len(chunk):  # not expected with this BPE: tokenize one by one
            for run in chunk:
                self.runs[run] = self.tokenizer.encode(run, add_special_tokens=False).ids[
                    2 if run.startswith(_NUL) else 0 :
                ]
            return
        for run, (start, end) in zip(chunk, bounds, strict=True):
            self.runs[run] = ids[start + 1 : end]


# The tokenizer file wordllama 0.4 ships, and what `_checked` finds in it; looking
# through its 32,000 tokens costs ~7 MB of resident memory, so a known file is trusted.
_KNOWN_TOKENIZER = (1_842_796, 1_068_455_936)  # size, CRC-32 (hashlib costs ~4 MB)
_KNOWN_UNSAFE = frozenset("\u00b2")  # "²" (tokens "².", "²,", "²).")


def _checked(
    tokenizer: Tokenizer, config: Path, specials: Sequence[str]
) -> tuple[bool, frozenset[str]]:
    """Whether pieces tokenize alone (no token has a "▁" after another character),
    and the letters and digits some token joins to another kind of character."""
    data = config.read_bytes()
    if (len(data), zlib.crc32(data)) == _KNOWN_TOKENIZER:
        return True, _KNOWN_UNSAFE
    del data
    vocab = [
        token
        for token in tokenizer.get_vocab()
        if token not in specials and not _BYTE_TOKEN.fullmatch(token)
    ]
    safe = not any(_INNER_SPACE.search(token) for token in vocab)
    unsafe = frozenset(
        a if a.isalnum() else b
        for token in vocab
        for a, b in itertools.pairwise(token)
        if "\u2581" not in (a, b) and _kind(a) != _kind(b)
    )
    return safe, unsafe


_BYTE_TOKEN = re.compile(r"<0x[0-9A-F]{2}>")
_INNER_SPACE = re.compile("[^\u2581]\u2581")


def _kind(char: str) -> int:
    return 0 if char.isalnum() else 1


def _gather(tokens: np.ndarray, first: np.ndarray, size: np.ndarray) -> np.ndarray:
    """tokens[first[i] : first[i] + size[i]] for every i, one after another, int64."""
    total = int(size.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    offset = np.repeat(first - (np.cumsum(size) - size), size)
    return tokens[np.arange(total, dtype=np.int64) + offset].astype(np.int64)


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
