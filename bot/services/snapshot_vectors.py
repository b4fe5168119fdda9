"""A snapshot import's relevance vectors, written with each batch's papers.

The text half of encoding (`analyse`: feature counts and embeddings) runs in the worker
processes that parse the records; the writer turns it into vectors in storage order
(`vectors_from`) inside each batch's transaction. The result is exactly what
`RelevanceService.sync_vectors` makes of the same papers afterwards: papers are counted
into the statistics `chunk` at a time (`ENCODE_BATCH`, as `sync_vectors` does), in id
order, and the few papers of a chunk not yet full at a batch's end are carried over to
the next batch (stored meanwhile without vectors). A resumed import finds them among the
papers without vectors, so it makes the same chunks as an uninterrupted one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from bot.core.models import StoredPaper
from bot.core.ports import PaperVectors
from bot.core.snapshot_import import BatchVectors, PreparedPaper
from bot.services.relevance import Analysis, CorpusStats, PaperText, analyse, vectors_from
from bot.services.relevance.sparse_rows import SparseRows
from bot.services.relevance_service import ENCODE_BATCH

log = logging.getLogger("paperbot.import")


class VectorStore(PaperVectors, Protocol):
    """Vectors, their statistics, and the stored papers' text."""

    async def get_papers(
        self, ids: Sequence[int], day: dt.date | None = None
    ) -> list[StoredPaper]: ...


def analyse_papers(papers: Sequence[PreparedPaper]) -> Analysis:
    """What encoding needs from the papers' text (in a worker process)."""
    return analyse([PaperText(0, p.title, p.abstract) for p in papers])


def join(parts: Sequence[Analysis]) -> Analysis:
    """The analyses of consecutive runs of papers, as one."""
    if len(parts) == 1:
        return parts[0]
    indptr = [np.zeros(1, dtype=np.int64)]
    for part in parts:
        indptr.append(part.counts.indptr[1:] + indptr[-1][-1])
    counts = SparseRows(
        np.concatenate(indptr),
        np.concatenate([p.counts.indices for p in parts]),
        np.concatenate([p.counts.values for p in parts]),
    )
    dense = [p.embedded for p in parts if p.embedded is not None]
    embedded = np.concatenate(dense) if len(dense) == len(parts) else None
    return Analysis(counts, embedded)


def take(analysis: Analysis, rows: np.ndarray) -> Analysis:
    embedded = analysis.embedded[rows] if analysis.embedded is not None else None
    return Analysis(analysis.counts.take(rows), embedded)


def gather(sources: Sequence[Analysis], source: np.ndarray, row: np.ndarray) -> Analysis:
    """The rows `row[i]` of `sources[source[i]]`, in order (`source` ascending)."""
    runs = np.flatnonzero(np.diff(source)) + 1
    return join(
        [
            take(sources[int(source[start])], row[start:end])
            for start, end in zip([0, *runs.tolist()], [*runs.tolist(), len(source)], strict=True)
        ]
    )


def _copy(stats: CorpusStats) -> CorpusStats:
    return CorpusStats(stats.n_docs, stats.df.copy(), stats.embedding_sum.copy())


class ImportVectors:
    """The vectors of one import run: the statistics as stored, and the papers stored
    without vectors so far (fewer than a chunk) with their analysis."""

    def __init__(self, store: VectorStore, chunk: int = ENCODE_BATCH) -> None:
        self.store = store
        self.chunk = chunk
        self.active = True  # False once another writer moved the statistics
        self.stats = CorpusStats()
        self.version = 0
        self.pending_ids: list[int] = []
        self.pending: Analysis | None = None
        self.encoded = 0  # papers encoded with the batches

    async def start(self) -> int:
        """Read the statistics and encode the papers already waiting for a vector, as
        `sync_vectors` would, but for the last partial chunk: kept to be completed by
        the import's first papers. How many papers were encoded."""
        stored = await self.store.vector_stats()
        if stored is not None:
            try:
                self.stats = await asyncio.to_thread(CorpusStats.from_bytes, stored.blob)
                self.version = stored.version
            except ValueError:
                self.active = False  # unreadable: the relevance service starts it over
                return 0
        done = 0
        while True:
            ids = await self.store.papers_without_vectors(limit=self.chunk)
            if not ids:
                return done
            stored_papers = await self.store.get_papers(ids)
            texts = [PaperText(p.id, p.title, p.abstract) for p in stored_papers]
            analysis = await asyncio.to_thread(analyse, texts)
            if len(texts) < self.chunk:
                self.pending_ids = [int(t.id) for t in texts]
                self.pending = analysis
                return done
            counted = _copy(self.stats)
            vectors = vectors_from(analysis, counted)
            rows = [(int(t.id), v.to_bytes()) for t, v in zip(texts, vectors, strict=True)]
            if not await self.store.put_vectors(rows, counted.to_bytes(), self.version):
                self.active = False  # another process is encoding: leave it to them
                return done
            self.stats, self.version = counted, self.version + 1
            done += len(rows)

    def batch(self, parts: Sequence[Analysis], *, last: bool) -> BatchEncoder | None:
        """What encodes one batch's new papers (whose analyses, in batch order, are
        `parts`); at the `last` batch the final partial chunk is encoded too."""
        return BatchEncoder(self, parts, last) if self.active else None


class BatchEncoder:
    """One batch's part: `encode` works out the vectors on a copy of the statistics;
    they become the import's only once storage has written them. The batch's analyses
    stay as the workers made them (a run of papers each): each 256 papers' rows are
    gathered from them when encoded, so no copy of the whole batch's is ever made."""

    def __init__(self, owner: ImportVectors, parts: Sequence[Analysis], last: bool) -> None:
        self.owner = owner
        self.parts = list(parts)
        self.last = last
        self.outcome: tuple[CorpusStats, int, list[int], Analysis | None] | None = None
        self.count = 0

    def encode(self, new: Sequence[tuple[int, int]]) -> BatchVectors | None:
        owner = self.owner
        ids = owner.pending_ids + [pid for _, pid in new]
        if not ids:
            return None
        # Where each waiting paper's analysis is: (source, row), sources being the
        # papers carried over (if any), then the batch's parts.
        sources = ([owner.pending] if owner.pending is not None else []) + self.parts
        carried = len(owner.pending_ids)
        sizes = np.array([len(analysis) for analysis in self.parts], dtype=np.int64)
        ends = np.cumsum(sizes)
        positions = np.array([position for position, _ in new], dtype=np.int64)
        in_part = np.searchsorted(ends, positions, side="right")
        source = np.concatenate([np.zeros(carried, dtype=np.int64), in_part + int(carried > 0)])
        row = np.concatenate(
            [np.arange(carried, dtype=np.int64), positions - (ends - sizes)[in_part]]
        )
        full = len(ids) if self.last else len(ids) - len(ids) % owner.chunk
        stats = _copy(owner.stats)
        rows: list[tuple[int, bytes]] = []
        steps = 0
        for first in range(0, full, owner.chunk):
            end = min(first + owner.chunk, full)
            chunk = gather(sources, source[first:end], row[first:end])
            vectors = vectors_from(chunk, stats)
            rows += [(pid, v.to_bytes()) for pid, v in zip(ids[first:end], vectors, strict=True)]
            steps += 1
        left = gather(sources, source[full:], row[full:]) if full < len(ids) else None
        if not steps:
            owner.pending_ids, owner.pending = ids, left  # nothing to write yet
            return None
        self.outcome = (stats, owner.version + steps, ids[full:], left)
        self.count = len(rows)
        return BatchVectors(rows, stats.to_bytes(), owner.version, owner.version + steps)

    def written(self, ok: bool) -> None:
        owner = self.owner
        if not ok or self.outcome is None:
            # Another process encoded papers meanwhile: the import leaves the rest to
            # the catch-up at its end rather than count anything twice.
            log.info("corpus statistics moved during the import: vectors caught up at the end")
            owner.active = False
            owner.pending_ids, owner.pending = [], None
            return
        owner.stats, owner.version, owner.pending_ids, owner.pending = self.outcome
        owner.encoded += self.count
