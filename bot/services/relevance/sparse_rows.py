"""Sparse vectors as plain numpy arrays: one (`SparseRow`) or many (`SparseRows`).

The engine's sparse work is small and of few kinds: a member's few papers summed into
an interest, a day's papers against every member's interests, a paper against its
candidates. numpy does all of it; a sparse-matrix library would cost more resident
memory than the data it holds (scipy.sparse: ~22 MB of RSS on import), and its general
machinery tens of microseconds a call where these helpers take a few.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

# What `cross` works on at once, whatever the number of members or papers: entries of
# the other rows (~40 bytes each while they are looked up), products (~24 bytes each
# while they are summed) and cells of the result (12 bytes each): about 1 MB each.
_CROSS_ENTRIES = 1 << 15
_CROSS_PRODUCTS = 1 << 15
_CROSS_CELLS = 1 << 16
_ONE = np.uint64(1)
# Look-ups at which `FeatureIndex` builds its bitmap rather than searching.
_BITMAP_FROM = 1 << 14


class SparseRow(NamedTuple):
    indices: np.ndarray  # int32, ascending, unique
    values: np.ndarray  # float32

    @property
    def nnz(self) -> int:
        return len(self.indices)


EMPTY = SparseRow(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))


class SparseRows(NamedTuple):
    """Rows of a sparse matrix, compressed (CSR): row `i` is
    ``indices[indptr[i]:indptr[i + 1]]`` (ascending) with its `values`."""

    indptr: np.ndarray  # int64, len(rows) + 1
    indices: np.ndarray  # int32
    values: np.ndarray  # float32

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    def row(self, index: int) -> SparseRow:
        """Row `index`, without copying."""
        start, end = self.indptr[index], self.indptr[index + 1]
        return SparseRow(self.indices[start:end], self.values[start:end])

    def row_of_entry(self) -> np.ndarray:
        """The row of every stored entry (int32, in storage order)."""
        return np.repeat(np.arange(len(self), dtype=np.int32), np.diff(self.indptr))

    def take(self, rows: Sequence[int] | np.ndarray) -> SparseRows:
        """The rows at `rows`, in that order (repeats allowed)."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        starts = self.indptr[rows]
        lengths = self.indptr[rows + 1] - starts
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        # Entry k of the result is entry starts[r] + (k - indptr[r]) of self.
        where = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
        return SparseRows(indptr, self.indices[where], self.values[where])


def empty_rows(n: int) -> SparseRows:
    return SparseRows(
        np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0, np.float32)
    )


def row_of(matrix: SparseRows, index: int) -> SparseRow:
    return matrix.row(index)


def dot(a: SparseRow, b: SparseRow) -> float:
    if not a.nnz or not b.nnz:
        return 0.0
    if a.nnz > b.nnz:
        a, b = b, a
    where = np.searchsorted(b.indices, a.indices)
    where[where == b.nnz] = 0
    hit = b.indices[where] == a.indices
    return float(np.dot(a.values[hit], b.values[where[hit]]))


def norm(a: SparseRow) -> float:
    return float(np.sqrt(np.dot(a.values, a.values)))


def add(a: SparseRow, b: SparseRow) -> SparseRow:
    if not a.nnz:
        return SparseRow(b.indices.copy(), b.values.astype(np.float32))
    return total([a, b])


def total(rows: Sequence[SparseRow]) -> SparseRow:
    """The sum of `rows` (summed in float64, stored as float32)."""
    if not rows:
        return EMPTY
    indices, inverse = np.unique(np.concatenate([r.indices for r in rows]), return_inverse=True)
    values = np.bincount(inverse, weights=np.concatenate([r.values for r in rows]))
    return SparseRow(indices.astype(np.int32), values.astype(np.float32))


def top(a: SparseRow, limit: int) -> SparseRow:
    """The `limit` largest entries (ties: lower index), still in index order."""
    if a.nnz <= limit:
        return a
    keep = np.lexsort((a.indices, -a.values))[:limit]
    keep.sort()
    return SparseRow(a.indices[keep], a.values[keep])


def product(a: SparseRow, b: SparseRow) -> SparseRow:
    """Element-wise product (the shared features and what each contributes)."""
    common, ia, ib = np.intersect1d(a.indices, b.indices, assume_unique=True, return_indices=True)
    return SparseRow(common.astype(np.int32), a.values[ia] * b.values[ib])


def stack(rows: Sequence[SparseRow]) -> SparseRows:
    """Rows into one `SparseRows`."""
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([r.nnz for r in rows], out=indptr[1:])
    if not indptr[-1]:
        return empty_rows(len(rows))
    indices = np.concatenate([r.indices for r in rows]).astype(np.int32, copy=False)
    values = np.concatenate([r.values for r in rows]).astype(np.float32, copy=False)
    return SparseRows(indptr, indices, values)


def concat(blocks: Sequence[SparseRows]) -> SparseRows:
    """The rows of every block, one block after the other."""
    if not blocks:
        return empty_rows(0)
    offsets = np.cumsum([0] + [b.nnz for b in blocks[:-1]])
    indptr = np.concatenate(
        [[0]] + [b.indptr[1:] + o for b, o in zip(blocks, offsets, strict=True)]
    )
    return SparseRows(
        indptr.astype(np.int64),
        np.concatenate([b.indices for b in blocks]).astype(np.int32, copy=False),
        np.concatenate([b.values for b in blocks]).astype(np.float32, copy=False),
    )


def cross(a: SparseRows, b: SparseRows) -> np.ndarray:
    """Every row of `a` dotted with every row of `b`: len(a) × len(b), float32 (a @ b.T)."""
    if a.nnz > b.nnz:  # index the smaller side
        return np.ascontiguousarray(FeatureIndex(b).cross(a).T)
    return FeatureIndex(a).cross(b)


class FeatureIndex:
    """The entries of some rows, ordered by feature, to dot those rows with others.

    Works like a sparse matrix product: each entry of the other rows meets only the
    entries here that hold its feature, so the cost is the number of such meetings, not
    the size of either side. Build one per set of rows dotted with many others (a day's
    papers against every member's interests)."""

    def __init__(self, rows: SparseRows) -> None:
        self.n_rows = len(rows)
        by_feature = np.argsort(rows.indices, kind="stable")
        self.rows = rows.row_of_entry()[by_feature]
        self.values = rows.values[by_feature]
        self.features, self.first, self.meets = np.unique(
            rows.indices[by_feature], return_index=True, return_counts=True
        )
        self._bitmap: tuple[np.ndarray, np.ndarray] | None = None

    def _lookup(self, features: np.ndarray) -> np.ndarray:
        """Where each of `features` is in `self.features`, or -1."""
        if len(features) < _BITMAP_FROM:
            where = np.searchsorted(self.features, features)
            where[where == len(self.features)] = 0
            where[self.features[where] != features] = -1
            return where
        # Many look-ups (a batch of members' interests): a bitmap of the features held,
        # and how many are held before each 64-bit word of it, answer them in a few
        # vectorised steps, several times faster than a binary search (192 KB for 2^20
        # features, made once per index).
        if self._bitmap is None:
            top = int(self.features[-1]) >> 6
            bits = np.zeros(top + 1, dtype=np.uint64)
            np.bitwise_or.at(
                bits, self.features >> 6, _ONE << (self.features & 63).astype(np.uint64)
            )
            before = np.zeros(top + 2, dtype=np.int32)
            np.cumsum(np.bitwise_count(bits), out=before[1:])
            self._bitmap = bits, before
        bits, before = self._bitmap
        word = np.minimum(features >> 6, len(bits) - 1)
        held_bits = bits[word]
        shift = (features & 63).astype(np.uint64)
        held = ((held_bits >> shift) & _ONE).astype(bool) & (features >> 6 < len(bits))
        where = before[word] + np.bitwise_count(held_bits & ((_ONE << shift) - _ONE))
        where[~held] = -1
        return where

    def cross(self, other: SparseRows) -> np.ndarray:
        """These rows dotted with every row of `other`: n_rows × len(other), float32."""
        out = np.zeros((self.n_rows, len(other)), dtype=np.float32)
        if not len(self.features) or not other.nnz:
            return out
        # The other rows a group at a time, so that scratch memory stays small.
        low = 0
        while low < len(other):
            budget = other.indptr[low] + _CROSS_ENTRIES
            high = max(int(np.searchsorted(other.indptr, budget, "right")) - 1, low + 1)
            high = min(high, len(other))
            group = slice(other.indptr[low], other.indptr[high])
            rows = np.repeat(np.arange(high - low), np.diff(other.indptr[low : high + 1]))
            self._add_products(out[:, low:high], other.indices[group], other.values[group], rows)
            low = high
        return out

    def _add_products(
        self, out: np.ndarray, features: np.ndarray, values: np.ndarray, rows: np.ndarray
    ) -> None:
        """out[:, r] += every product of entry (rows[e], features[e], values[e]) with the
        entries here of the same feature, for a group of other rows (rows ascending)."""
        n_a = self.n_rows
        where = self._lookup(features)
        hit = np.flatnonzero(where >= 0)
        where = where[hit]
        first, meets = self.first[where], self.meets[where]
        rows, values = rows[hit], values[hit]
        ends = np.cumsum(meets)
        rows_at_once = max(1, _CROSS_CELLS // max(n_a, 1))
        start = 0
        while start < len(hit):
            # Entries whose products and result cells fit in one step.
            stop = min(
                int(np.searchsorted(ends, ends[start] - meets[start] + _CROSS_PRODUCTS, "right")),
                int(np.searchsorted(rows, rows[start] + rows_at_once, "left")),
            )
            stop = max(stop, start + 1)
            counts = meets[start:stop]
            # Product m of entry e is with the sorted entry first[e] + (m - offset of e).
            offsets = np.cumsum(counts) - counts
            entries = np.repeat(first[start:stop] - offsets, counts)
            entries += np.arange(len(entries))
            low, high = int(rows[start]), int(rows[stop - 1]) + 1
            cells = np.repeat((rows[start:stop] - low) * n_a, counts)
            cells += self.rows[entries]
            products = self.values[entries]
            products *= np.repeat(values[start:stop], counts)
            sums = np.bincount(cells, weights=products, minlength=(high - low) * n_a)
            out[:, low:high] += sums.reshape(high - low, n_a).T
            start = stop
