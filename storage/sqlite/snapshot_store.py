"""The SQLite side of an arXiv snapshot import: one batch of papers and its checkpoint
in one transaction.

A paper whose arXiv id is stored already (a daily dump listed it, or the file repeats
it) is merged: what the stored paper lacks is filled in, nothing it has is replaced.
Every other paper is new, with no appearance on any day: digests and DMs list the
papers a dump listed on a day, so an import announces nothing. The checkpoint (the
next line's byte offset and the counts so far) is a `meta` row written in the same
transaction, so a killed import resumes exactly after its last committed batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import aiosqlite

from bot.core.dedupe import retired_titles
from bot.core.snapshot_import import (
    BatchVectors,
    ImportBatch,
    ImportCheckpoint,
    ImportCounts,
    PreparedPaper,
    new_papers_vocab,
)
from storage.sqlite.ingest_tx import chunks, placeholders

# Lookups by key in statements of this many values (SQLite's bound-parameter limit is
# far above it; larger statements stop being cached).
LOOKUP_CHUNK = 500


class SqliteSnapshotStore:
    if TYPE_CHECKING:  # provided by SqliteStorage

        def write(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...

        async def get_meta(self, key: str) -> str | None: ...

    async def import_batch(self, batch: ImportBatch) -> ImportCounts:
        """Write the batch's papers and its checkpoint in one transaction; the counts
        stored with it (the batch's new and merged papers added)."""
        counts = batch.checkpoint.counts
        async with self.write() as conn:
            existing = await _stored_ids(conn, [p.arxiv_id for p in batch.papers])
            new: list[PreparedPaper] = []
            positions: list[int] = []  # of the new papers in the batch
            merges: list[tuple[PreparedPaper, int]] = []
            seen: dict[str, int] = {}  # a paper repeated within the batch merges too
            for position, paper in enumerate(batch.papers):
                known = existing.get(paper.arxiv_id, seen.get(paper.arxiv_id))
                if known is None:
                    seen[paper.arxiv_id] = -1  # placeholder until ids are assigned
                    new.append(paper)
                    positions.append(position)
                else:
                    merges.append((paper, known))
            vocab = new_papers_vocab(batch.vocab, (paper for paper, _ in merges))
            ids = await _insert_new(conn, new, vocab)
            for paper, pid in zip(new, ids, strict=True):
                seen[paper.arxiv_id] = pid
            merges = [(p, pid if pid != -1 else seen[p.arxiv_id]) for p, pid in merges]
            await _merge(conn, merges)
            if batch.vectors is not None:
                found = batch.vectors.encode(list(zip(positions, ids, strict=True)))
                if found is not None:
                    batch.vectors.written(await _put_vectors(conn, found))
            counts.imported += len(new)
            counts.merged += len(merges)
            checkpoint = ImportCheckpoint(
                batch.checkpoint.fingerprint, batch.checkpoint.offset, counts, batch.checkpoint.done
            )
            await conn.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET"
                " value = excluded.value",
                (checkpoint.meta_key, checkpoint.meta_value()),
            )
        return counts


async def _put_vectors(conn: aiosqlite.Connection, found: BatchVectors) -> bool:
    """The vectors and the statistics counting them, unless another writer moved the
    statistics on (as `put_vectors` does, in the batch's transaction)."""
    if found.expected_version == 0:
        cur = await conn.execute(
            "INSERT INTO corpus_stats (id, version, stats) VALUES (1, ?, ?)"
            " ON CONFLICT (id) DO NOTHING",
            (found.new_version, found.stats),
        )
    else:
        cur = await conn.execute(
            "UPDATE corpus_stats SET version = ?, stats = ? WHERE id = 1 AND version = ?",
            (found.new_version, found.stats, found.expected_version),
        )
    if cur.rowcount != 1:
        return False
    await conn.executemany(
        "INSERT INTO paper_vectors (paper_id, vector) VALUES (?, ?)"
        " ON CONFLICT (paper_id) DO UPDATE SET vector = excluded.vector",
        found.vectors,
    )
    return True


async def _stored_ids(conn: aiosqlite.Connection, arxiv_ids: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in chunks(list(dict.fromkeys(arxiv_ids)), LOOKUP_CHUNK):
        sql = f"SELECT arxiv_id, id FROM papers WHERE arxiv_id IN ({placeholders(len(part))})"
        async with conn.execute(sql, tuple(part)) as cur:
            async for arxiv_id, pid in cur:
                found[arxiv_id] = pid
    return found


async def _insert_new(
    conn: aiosqlite.Connection, papers: list[PreparedPaper], vocab: list[tuple[str, int]]
) -> list[int]:
    """The new papers and every row hanging off them (`vocab`: their words and how many
    of them hold each); their ids, in order. Ids are MAX(id) + 1 onwards (we hold the
    write lock), as a dump's ingest assigns them."""
    if not papers:
        return []
    async with conn.execute("SELECT COALESCE(MAX(id), 0) FROM papers") as cur:
        row = await cur.fetchone()
    first = int(row[0]) + 1 if row else 1
    ids = list(range(first, first + len(papers)))
    await conn.executemany(
        "INSERT INTO papers (id, title, norm_title, abstract, arxiv_id, authors, published,"
        " first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                pid,
                p.title,
                p.norm_title,
                p.abstract,
                p.arxiv_id,
                p.authors_json,
                p.day,
                p.day,
                p.day,
            )
            for pid, p in zip(ids, papers, strict=True)
        ],
    )
    pairs = list(zip(ids, papers, strict=True))
    await conn.executemany(
        "INSERT OR IGNORE INTO paper_keys VALUES (?, ?)",
        [(key, pid) for pid, p in pairs for key in p.keys],
    )
    await conn.executemany(
        "INSERT OR IGNORE INTO title_blocks VALUES (?, ?)",
        [(block, pid) for pid, p in pairs for block in p.blocks],
    )
    await conn.executemany(
        "INSERT INTO paper_categories VALUES (?, ?, ?)",
        [(pid, c, n) for pid, p in pairs for n, c in enumerate(p.categories)],
    )
    await conn.executemany(
        "INSERT INTO paper_authors VALUES (?, ?, ?, ?)",
        [
            (pid, n, name, key)
            for pid, p in pairs
            for n, (name, key) in enumerate(zip(p.authors, p.author_keys, strict=True))
        ],
    )
    await conn.executemany(
        "INSERT INTO paper_topics VALUES (?, ?, ?, ?)",
        [(pid, topic, score, why) for pid, p in pairs for topic, score, why in p.topics],
    )
    await conn.executemany(
        "INSERT INTO vocab VALUES (?, ?) ON CONFLICT (term) DO UPDATE SET df = df + excluded.df",
        vocab,
    )
    return ids


async def _merge(conn: aiosqlite.Connection, merges: list[tuple[PreparedPaper, int]]) -> None:
    """Fill in what stored papers lack: an abstract, authors, categories, the arXiv
    date; a snapshot title other than the stored one becomes a searchable variant.
    Nothing the paper has is replaced, and it gains no appearance."""
    if not merges:
        return
    by_id = {pid: p for p, pid in merges}  # a paper repeated in the batch: the last wins
    stored: dict[int, tuple[Any, ...]] = {}
    for part in chunks(list(by_id), LOOKUP_CHUNK):
        marks = placeholders(len(part))
        async with conn.execute(
            "SELECT id, title, abstract, authors, published,"
            " EXISTS (SELECT 1 FROM paper_categories c WHERE c.paper_id = papers.id)"
            f" FROM papers WHERE id IN ({marks})",
            tuple(part),
        ) as cur:
            async for row in cur:
                stored[row[0]] = tuple(row)
    updates, variants, categories, authors, keys, topics, retopic = [], [], [], [], [], [], []
    for pid, p in sorted(by_id.items()):
        _, title, abstract, authors_json, published, has_categories = stored[pid]
        fill_abstract = not abstract and bool(p.abstract)
        fill_authors = authors_json in ("[]", "") and bool(p.authors)
        updates.append(
            (
                p.abstract if fill_abstract else abstract,
                p.authors_json if fill_authors else authors_json,
                published or p.day,
                pid,
            )
        )
        variants += [(pid, t) for t in retired_titles(title, (p.title,))]
        keys += [(key, pid) for key in p.keys]
        if not has_categories:
            categories += [(pid, c, n) for n, c in enumerate(p.categories)]
        if fill_authors:
            authors += [
                (pid, n, name, key)
                for n, (name, key) in enumerate(zip(p.authors, p.author_keys, strict=True))
            ]
        if fill_abstract:
            retopic.append((pid,))
            topics += [(pid, topic, score, why) for topic, score, why in p.topics]
    await conn.executemany(
        "UPDATE papers SET abstract = ?, authors = ?, published = ? WHERE id = ?", updates
    )
    await conn.executemany("INSERT OR IGNORE INTO paper_keys VALUES (?, ?)", keys)
    await conn.executemany("INSERT OR IGNORE INTO title_variants VALUES (?, ?)", variants)
    await conn.executemany("INSERT OR IGNORE INTO paper_categories VALUES (?, ?, ?)", categories)
    await conn.executemany(
        "DELETE FROM paper_authors WHERE paper_id = ?", [(a[0],) for a in authors]
    )
    await conn.executemany("INSERT OR IGNORE INTO paper_authors VALUES (?, ?, ?, ?)", authors)
    await conn.executemany("DELETE FROM paper_topics WHERE paper_id = ?", retopic)
    await conn.executemany("INSERT INTO paper_topics VALUES (?, ?, ?, ?)", topics)
