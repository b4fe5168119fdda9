"""The search engine for the SQLite backend: a tantivy index derived from the database.

SQLite stays the source of truth. Every change to a paper's searchable fields is logged
in `paper_changes` (by triggers, in the same transaction as the change); the index
applies changes up to a sequence number and only then records that number, the
watermark, in SQLite. A crash anywhere leaves the watermark at or behind the index, and
re-applying a change is idempotent (documents are replaced by paper id), so catching up
at the next search or ingest never loses or duplicates a paper.

Why tantivy: FTS5's bm25 scores every matching row, so a common word costs time in
proportion to the corpus (200 ms at 100k papers); tantivy's block-max WAND does not.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import tantivy

from bot.core.models import ParsedQuery
from bot.core.text import words

log = logging.getLogger("paperbot.search_index")

SCHEMA_VERSION = "3"  # bump when the schema below changes: the index is then rebuilt
TITLE_BOOST = 10.0  # a title hit counts ten abstract hits, as with bm25 weights before
WRITER_HEAP = 64_000_000
EPOCH = dt.date(1970, 1, 1)
# Autocomplete looks the half-typed last word up as one term: every title word is also
# indexed as its beginnings (`p pr pro ... protein`), up to this many characters. A
# longer typed word is cut to it (more candidates; rapidfuzz orders them anyway).
PREFIX_CHARS = 12
_ALNUM = re.compile(r"^[^\W_]+$")


@dataclass(frozen=True)
class IndexedPaper:
    id: int
    title: str
    abstract: str
    topics: tuple[str, ...]
    name: str | None
    last_seen: dt.date


class IndexBusy(Exception):
    """Another process holds the index writer; try again later."""


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", indexed=True, fast=True)
    builder.add_text_field("title", tokenizer_name="en_stem")
    builder.add_text_field("abstract", tokenizer_name="en_stem")
    builder.add_text_field("topics", tokenizer_name="raw")
    builder.add_text_field("name", tokenizer_name="raw")
    # Lower-cased title words and their beginnings, space-separated (see title_prefixes);
    # no positions: autocomplete never asks for phrases.
    builder.add_text_field("title_prefix", tokenizer_name="whitespace", index_option="freq")
    builder.add_integer_field("last_seen", indexed=True, fast=True)
    return builder.build()


class SearchIndex:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.schema = _schema()
        version_file = folder / "paperbot-index-version"
        fresh = not (folder.is_dir() and version_file.is_file())
        if not fresh and version_file.read_text().strip() != SCHEMA_VERSION:
            log.info("search index format changed; rebuilding it")
            fresh = True
        if fresh and folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(folder))
        if fresh:
            version_file.write_text(SCHEMA_VERSION)
        self.created = fresh  # the caller must reindex everything (watermark 0)
        self._open_writer: tantivy.IndexWriter | None = None

    # -- writing ------------------------------------------------------------------------
    def _writer(self) -> tantivy.IndexWriter:
        """The process keeps tantivy's writer once it has it (opening one costs more
        than a day's indexing); a process that cannot get it leaves indexing to the
        holder, whose next catch-up covers every change."""
        if self._open_writer is None:
            try:
                self._open_writer = self.index.writer(heap_size=WRITER_HEAP, num_threads=1)
            except ValueError as exc:  # tantivy's LockBusy: another process is indexing
                raise IndexBusy(str(exc)) from None
        return self._open_writer

    def apply(self, papers: Iterable[IndexedPaper], removed: Iterable[int] = ()) -> None:
        """Replace these papers' documents (and drop removed ones), then commit."""
        writer = self._writer()
        try:
            for paper_id in removed:
                writer.delete_documents_by_term("id", paper_id)
            for paper in papers:
                writer.delete_documents_by_term("id", paper.id)
                writer.add_document(_document(paper))
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        self.index.reload()

    def clear(self) -> None:
        writer = self._writer()
        writer.delete_all_documents()
        writer.commit()
        self.index.reload()

    def close(self) -> None:
        """Release the writer (and its lock) so another process can index."""
        if self._open_writer is not None:
            writer, self._open_writer = self._open_writer, None
            writer.wait_merging_threads()

    # -- reading ------------------------------------------------------------------------
    def refresh(self) -> None:
        """See commits made by other processes."""
        self.index.reload()

    def doc_count(self) -> int:
        return self.index.searcher().num_docs

    def all_ids(self) -> list[int]:
        """Every indexed paper id (for consistency checks and tests)."""
        searcher = self.index.searcher()
        hits = searcher.search(tantivy.Query.all_query(), max(searcher.num_docs, 1)).hits
        return [int(i) for i in searcher.fast_field_values("id", [a for _, a in hits])]

    def search(
        self,
        query: ParsedQuery,
        *,
        match_all: bool,
        topic: str | None,
        since: dt.date | None,
        limit: int,
        fields: Sequence[str] = ("title", "abstract"),
    ) -> list[tuple[int, float]]:
        text = self._text_query(query, match_all, fields)
        if text is None:
            return []
        clauses = [(tantivy.Occur.Must, text), *self._filters(topic, since)]
        final = text if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)
        return self._run(final, limit)

    def title_search(self, typed: Sequence[str], *, match_all: bool, limit: int) -> list[int]:
        """Papers whose title has a word starting with each (or any) of the `typed`
        words, best BM25 first: what autocomplete offers while a title is being typed."""
        occur = tantivy.Occur.Must if match_all else tantivy.Occur.Should
        clauses = [
            (occur, tantivy.Query.term_query(self.schema, "title_prefix", w[:PREFIX_CHARS]))
            for w in dict.fromkeys(typed)
            if w
        ]
        if not clauses:
            return []
        return [pid for pid, _ in self._run(tantivy.Query.boolean_query(clauses), limit)]

    def by_name(self, names: Iterable[str], limit: int = 20) -> list[int]:
        clauses = [
            (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "name", n))
            for n in dict.fromkeys(names)
            if n
        ]
        if not clauses:
            return []
        return [pid for pid, _ in self._run(tantivy.Query.boolean_query(clauses), limit)]

    def _run(self, query: tantivy.Query, limit: int) -> list[tuple[int, float]]:
        searcher = self.index.searcher()
        hits = searcher.search(query, limit, count=False).hits
        if not hits:
            return []
        ids = searcher.fast_field_values("id", [address for _, address in hits])
        return [(int(pid), float(score)) for (score, _), pid in zip(hits, ids, strict=True)]

    def _text_query(
        self, query: ParsedQuery, match_all: bool, fields: Sequence[str]
    ) -> tantivy.Query | None:
        occur = tantivy.Occur.Must if match_all else tantivy.Occur.Should
        clauses = []
        boosts = {"title": TITLE_BOOST} if "title" in fields else {}
        # Terms and phrases are words of letters and digits only (bot.core.query), so
        # quoting them cannot form query syntax; the parser applies the field's stemmer.
        quoted = [f'"{t}"' for t in query.terms if _ALNUM.match(t)]
        quoted += [
            '"' + " ".join(w for w in p if _ALNUM.match(w)) + '"'
            for p in query.phrases
            if any(_ALNUM.match(w) for w in p)
        ]
        for item in quoted:
            clauses.append((occur, self.index.parse_query(item, list(fields), boosts)))
        for prefix in query.prefixes:
            if not _ALNUM.match(prefix):
                continue
            pattern = re.escape(prefix.casefold()) + ".*"
            either = [
                (
                    tantivy.Occur.Should,
                    tantivy.Query.boost_query(
                        tantivy.Query.regex_query(self.schema, field, pattern),
                        TITLE_BOOST if field == "title" else 1.0,
                    ),
                )
                for field in fields
            ]
            clauses.append((occur, tantivy.Query.boolean_query(either)))
        if not clauses:
            return None
        return tantivy.Query.boolean_query(clauses)

    def _filters(
        self, topic: str | None, since: dt.date | None
    ) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        filters = []
        if topic is not None:
            term = tantivy.Query.term_query(self.schema, "topics", topic)
            filters.append((tantivy.Occur.Must, tantivy.Query.const_score_query(term, 0.0)))
        if since is not None:
            days = tantivy.Query.range_query(
                self.schema, "last_seen", tantivy.FieldType.Integer, (since - EPOCH).days, None
            )
            filters.append((tantivy.Occur.Must, tantivy.Query.const_score_query(days, 0.0)))
        return filters


def _document(paper: IndexedPaper) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_integer("id", paper.id)
    doc.add_text("title", paper.title)
    doc.add_text("abstract", paper.abstract)
    for topic in paper.topics:
        doc.add_text("topics", topic)
    if paper.name:
        doc.add_text("name", paper.name)
    doc.add_text("title_prefix", title_prefixes(paper.title))
    doc.add_integer("last_seen", (paper.last_seen - EPOCH).days)
    return doc


def title_prefixes(title: str) -> str:
    """`Protein LMs` -> `p pr pro prot ... protein l lm lms`: each distinct word of the
    title (as `bot.core.text.words` splits it) and all its beginnings."""
    out: set[str] = set()
    for word in words(title):
        out.update(word[:n] for n in range(1, min(len(word), PREFIX_CHARS) + 1))
    return " ".join(out)
