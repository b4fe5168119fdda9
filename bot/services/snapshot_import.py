"""Importing the arXiv metadata snapshot: stream the file, parse and tag in worker
processes, write one transaction per batch with its checkpoint, then catch the search
index and the relevance vectors up.

Memory stays constant: the file is read a batch at a time, and at most a few batches
are in flight between the reader, the workers and the writer. A killed import resumes
at the byte offset its last committed batch recorded, so a rerun ends with the same
database as an uninterrupted run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.ingest import ingest_taxonomy
from bot.core.models import Topic
from bot.core.ports import SnapshotImportStore
from bot.core.snapshot import SNIFF_LINES, SnapshotFilter, not_a_snapshot
from bot.core.snapshot_import import (
    BATCH_LINES,
    ImportBatch,
    ImportCheckpoint,
    ImportCounts,
    PreparedLines,
    Preparer,
)
from bot.services.freed_memory import release_freed_memory
from bot.services.relevance import Analysis
from bot.services.snapshot_file import SnapshotFile, open_snapshot
from bot.services.snapshot_vectors import ImportVectors, analyse_papers

# A chunk's prepared papers and, when the import encodes vectors, their analysis.
Prepared = tuple[PreparedLines, Analysis | None]

CHUNK_LINES = 2_000  # one worker task
# Below this many bytes the workers' start-up costs more than they save.
POOL_MIN_BYTES = 8 * 1024 * 1024
FINGERPRINT_BYTES = 1024 * 1024


@dataclass
class ImportProgress:
    """What a progress display shows after each batch."""

    batch: int
    offset: int  # bytes of lines read so far (decompressed)
    consumed: int  # bytes of the file read so far: what `size` measures
    size: int  # the file's size in bytes
    counts: ImportCounts
    papers_per_second: float


@dataclass
class ImportResult:
    counts: ImportCounts
    already_imported: bool = False
    resumed_at: int = 0  # the byte offset a resumed import started from (0: from the start)
    seconds: float = 0.0
    papers_this_run: int = 0  # new and merged papers written by this run
    indexed: int = 0
    vectors: int = 0
    phases: dict[str, float] = field(default_factory=dict)  # phase -> seconds

    @property
    def rate(self) -> float:
        return self.papers_this_run / self.seconds if self.seconds > 0 else 0.0


def file_fingerprint(path: Path, wanted: SnapshotFilter) -> str:
    """The file (its size, first and last MB) and the filter: a rerun on the same file
    with the same filter resumes; another file or filter is another import."""
    digest = hashlib.sha256()
    size = path.stat().st_size
    with path.open("rb") as handle:
        digest.update(handle.read(FINGERPRINT_BYTES))
        if size > FINGERPRINT_BYTES:
            handle.seek(max(FINGERPRINT_BYTES, size - FINGERPRINT_BYTES))
            digest.update(handle.read(FINGERPRINT_BYTES))
    digest.update(f"{size}|{wanted.describe()}".encode())
    return digest.hexdigest()[:32]


# A line longer than this is no snapshot record (the longest are a few tens of kB).
SNIFF_LINE_BYTES = 1024 * 1024


def snapshot_problem(path: Path) -> str | None:
    """Why `path` cannot be the snapshot (see `not_a_snapshot`), read from its first
    non-blank lines before anything is written; None when it can be. OSError when it
    cannot be read (or is not in the format its suffix names)."""
    lines: list[bytes] = []
    with open_snapshot(path) as snapshot:
        while len(lines) < SNIFF_LINES:
            line = snapshot.lines.readline(SNIFF_LINE_BYTES)
            if not line:
                break
            if line.strip():
                lines.append(line)
    return not_a_snapshot(lines)


def _batches(
    snapshot: SnapshotFile, offset: int, size: int
) -> Iterator[tuple[list[bytes], int, int]]:
    """(lines, offset after them, bytes of the file read by then) a batch at a time,
    from `offset` on (an offset into the decompressed lines)."""
    handle = snapshot.lines
    if offset:
        handle.seek(offset)  # a compressed stream seeks by reading through
    lines: list[bytes] = []
    for line in handle:
        lines.append(line)
        offset += len(line)
        if len(lines) >= size:
            yield lines, offset, snapshot.consumed()
            lines = []
    if lines:
        yield lines, offset, snapshot.consumed()


# -- worker processes ------------------------------------------------------------------------
_worker: tuple[Preparer, bool] | None = None


def _start_worker(topics: Sequence[Topic], wanted: SnapshotFilter, vectors: bool) -> None:
    global _worker
    _worker = (Preparer(topics, wanted), vectors)


def _prepare(preparer: Preparer, vectors: bool, lines: Sequence[bytes]) -> Prepared:
    prepared = preparer(lines)
    return prepared, analyse_papers(prepared.papers) if vectors else None


def _prepare_in_worker(lines: Sequence[bytes]) -> Prepared:
    assert _worker is not None, "worker not started"
    return _prepare(*_worker, lines)


class _Parsers:
    """Parsing and tagging (and the text half of the vectors), in worker processes for
    a large file, else inline."""

    def __init__(
        self, topics: Sequence[Topic], wanted: SnapshotFilter, workers: int, vectors: bool
    ) -> None:
        self.inline = Preparer(topics, wanted) if workers <= 0 else None
        self.vectors = vectors
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None
        if workers > 0:
            self.pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(list(topics), wanted, vectors),
            )

    def submit(self, lines: list[bytes]) -> list[concurrent.futures.Future[Prepared]]:
        chunks = [lines[i : i + CHUNK_LINES] for i in range(0, len(lines), CHUNK_LINES)]
        if self.pool is None:
            assert self.inline is not None
            done: list[concurrent.futures.Future[Prepared]] = []
            for chunk in chunks:
                future: concurrent.futures.Future[Prepared] = concurrent.futures.Future()
                future.set_result(_prepare(self.inline, self.vectors, chunk))
                done.append(future)
            return done
        return [self.pool.submit(_prepare_in_worker, chunk) for chunk in chunks]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


async def import_snapshot(
    store: SnapshotImportStore,
    path: Path,
    wanted: SnapshotFilter,
    *,
    progress: Callable[[ImportProgress], None] | None = None,
    workers: int | None = None,
    encode_vectors: Callable[[], object] | None = None,
    batch: int = BATCH_LINES,
    vectors: ImportVectors | None = None,
) -> ImportResult:
    """Import `path` (JSON lines, perhaps compressed: `bot.services.snapshot_file`)
    into `store`. `vectors` encodes the relevance vectors of each batch's papers in its
    transaction; `encode_vectors` (an async callable) catches up any left at the end."""
    started = time.monotonic()
    fingerprint = await asyncio.to_thread(file_fingerprint, path, wanted)
    checkpoint = await store.import_checkpoint(fingerprint)
    result = ImportResult(counts=checkpoint.counts if checkpoint else ImportCounts())
    if checkpoint is not None and checkpoint.done:
        result.already_imported = True
    else:
        offset = checkpoint.offset if checkpoint else 0
        result.resumed_at = offset
        size = path.stat().st_size
        if workers is None:
            workers = min(os.cpu_count() or 1, 4) if size >= POOL_MIN_BYTES else 0
        topics = await ingest_taxonomy(store)
        before = result.counts.imported + result.counts.merged
        if vectors is not None:
            result.vectors += await vectors.start()
        parsers = _Parsers(topics, wanted, workers, vectors is not None)
        result.counts = await _write_batches(
            store, path, fingerprint, offset, result.counts, parsers,
            progress, size, started, batch, vectors,
        )  # fmt: skip
        if vectors is not None:
            result.vectors += vectors.encoded
        result.papers_this_run = result.counts.imported + result.counts.merged - before
        result.phases["import"] = time.monotonic() - started
    # The rows phase's freed batches would otherwise stay resident under the index
    # phase's writer heap.
    release_freed_memory()
    mark = time.monotonic()
    result.indexed = await store.sync_search_index()
    result.phases["search index"] = time.monotonic() - mark
    if encode_vectors is not None:
        mark = time.monotonic()
        done = await encode_vectors()  # type: ignore[misc]  # an async callable
        result.vectors += int(done) if isinstance(done, int) else 0
        result.phases["vectors"] = time.monotonic() - mark
    result.seconds = time.monotonic() - started
    return result


async def _write_batches(
    store: SnapshotImportStore,
    path: Path,
    fingerprint: str,
    offset: int,
    counts: ImportCounts,
    parsers: _Parsers,
    progress: Callable[[ImportProgress], None] | None,
    size: int,
    started: float,
    batch_lines: int,
    vectors: ImportVectors | None,
) -> ImportCounts:
    """Read, parse (ahead, in the workers) and write batch after batch. The reader
    stays at most two batches ahead of the writer, so memory does not grow with the
    file."""
    written = 0
    try:
        with open_snapshot(path) as snapshot:
            batches = _batches(snapshot, offset, batch_lines)
            pending: list[tuple[list[concurrent.futures.Future[Prepared]], int, int, int]] = []
            number = 0
            exhausted = False
            while True:
                while not exhausted and len(pending) < 2:
                    item = await asyncio.to_thread(next, batches, None)
                    if item is None:
                        exhausted = True
                        break
                    lines, end, consumed = item
                    pending.append((parsers.submit(lines), len(lines), end, consumed))
                if not pending:
                    break
                futures, line_count, end, consumed = pending.pop(0)
                done_parts = [await asyncio.wrap_future(f) for f in futures]
                parts = [part for part, _ in done_parts]
                batch_counts = ImportCounts(
                    lines=counts.lines + line_count,
                    imported=counts.imported,
                    merged=counts.merged,
                    filtered=counts.filtered + sum(p.filtered for p in parts),
                    bad=dict(counts.bad),
                )
                for part in parts:
                    for reason, n in part.bad.items():
                        batch_counts.bad[reason] = batch_counts.bad.get(reason, 0) + n
                papers = [paper for part in parts for paper in part.papers]
                vocab = parts[0].vocab if parts else Counter()
                for part in parts[1:]:
                    vocab.update(part.vocab)
                last = exhausted and not pending
                checkpoint = ImportCheckpoint(fingerprint, end, batch_counts, done=last)
                encoder = None
                if vectors is not None:
                    analyses = [a for _, a in done_parts if a is not None]
                    encoder = vectors.batch(analyses, last=last) if analyses else None
                counts = await store.import_batch(
                    ImportBatch(papers, checkpoint, str(path), encoder, vocab)
                )
                written += len(papers)
                number += 1
                if progress is not None:
                    elapsed = time.monotonic() - started
                    progress(
                        ImportProgress(
                            number, end, consumed, size, counts, written / max(elapsed, 1e-9)
                        )
                    )
            if number == 0:
                # Nothing left to read (an empty file, or a resume at its end): record
                # that the import is complete.
                done = ImportCheckpoint(fingerprint, offset, counts, done=True)
                counts = await store.import_batch(ImportBatch([], done, str(path)))
    finally:
        parsers.close()
    return counts
