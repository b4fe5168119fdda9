"""Engine-only baselines over the same papers with the same query mix.

Both read the papers (and their topics and last-seen days) from the product's database
tables, which stay the source of truth whatever search engine the product uses, and
build their own index in a scratch folder, so they do not depend on the product's schema.

- ``fts5``: an FTS5 table exactly like paperbot's original one (external content,
  ``porter unicode61 remove_diacritics 2``) queried with raw SQL through the standard
  ``sqlite3`` module: quoted terms, ``bm25(papers_fts, 10.0, 1.0) ORDER BY rank LIMIT
  10``, topic/since as joins; every word first, any word when fewer than 10 match.
  No spelling correction, reranking, explanations or paper loading.
- ``tantivy``: BM25 top-10 over the same papers (title boosted ×10, English stemming),
  with topics and last-seen day indexed for the filters; same every-word-then-any-word
  rule. Skipped (None) when the ``tantivy`` package is not installed. It has no pair
  fields: paperbot's own index also stores adjacent common-word pairs, which its phrase
  queries walk, so the report says so next to every paperbot / tantivy ratio.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.queries import Query, query_mix
from bench.records import EngineTimes, Fts5Record, TantivyRecord
from bench.stats import Progress, by_class_p99, summary_ms
from bot.core.models import ParsedQuery
from bot.core.query import parse_query

LIMIT = 10
TITLE_BOOST = 10.0
SearchFn = Callable[[ParsedQuery, Query], int]


def _time_mix(search: SearchFn, repeat: int) -> tuple[list[tuple[str, float]], int]:
    mix = query_mix()
    parsed = [parse_query(q.text or "") for q in mix]
    for query, pq in zip(mix, parsed, strict=True):  # warm-up pass
        search(pq, query)
    samples: list[tuple[str, float]] = []
    hits = 0
    for _ in range(repeat):
        for query, pq in zip(mix, parsed, strict=True):
            start = time.perf_counter()
            hits += search(pq, query)
            samples.append((query.cls, time.perf_counter() - start))
    return samples, hits


def _summarise(samples: Sequence[tuple[str, float]], hits: int) -> EngineTimes:
    total = summary_ms([s for _, s in samples])
    classes = by_class_p99(samples)
    return {
        "p50_ms": total["p50"],
        "p95_ms": total["p95"],
        "p99_ms": total["p99"],
        "common_word_p99_ms": classes.get("common"),
        "class_p99_ms": classes,
        "hits_per_query": round(hits / len(samples), 1) if samples else None,
    }


# -- FTS5 ---------------------------------------------------------------------------------
FTS5_SCHEMA = [
    "CREATE TABLE papers (id INTEGER PRIMARY KEY, title TEXT NOT NULL,"
    " abstract TEXT NOT NULL, last_seen TEXT NOT NULL)",
    "CREATE TABLE paper_topics (paper_id INTEGER NOT NULL, topic TEXT NOT NULL,"
    " PRIMARY KEY (paper_id, topic)) WITHOUT ROWID",
    "CREATE INDEX paper_topics_topic ON paper_topics(topic)",
    "CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract, content='papers',"
    " content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
]


def match_expression(query: ParsedQuery, *, match_all: bool) -> str | None:
    """Every token double-quoted (inner quotes doubled), so nothing is FTS5 syntax."""

    def quote(token: str) -> str:
        return '"' + token.replace('"', '""') + '"'

    parts = [quote(term) for term in query.terms if term]
    parts += [quote(prefix) + "*" for prefix in query.prefixes if prefix]
    parts += [quote(" ".join(phrase)) for phrase in query.phrases if phrase]
    if not parts:
        return None
    return (" AND " if match_all else " OR ").join(parts)


def build_fts5(db_path: str, target: Path) -> float:
    """Copy the papers and topics into ``target`` and index them; returns seconds."""
    start = time.perf_counter()
    conn = sqlite3.connect(f"file:{target}", uri=True)  # URIs on, for the read-only ATTACH
    try:
        for statement in FTS5_SCHEMA:
            conn.execute(statement)
        conn.execute("ATTACH DATABASE ? AS src", (f"file:{db_path}?mode=ro",))
        conn.execute("INSERT INTO papers SELECT id, title, abstract, last_seen FROM src.papers")
        conn.execute("INSERT INTO paper_topics SELECT paper_id, topic FROM src.paper_topics")
        conn.execute("INSERT INTO papers_fts(papers_fts) VALUES ('rebuild')")
        conn.commit()
        conn.execute("DETACH DATABASE src")
    finally:
        conn.close()
    return time.perf_counter() - start


def empty_fts5_result() -> Fts5Record:
    return {
        "fts5_p50_ms": None,
        "fts5_p95_ms": None,
        "fts5_p99_ms": None,
        "fts5_common_word_p99_ms": None,
        "fts5_class_p99_ms": None,
        "fts5_hits_per_query": None,
        "fts5_index_build_s": None,
    }


def measure_fts5(
    db_path: str, newest: dt.date, repeat: int, progress: Progress, scratch: Path
) -> Fts5Record:
    progress("baseline fts5: building the index")
    target = scratch / "fts5-baseline.db"
    build_seconds = build_fts5(db_path, target)
    conn = sqlite3.connect(target)
    try:

        def search(pq: ParsedQuery, query: Query) -> int:
            joins, params = "", []
            if query.topic is not None:
                joins += " JOIN paper_topics t ON t.paper_id = f.rowid AND t.topic = ?"
                params.append(query.topic)
            since = query.since(newest)
            if since is not None:
                joins += " JOIN papers p ON p.id = f.rowid AND p.last_seen >= ?"
                params.append(since.isoformat())
            rows: list[Any] = []
            for match_all in (True, False):
                expression = match_expression(pq, match_all=match_all)
                if expression is None:
                    return 0
                rows = conn.execute(
                    f"SELECT f.rowid, bm25(papers_fts, {TITLE_BOOST}, 1.0) AS rank"
                    f" FROM papers_fts f{joins} WHERE papers_fts MATCH ?"
                    " ORDER BY rank LIMIT ?",
                    [*params, expression, LIMIT],
                ).fetchall()
                if len(rows) >= LIMIT:
                    break
            return len(rows)

        progress(f"baseline fts5: index built in {build_seconds:.1f}s; searching")
        samples, hits = _time_mix(search, repeat)
    finally:
        conn.close()
        target.unlink(missing_ok=True)
    times = _summarise(samples, hits)
    return {
        "fts5_p50_ms": times["p50_ms"],
        "fts5_p95_ms": times["p95_ms"],
        "fts5_p99_ms": times["p99_ms"],
        "fts5_common_word_p99_ms": times["common_word_p99_ms"],
        "fts5_class_p99_ms": times["class_p99_ms"],
        "fts5_hits_per_query": times["hits_per_query"],
        "fts5_index_build_s": round(build_seconds, 2),
    }


# -- tantivy ------------------------------------------------------------------------------
def tantivy_available() -> bool:
    try:
        import tantivy  # noqa: F401
    except ImportError:
        return False
    return True


def empty_tantivy_result() -> TantivyRecord:
    return {
        "tantivy_p50_ms": None,
        "tantivy_p95_ms": None,
        "tantivy_p99_ms": None,
        "tantivy_common_word_p99_ms": None,
        "tantivy_hits_per_query": None,
        "tantivy_class_p99_ms": None,
        "tantivy_index_build_s": None,
        "tantivy_version": None,
    }


def measure_tantivy(
    db_path: str, newest: dt.date, repeat: int, progress: Progress, scratch: Path | None = None
) -> TantivyRecord:
    import tantivy

    folder = tempfile.mkdtemp(prefix="tantivy-baseline-", dir=scratch)
    try:
        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("id", stored=True, indexed=True)
        builder.add_text_field("title", tokenizer_name="en_stem")
        builder.add_text_field("abstract", tokenizer_name="en_stem")
        builder.add_text_field("topics", tokenizer_name="raw")
        builder.add_integer_field("last_seen", indexed=True, fast=True)
        schema = builder.build()
        index = tantivy.Index(schema, path=folder)
        progress("baseline tantivy: building the index")
        start = time.perf_counter()
        _fill(index, db_path)
        build_seconds = time.perf_counter() - start
        searcher = index.searcher()
        fields = ["title", "abstract"]
        boosts = {"title": TITLE_BOOST}

        def text_query(pq: ParsedQuery, match_all: bool) -> Any:
            quoted = [f'"{t}"' for t in pq.terms]
            quoted += ['"' + " ".join(phrase) + '"' for phrase in pq.phrases]
            parts = []
            if quoted:
                parts.append(
                    index.parse_query(
                        " ".join(quoted),
                        fields,
                        field_boosts=boosts,
                        conjunction_by_default=match_all,
                    )
                )
            for prefix in pq.prefixes:
                pattern = _regex_escape(prefix) + ".*"
                title = tantivy.Query.regex_query(schema, "title", pattern)
                parts.append(
                    tantivy.Query.boolean_query(
                        [
                            (tantivy.Occur.Should, tantivy.Query.boost_query(title, TITLE_BOOST)),
                            (
                                tantivy.Occur.Should,
                                tantivy.Query.regex_query(schema, "abstract", pattern),
                            ),
                        ]
                    )
                )
            occur = tantivy.Occur.Must if match_all else tantivy.Occur.Should
            return tantivy.Query.boolean_query([(occur, p) for p in parts]) if parts else None

        def search(pq: ParsedQuery, query: Query) -> int:
            filters = []
            if query.topic is not None:
                filters.append(tantivy.Query.term_query(schema, "topics", query.topic))
            since = query.since(newest)
            if since is not None:
                filters.append(
                    tantivy.Query.range_query(
                        schema,
                        "last_seen",
                        tantivy.FieldType.Integer,
                        since.toordinal(),
                        10**9,
                        True,
                        True,
                    )
                )
            ids: list[int] = []
            for match_all in (True, False):
                text = text_query(pq, match_all)
                if text is None:
                    return 0
                must = [(tantivy.Occur.Must, q) for q in (text, *filters)]
                found = searcher.search(tantivy.Query.boolean_query(must), LIMIT)
                ids = [searcher.doc(address)["id"][0] for _, address in found.hits]
                if len(ids) >= LIMIT:
                    break
            return len(ids)

        progress(f"baseline tantivy: index built in {build_seconds:.1f}s; searching")
        samples, hits = _time_mix(search, repeat)
        times = _summarise(samples, hits)
        return {
            "tantivy_p50_ms": times["p50_ms"],
            "tantivy_p95_ms": times["p95_ms"],
            "tantivy_p99_ms": times["p99_ms"],
            "tantivy_common_word_p99_ms": times["common_word_p99_ms"],
            "tantivy_class_p99_ms": times["class_p99_ms"],
            "tantivy_hits_per_query": times["hits_per_query"],
            "tantivy_index_build_s": round(build_seconds, 2),
            "tantivy_version": getattr(tantivy, "__version__", "unknown"),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fill(index: Any, db_path: str) -> None:
    import tantivy

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        topics: dict[int, list[str]] = {}
        for pid, topic in conn.execute("SELECT paper_id, topic FROM paper_topics"):
            topics.setdefault(pid, []).append(topic)
        writer = index.writer(heap_size=128_000_000, num_threads=1)
        cursor = conn.execute("SELECT id, title, abstract, last_seen FROM papers ORDER BY id")
        for pid, title, abstract, last_seen in cursor:
            doc = tantivy.Document(
                id=pid,
                title=title,
                abstract=abstract,
                last_seen=dt.date.fromisoformat(last_seen).toordinal(),
            )
            for topic in topics.get(pid, ()):
                doc.add_text("topics", topic)
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
    finally:
        conn.close()
    index.reload()


def _regex_escape(text: str) -> str:
    return "".join(c if c.isalnum() else "\\" + c for c in text)
