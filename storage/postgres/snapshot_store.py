"""The PostgreSQL side of an arXiv snapshot import: one batch of papers and its
checkpoint in one transaction, written with COPY.

The same rules as storage/sqlite/snapshot_store.py: a paper whose arXiv id is stored
already is merged (what it lacks filled in, nothing it has replaced); every other paper
is new, with no appearance on any day, so an import announces nothing. The checkpoint
is a `meta` row of the same transaction.

New papers' ids are MAX(id) + 1 onwards under the papers advisory lock, not the
sequence's next values: nextval is not rolled back, so a killed batch would leave a
gap and a resumed import would number its papers differently from an uninterrupted
one. The sequence is moved past them in the same transaction, for later ingests.

New rows go in with COPY (binary, no per-row statement): straight into the tables
where the batch's rows cannot collide with stored ones (fresh ids), and through a
temporary table then INSERT ... SELECT ... ON CONFLICT where they may (title keys,
the spelling vocabulary).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from asyncpg.pool import PoolConnectionProxy

from bot.core.dedupe import retired_titles
from bot.core.rank import title_name
from bot.core.snapshot_import import (
    BatchVectors,
    ImportBatch,
    ImportCheckpoint,
    ImportCounts,
    PreparedPaper,
    new_papers_vocab,
)

PAPER_COLUMNS = (
    "id",
    "title",
    "norm_title",
    "abstract",
    "arxiv_id",
    "authors",
    "published",
    "first_seen",
    "last_seen",
    "short_name",
)


class PostgresSnapshotStore:
    # Papers were imported by this process: the planner's statistics are stale.
    _imported_papers = False

    if TYPE_CHECKING:  # provided by PostgresStorage

        def write(
            self, *, papers: bool = False
        ) -> AbstractAsyncContextManager[PoolConnectionProxy]: ...

        async def get_meta(self, key: str) -> str | None: ...

    async def import_batch(self, batch: ImportBatch) -> ImportCounts:
        """Write the batch's papers and its checkpoint in one transaction; the counts
        stored with it (the batch's new and merged papers added)."""
        counts = batch.checkpoint.counts
        async with self.write(papers=True) as conn:
            existing = {
                arxiv_id: pid
                for arxiv_id, pid in await conn.fetch(
                    "SELECT arxiv_id, id FROM papers WHERE arxiv_id = ANY($1::text[])",
                    list(dict.fromkeys(p.arxiv_id for p in batch.papers)),
                )
            }
            new: list[PreparedPaper] = []
            positions: list[int] = []  # of the new papers in the batch
            merges: list[tuple[PreparedPaper, str]] = []
            fresh: set[str] = set()  # a paper repeated within the batch merges too
            for position, paper in enumerate(batch.papers):
                if paper.arxiv_id in existing or paper.arxiv_id in fresh:
                    merges.append((paper, paper.arxiv_id))
                else:
                    fresh.add(paper.arxiv_id)
                    new.append(paper)
                    positions.append(position)
            vocab = new_papers_vocab(batch.vocab, (paper for paper, _ in merges))
            ids = await _insert_new(conn, new, vocab)
            existing.update((p.arxiv_id, pid) for p, pid in zip(new, ids, strict=True))
            await _merge(conn, [(p, existing[arxiv_id]) for p, arxiv_id in merges])
            if batch.vectors is not None:
                found = batch.vectors.encode(list(zip(positions, ids, strict=True)))
                if found is not None:
                    batch.vectors.written(await _put_vectors(conn, found))
            counts.imported += len(new)
            counts.merged += len(merges)
            self._imported_papers = self._imported_papers or bool(batch.papers)
            checkpoint = ImportCheckpoint(
                batch.checkpoint.fingerprint, batch.checkpoint.offset, counts, batch.checkpoint.done
            )
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET"
                " value = excluded.value",
                checkpoint.meta_key,
                checkpoint.meta_value(),
            )
        return counts

    async def sync_search_index(self) -> int:
        """The tsvector column and its GIN index change in the writing transaction, so
        there is no index to catch up (0). After an import, the tables' statistics are
        refreshed (ANALYZE): autovacuum would get there later, and until then the
        planner judges a million-row table by the statistics of the few rows it had."""
        if self._imported_papers:
            async with self.write() as conn:
                await conn.execute(
                    "ANALYZE papers, paper_keys, title_blocks, paper_categories,"
                    " paper_authors, paper_topics, vocab"
                )
            self._imported_papers = False
        return 0

    async def papers_without_vectors(self, limit: int = 500) -> list[int]:
        """Papers past the newest vector first: a catch-up after a bulk import asks for
        them batch after batch, and an anti-join over every paper for each batch grows
        with the square of the corpus. Gaps below it (rare) are found by the anti-join
        once the tail is done."""
        async with self.write() as conn:
            rows = await conn.fetch(
                "SELECT id FROM papers WHERE id > (SELECT COALESCE(MAX(paper_id), 0)"
                " FROM paper_vectors) ORDER BY id LIMIT $1",
                limit,
            )
            if not rows:
                rows = await conn.fetch(
                    "SELECT p.id FROM papers p WHERE NOT EXISTS (SELECT 1 FROM paper_vectors v"
                    " WHERE v.paper_id = p.id) ORDER BY p.id LIMIT $1",
                    limit,
                )
        return [row[0] for row in rows]


async def _put_vectors(conn: PoolConnectionProxy, found: BatchVectors) -> bool:
    """The vectors and the statistics counting them, unless another writer moved the
    statistics on (as `put_vectors` does, in the batch's transaction)."""
    if found.expected_version == 0:
        status = await conn.execute(
            "INSERT INTO corpus_stats (id, version, stats) VALUES (1, $1, $2)"
            " ON CONFLICT (id) DO NOTHING",
            found.new_version,
            found.stats,
        )
    else:
        status = await conn.execute(
            "UPDATE corpus_stats SET version = $1, stats = $2 WHERE id = 1 AND version = $3",
            found.new_version,
            found.stats,
            found.expected_version,
        )
    if not status.endswith(" 1"):  # "INSERT 0 1" / "UPDATE 1": the row was written
        return False
    await conn.copy_records_to_table(
        "paper_vectors", columns=["paper_id", "vector"], records=found.vectors
    )
    return True


async def _copy_new(
    conn: PoolConnectionProxy,
    table: str,
    columns: Sequence[str],
    records: list[tuple[Any, ...]],
    conflict: str = "ON CONFLICT DO NOTHING",
) -> None:
    """`records` into `table` through a temporary table, so that rows colliding with
    stored ones follow `conflict`; in the records' order (the first of two equal keys
    wins, as SQLite's INSERT OR IGNORE in order does)."""
    if not records:
        return
    staging = f"import_{table}"
    names = ", ".join(columns)
    # One per connection, kept for the next batch; `n` is the records' order.
    await conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {staging} AS"
        f" SELECT {names}, 0::bigint AS n FROM {table} WITH NO DATA"
    )
    await conn.execute(f"TRUNCATE {staging}")
    await conn.copy_records_to_table(
        staging,
        records=[(*record, n) for n, record in enumerate(records)],
        columns=[*columns, "n"],
    )
    await conn.execute(
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} ORDER BY n {conflict}"
    )


async def _insert_new(
    conn: PoolConnectionProxy, papers: list[PreparedPaper], terms: list[tuple[str, int]]
) -> list[int]:
    """The new papers and every row hanging off them (`terms`: their words and how many
    of them hold each); their ids, in order."""
    if not papers:
        return []
    first = int(await conn.fetchval("SELECT COALESCE(MAX(id), 0) FROM papers")) + 1
    ids = list(range(first, first + len(papers)))
    pairs = list(zip(ids, papers, strict=True))
    await conn.copy_records_to_table(
        "papers",
        columns=list(PAPER_COLUMNS),
        records=[
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
                title_name(p.title),
            )
            for pid, p in pairs
        ],
    )
    # Later ingests take ids from the sequence: past every id written here.
    await conn.execute(
        "SELECT setval(pg_get_serial_sequence('papers', 'id'),"
        " GREATEST($1::bigint, (SELECT last_value FROM papers_id_seq)))",
        ids[-1],
    )
    await _copy_new(
        conn, "paper_keys", ("key", "paper_id"), [(k, pid) for pid, p in pairs for k in p.keys]
    )
    # Fresh ids: nothing stored can collide with these rows, so they go straight in.
    await conn.copy_records_to_table(
        "title_blocks",
        columns=["block", "paper_id"],
        records=list(dict.fromkeys((b, pid) for pid, p in pairs for b in p.blocks)),
    )
    await conn.copy_records_to_table(
        "paper_categories",
        columns=["paper_id", "category", "position"],
        records=[(pid, c, n) for pid, p in pairs for n, c in enumerate(p.categories)],
    )
    await conn.copy_records_to_table(
        "paper_authors",
        columns=["paper_id", "position", "name", "name_key"],
        records=[
            (pid, n, name, key)
            for pid, p in pairs
            for n, (name, key) in enumerate(zip(p.authors, p.author_keys, strict=True))
        ],
    )
    await conn.copy_records_to_table(
        "paper_topics",
        columns=["paper_id", "topic", "score", "why"],
        records=[(pid, topic, score, why) for pid, p in pairs for topic, score, why in p.topics],
    )
    await conn.execute(
        "INSERT INTO vocab (term, df) SELECT * FROM unnest($1::text[], $2::bigint[])"
        " ON CONFLICT (term) DO UPDATE SET df = vocab.df + excluded.df",
        [t for t, _ in terms],
        [n for _, n in terms],
    )
    return ids


async def _merge(conn: PoolConnectionProxy, merges: list[tuple[PreparedPaper, int]]) -> None:
    """Fill in what stored papers lack: an abstract, authors, categories, the arXiv
    date; a snapshot title other than the stored one becomes a searchable variant.
    Nothing the paper has is replaced, and it gains no appearance."""
    if not merges:
        return
    by_id = {pid: p for p, pid in merges}  # a paper repeated in the batch: the last wins
    stored = {
        row[0]: tuple(row)
        for row in await conn.fetch(
            "SELECT id, title, abstract, authors, published,"
            " EXISTS (SELECT 1 FROM paper_categories c WHERE c.paper_id = papers.id)"
            " FROM papers WHERE id = ANY($1::bigint[])",
            list(by_id),
        )
    }
    updates, variants, categories, authors, keys, topics = [], [], [], [], [], []
    reauthor: list[int] = []
    retopic: list[int] = []
    for pid, p in sorted(by_id.items()):
        _, title, abstract, authors_json, published, has_categories = stored[pid]
        fill_abstract = not abstract and bool(p.abstract)
        fill_authors = authors_json in ("[]", "") and bool(p.authors)
        updates.append(
            (
                pid,
                p.abstract if fill_abstract else abstract,
                p.authors_json if fill_authors else authors_json,
                published or p.day,
            )
        )
        variants += [(pid, t) for t in retired_titles(title, (p.title,))]
        keys += [(key, pid) for key in p.keys]
        if not has_categories:
            categories += [(pid, c, n) for n, c in enumerate(p.categories)]
        if fill_authors:
            reauthor.append(pid)
            authors += [
                (pid, n, name, key)
                for n, (name, key) in enumerate(zip(p.authors, p.author_keys, strict=True))
            ]
        if fill_abstract:
            retopic.append(pid)
            topics += [(pid, topic, score, why) for topic, score, why in p.topics]
    await conn.execute(
        "UPDATE papers SET abstract = u.abstract, authors = u.authors, published = u.published"
        " FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])"
        " AS u(id, abstract, authors, published) WHERE papers.id = u.id"
        " AND (papers.abstract, papers.authors, papers.published)"
        " IS DISTINCT FROM (u.abstract, u.authors, u.published)",
        *_columns(updates, 4),
    )
    await _copy_new(conn, "paper_keys", ("key", "paper_id"), keys)
    # A trigger adds the variants to the paper's searchable text (migration 004).
    await _copy_new(conn, "title_variants", ("paper_id", "title"), variants)
    await _copy_new(conn, "paper_categories", ("paper_id", "category", "position"), categories)
    if reauthor:
        await conn.execute("DELETE FROM paper_authors WHERE paper_id = ANY($1::bigint[])", reauthor)
    await _copy_new(conn, "paper_authors", ("paper_id", "position", "name", "name_key"), authors)
    if retopic:
        await conn.execute("DELETE FROM paper_topics WHERE paper_id = ANY($1::bigint[])", retopic)
    await _copy_new(
        conn,
        "paper_topics",
        ("paper_id", "topic", "score", "why"),
        topics,
    )


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows -> one list per column, for unnest() over array parameters."""
    return [[row[i] for row in rows] for i in range(width)]
