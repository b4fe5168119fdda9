"""One sparse vector as two numpy arrays: the cheap form for a member's few papers.

scipy's sparse matrices pay tens of microseconds per call, which is right for a day of
papers against thousands of members and wrong for adding one liked paper to one
interest; these helpers do that in a few microseconds.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp


class SparseRow(NamedTuple):
    indices: np.ndarray  # int32, ascending, unique
    values: np.ndarray  # float32

    @property
    def nnz(self) -> int:
        return len(self.indices)


EMPTY = SparseRow(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))


def row_of(matrix: sp.csr_matrix, index: int) -> SparseRow:
    """Row `index` of a CSR matrix with sorted indices, without copying."""
    start, end = matrix.indptr[index], matrix.indptr[index + 1]
    return SparseRow(matrix.indices[start:end], matrix.data[start:end])


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
    indices, inverse = np.unique(np.concatenate([a.indices, b.indices]), return_inverse=True)
    values = np.bincount(inverse, weights=np.concatenate([a.values, b.values]))
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


def stack(rows: list[SparseRow], n_features: int) -> sp.csr_matrix:
    """Rows into one CSR matrix."""
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([r.nnz for r in rows], out=indptr[1:])
    if rows and indptr[-1]:
        indices = np.concatenate([r.indices for r in rows])
        values = np.concatenate([r.values for r in rows]).astype(np.float32)
    else:
        indices = np.zeros(0, dtype=np.int32)
        values = np.zeros(0, dtype=np.float32)
    return sp.csr_matrix((values, indices, indptr), shape=(len(rows), n_features))
