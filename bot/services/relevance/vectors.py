"""Paper vectors: compact, serialisable, computed in batches.

A `PaperVector` has two halves:

- sparse: the paper's `MAX_TERMS` most telling hashed features (see `features`), each
  packed into one uint32 as ``feature_id << 8 | count``. Counts, not weights, are stored:
  how much a feature weighs depends on how many papers hold it, which changes as papers
  arrive, so the IDF is applied at the time of use from `CorpusStats`.
- dense: the wordllama embedding of title and abstract, int8 with one float scale.

`to_bytes` is at most 4 × 128 + 4 + 256 + 6 = 778 bytes (about 500 on real papers'
length), so a million papers' vectors are under 800 MB on disk and any day's or
search's candidates load in a few milliseconds.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.services.relevance import embedding
from bot.services.relevance.features import N_FEATURES, count_features, paper_text
from bot.services.relevance.sparse_rows import SparseRows

PaperId = int | str

FORMAT_VERSION = 1
# Version 1 of the statistics left out the embedding sum, so restored statistics centred
# nothing; version 2 keeps it.
STATS_FORMAT_VERSION = 2
# Kept features per paper, of about 235 in a typical title and abstract. Chosen by
# measurement (docs/RELEVANCE.md): "related" precision is 0.817 with every feature, 0.811
# with 160, 0.808 with 128 and 0.78 with 96 when papers are encoded day by day.
MAX_TERMS = 160
MAX_COUNT = 255  # counts share a uint32 with the feature id (20 bits + 8 bits)
# IDF limits applied at use time: features in more than a fifth of all papers ("model
# performance") say nothing about a paper's subject; features in one paper only cannot
# make two papers similar and would only dilute the others.
MAX_DF = 0.2
MIN_DF = 2
# Below this many papers document frequencies mean little; the limits wait for it.
MIN_DOCS_FOR_LIMITS = 50

_HEADER = struct.Struct("<2sBBH")  # magic, version, flags, number of terms
_MAGIC = b"PV"
_HAS_DENSE = 1
_SCALE = struct.Struct("<f")
_STATS_MAGIC = b"PBDF"


@dataclass(frozen=True)
class PaperText:
    """What the engine needs to know about a paper: plain data from any source."""

    id: PaperId
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    # Popularity, for members the engine knows nothing about yet: HF upvotes when the
    # dump had them, else the paper's place in the day's list (1 = first).
    upvotes: int | None = None
    position: int | None = None


@dataclass(frozen=True, eq=False)
class PaperVector:
    terms: np.ndarray  # uint32, ascending: feature_id << 8 | count
    dense: np.ndarray | None = None  # int8[embedding.DIM]
    scale: float = 0.0  # dense * scale is the unit embedding

    @property
    def feature_ids(self) -> np.ndarray:
        return (self.terms >> 8).astype(np.int64)

    @property
    def counts(self) -> np.ndarray:
        return (self.terms & 0xFF).astype(np.float32)

    def embedding(self) -> np.ndarray:
        if self.dense is None:
            return np.zeros(embedding.DIM, dtype=np.float32)
        return self.dense.astype(np.float32) * self.scale

    def to_bytes(self) -> bytes:
        flags = _HAS_DENSE if self.dense is not None else 0
        parts = [_HEADER.pack(_MAGIC, FORMAT_VERSION, flags, len(self.terms))]
        parts.append(self.terms.astype("<u4").tobytes())
        if self.dense is not None:
            parts.append(_SCALE.pack(self.scale))
            parts.append(self.dense.astype(np.int8).tobytes())
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> PaperVector:
        """The vector `to_bytes` wrote; ValueError for anything else (or another version,
        whose features would not line up: re-encode the papers then)."""
        if len(data) < _HEADER.size:
            raise ValueError("not a paper vector: too short")
        magic, version, flags, n = _HEADER.unpack_from(data)
        if magic != _MAGIC:
            raise ValueError("not a paper vector")
        if version != FORMAT_VERSION:
            raise ValueError(f"paper vector format {version}, expected {FORMAT_VERSION}")
        end = _HEADER.size + 4 * n
        dense_size = _SCALE.size + embedding.DIM if flags & _HAS_DENSE else 0
        if len(data) != end + dense_size:
            raise ValueError("paper vector has the wrong length")
        terms = np.frombuffer(data, dtype="<u4", count=n, offset=_HEADER.size).astype(np.uint32)
        if not flags & _HAS_DENSE:
            return cls(terms)
        (scale,) = _SCALE.unpack_from(data, end)
        dense = np.frombuffer(data, dtype=np.int8, offset=end + _SCALE.size).copy()
        return cls(terms, dense, scale)


@dataclass
class CorpusStats:
    """How many papers hold each feature: the IDF, updated as papers arrive.

    Counted from every feature of a paper (before `MAX_TERMS` pruning), once per paper,
    when it is first encoded. Storage keeps it as one blob (`to_bytes`); it can always be
    rebuilt by encoding every stored paper again into a fresh one.
    """

    n_docs: int = 0
    df: np.ndarray = field(default_factory=lambda: np.zeros(N_FEATURES, dtype=np.int32))
    # Sum of every paper's unit embedding. Static embeddings of any two abstracts share a
    # large common direction (unrelated papers have cosine ~0.4); subtracting the mean
    # leaves what sets a paper apart, so unrelated papers score about 0 and a dislike or
    # a threshold means the same for every member.
    embedding_sum: np.ndarray = field(
        default_factory=lambda: np.zeros(embedding.DIM, dtype=np.float64)
    )

    def add(self, counts: SparseRows, embeddings: np.ndarray | None = None) -> None:
        """Count new papers: their feature counts (one row each) and unit embeddings."""
        features, papers = np.unique(counts.indices, return_counts=True)
        self.df[features] += papers.astype(np.int32)
        self.n_docs += len(counts)
        if embeddings is not None:
            self.embedding_sum += embeddings.sum(axis=0, dtype=np.float64)

    def embedding_mean(self) -> np.ndarray:
        if not self.n_docs:
            return np.zeros(embedding.DIM, dtype=np.float32)
        return (self.embedding_sum / self.n_docs).astype(np.float32)

    # IDFs are worked out for the features asked about only: a table of them for every
    # bucket would hold another 4 MB per table for nothing.
    def raw_idf(self, features: np.ndarray) -> np.ndarray:
        """Smoothed IDF of `features` with no limits (what pruning ranks features by)."""
        n = self.n_docs
        return (np.log((1.0 + n) / (1.0 + self.df[features])) + 1.0).astype(np.float32)

    def idf(self, features: np.ndarray) -> np.ndarray:
        """The IDF of `features` used for scoring: 0 for features too common or too rare
        to help."""
        weights = self.raw_idf(features)
        if self.n_docs >= MIN_DOCS_FOR_LIMITS:
            df = self.df[features]
            weights[(df > MAX_DF * self.n_docs) | (df < MIN_DF)] = 0.0
        return weights

    def useful(self, features: np.ndarray) -> np.ndarray:
        """Which of `features` count when scoring now: held by 2+ papers, and not too
        common."""
        return self.idf(features) > 0

    def to_bytes(self) -> bytes:
        """ "PBDF", the format version, the number of papers, then one zlib blob: the
        document frequencies (int32 each) and the embedding sum (float64 each)."""
        # Level 1: written once per batch of papers stored, where level 6 took ~110 ms
        # for 4 MB (more than encoding 256 papers) to save a fifth of the size. Any
        # level reads back the same.
        compressor = zlib.compressobj(1)
        # Fed from the arrays themselves (no copy where they are already little-endian):
        # joining copies of them first held three more 4 MB buffers at once, during a
        # start-up catch-up the largest transient of every batch.
        parts = [
            _STATS_MAGIC,
            struct.pack("<BQ", STATS_FORMAT_VERSION, self.n_docs),
            compressor.compress(self.df.astype("<i4", copy=False).data),
            compressor.compress(self.embedding_sum.astype("<f8", copy=False).data),
            compressor.flush(),
        ]
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> CorpusStats:
        if data[:4] != _STATS_MAGIC or len(data) < 13:
            raise ValueError("not paperbot corpus statistics")
        version, n_docs = struct.unpack_from("<BQ", data, 4)
        if version != STATS_FORMAT_VERSION:
            raise ValueError(f"corpus statistics format {version}, expected {STATS_FORMAT_VERSION}")
        raw = _inflate_exactly(data[13:], 4 * N_FEATURES + 8 * embedding.DIM)
        # Views of the one buffer (copies only on a big-endian machine).
        df = np.frombuffer(raw, dtype="<i4", count=N_FEATURES).astype(np.int32, copy=False)
        total = np.frombuffer(raw, dtype="<f8", offset=4 * N_FEATURES).astype(
            np.float64, copy=False
        )
        return cls(n_docs, df, total)


_INFLATE_STEP = 256 * 1024


def _inflate_exactly(compressed: bytes, size: int) -> bytearray:
    """`compressed` inflated into one writable buffer of exactly `size` bytes, a step at
    a time: inflating whole and then copying into arrays held two more 4 MB buffers at
    once, at every start of the bot (ValueError if the data is damaged or another
    size)."""
    out = bytearray(size)
    view = memoryview(out)
    inflater = zlib.decompressobj()
    filled, pending = 0, compressed
    try:
        while filled < size:
            chunk = inflater.decompress(pending, min(_INFLATE_STEP, size - filled))
            if not chunk:
                break
            view[filled : filled + len(chunk)] = chunk
            filled += len(chunk)
            pending = inflater.unconsumed_tail
        # Anything left would be more than `size` bytes.
        extra = inflater.decompress(pending, 1) if not inflater.eof else b""
    except zlib.error as exc:
        raise ValueError(f"corpus statistics are damaged: {exc}") from None
    if filled != size or extra or not inflater.eof or inflater.unused_data:
        raise ValueError("corpus statistics have the wrong size")
    return out


@dataclass(frozen=True)
class Analysis:
    """What encoding needs from a batch's text: each paper's raw feature counts and
    unit embedding. It depends on nothing but the text, so it can be worked out in
    another process (it pickles) and turned into vectors with `vectors_from`, in the
    order the papers are stored."""

    counts: SparseRows
    embedded: np.ndarray | None  # n x embedding.DIM float32, or None for sparse-only

    def __len__(self) -> int:
        return len(self.counts)


def analyse(papers: Sequence[PaperText], *, dense: bool = True) -> Analysis:
    """The text half of `encode`: feature counts and embeddings of a batch. Fastest in
    large batches (a thousand papers or more: the embedding table is then read once)."""
    counts = count_features([paper_text(p.title, p.abstract) for p in papers])
    embedded = embedding.embed([_embed_text(p) for p in papers]) if dense else None
    return Analysis(counts, embedded)


def encode(
    papers: Sequence[PaperText], stats: CorpusStats, *, new: bool = True, dense: bool = True
) -> list[PaperVector]:
    """Vectors for a batch of papers.

    `new=True` first counts the papers into `stats` (do it once per paper, when it is
    stored); `new=False` re-encodes papers already counted. `dense=False` skips the
    embedding (a sparse-only vector).
    """
    if not papers:
        return []
    return vectors_from(analyse(papers, dense=dense), stats, new=new)


def vectors_from(analysis: Analysis, stats: CorpusStats, *, new: bool = True) -> list[PaperVector]:
    """The vectors of an analysed batch, weighed by `stats` (counting the batch into
    them first when `new`). Batches must be counted in the order they are stored for
    the result to equal encoding them one after another."""
    counts, embedded = analysis.counts, analysis.embedded
    if not len(counts):
        return []
    if new:
        stats.add(counts, embedded)
    raw_idf = stats.raw_idf(counts.indices)
    useful = stats.useful(counts.indices)
    out = []
    for row in range(len(counts)):
        start, end = counts.indptr[row], counts.indptr[row + 1]
        ids = counts.indices[start:end].astype(np.int64)
        tf = np.minimum(counts.values[start:end], MAX_COUNT)
        if len(ids) > MAX_TERMS:
            # Keep the features that will weigh most, those some other paper shares
            # first: a feature found in this paper only (most word pairs) has the
            # highest IDF, yet cannot make it similar to anything. Ties go to the lower
            # feature id, so the result does not depend on the order of counting.
            weight = (1.0 + np.log(tf)) * raw_idf[start:end]
            keep = np.lexsort((ids, -weight, ~useful[start:end]))[:MAX_TERMS]
            keep.sort()
            ids, tf = ids[keep], tf[keep]
        terms = (ids.astype(np.uint32) << 8) | tf.astype(np.uint32)
        if embedded is None:
            out.append(PaperVector(terms))
        else:
            out.append(_with_dense(terms, embedded[row]))
    return out


def _embed_text(paper: PaperText) -> str:
    return f"{paper.title}. {paper.abstract}".strip(". ")


def _with_dense(terms: np.ndarray, unit: np.ndarray) -> PaperVector:
    peak = float(np.abs(unit).max()) if unit.size else 0.0
    if peak == 0.0:
        return PaperVector(terms, np.zeros(embedding.DIM, dtype=np.int8), 0.0)
    scale = peak / 127.0
    return PaperVector(terms, np.round(unit / scale).astype(np.int8), scale)


def sparse_matrix(vectors: Sequence[PaperVector], stats: CorpusStats) -> SparseRows:
    """Unit-length tf-idf rows (sublinear tf × IDF), float32; features that weigh
    nothing are left out."""
    indptr = np.zeros(len(vectors) + 1, dtype=np.int64)
    np.cumsum([len(v.terms) for v in vectors], out=indptr[1:])
    if not indptr[-1]:
        return SparseRows(indptr, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))
    terms = np.concatenate([v.terms for v in vectors])
    ids = (terms >> 8).astype(np.int32)
    tf = (terms & 0xFF).astype(np.float32)
    values = (1.0 + np.log(np.maximum(tf, 1.0))) * stats.idf(ids)
    return _unit_rows(SparseRows(indptr, ids, values))


def dense_matrix(vectors: Sequence[PaperVector], stats: CorpusStats) -> np.ndarray:
    """Unit-length embeddings minus the corpus mean, n × DIM float32 (zero rows for
    sparse-only vectors)."""
    out = np.zeros((len(vectors), embedding.DIM), dtype=np.float32)
    mean = stats.embedding_mean()
    for row, vector in enumerate(vectors):
        if vector.dense is not None and vector.scale:
            out[row] = vector.dense
            out[row] *= vector.scale
            out[row] -= mean
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.divide(out, norms, out=out, where=norms > 0)


def _unit_rows(matrix: SparseRows) -> SparseRows:
    rows = matrix.row_of_entry()
    squares = np.bincount(rows, weights=matrix.values * matrix.values, minlength=len(matrix))
    norms = np.sqrt(squares).astype(np.float32)
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    values = matrix.values * scale[rows]
    kept = values != 0
    indptr = np.zeros(len(matrix) + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[kept], minlength=len(matrix)), out=indptr[1:])
    return SparseRows(indptr, matrix.indices[kept], values[kept])
