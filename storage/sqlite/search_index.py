"""The search engine for the SQLite backend: a tantivy index derived from the database.

SQLite stays the source of truth. Every change to a paper's searchable fields is logged
in `paper_changes` (by triggers, in the same transaction as the change); the index
applies changes up to a sequence number and only then records that number, the
watermark, in SQLite. A crash anywhere leaves the watermark at or behind the index, and
re-applying a change is idempotent (documents are replaced by paper id), so catching up
at the next search or ingest never loses or duplicates a paper.

Why tantivy: both score every matching paper (tantivy's Python binding never skips
blocks: docs/PERFORMANCE.md), but FTS5 calls its bm25() for each matching row, 200 ms
for a common word at 100k papers, where tantivy scores a posting in 9-16 ns.

Phrases over common words (`"language model"`) were the slow queries left: tantivy
checks positions in every paper holding all the words. So adjacent pairs of common words
(a fixed list, `bot/data/common_words.txt`, stop words excluded) are also indexed as
single terms, at the first word's position. A phrase made only of such pairs, where its
pairs are much rarer than its words, walks the short pair postings, intersected with the
ordinary phrase query, which alone scores: results and scores are the plain phrase
query's. In abstracts, pairs with a rarer word are not indexed: a phrase through a rare
word is already cheap. (Indexing every pair of abstracts too made the index 3x larger
and indexing 4x slower.) A lone such phrase goes further: the pairs rank candidates,
and the plain phrase query scores only those (storage/sqlite/rescoring.py); so does a
lone phrase with a word in most abstracts (`"state of the art"`), through its other
words, with a bound that shows the candidates hold its best papers.

Titles have every adjacent pair indexed, whatever its words, and so has the title as
written (case-folded, split at whitespace): autocomplete's half-typed last word
(`Models L`, `To Self-`) is then a prefix of pair terms (`model l...`), found in the
term dictionary, instead of a phrase-prefix query checking positions in every title
holding `model` (55 ms at 1M papers).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import itertools
import logging
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tantivy

from bot.core.models import ParsedQuery
from bot.core.sources import ALL_SOURCES, SourceFilter, category_terms, search_sources
from storage.sqlite.common_words import (
    COMMON_WORDS_MATCHES,
    COMMON_WORDS_SHARE,
    ONE_WORD_MATCHES,
    TITLE_CANDIDATES,
    CommonWordsSearch,
)
from storage.sqlite.index_terms import (
    _ALNUM,
    PAIR_FIELDS,
    PREFIX_CHARS,
    TITLE_BOOST,
    WRITTEN_PAIRS,
    _ids,
    _literal,
    _matched,
    _title_pair,
    _words,
    phrase_pairs,
    recency,
    stem_tokens,
    title_prefixes,
    word_pairs,
    written_pairs,
)
from storage.sqlite.lone_phrase import (
    COSTLY_PHRASE_PAPERS,
    MIN_PAIR_CANDIDATES,
    SPARSE_PHRASE_PAPERS,
    LonePhraseSearch,
)
from storage.sqlite.prefix_terms import MAX_PREFIX_TERMS, prefix_query

log = logging.getLogger("paperbot.search_index")

INCOMPLETE_MARKER = "paperbot-index-incomplete"  # a rebuild not yet caught up
SCHEMA_VERSION = "8"  # bump when the schema below or what it holds changes: rebuilt
WRITER_HEAP = 64_000_000
# Catching up a large backlog (a snapshot import): a writer with both cores and a large
# heap, committing rarely. The heap is split between its threads; tantivy flushes a
# segment whenever a thread's share fills, so memory stays bounded.
BULK_HEAP = 384_000_000
BULK_THREADS = 2
EPOCH = dt.date(1970, 1, 1)
# Autocomplete's "titles holding any typed word" leaves out a word beginning a word in
# more than this share of all titles (see SearchIndex._telling_prefixes).
COMMON_PREFIX_SHARE = 0.05
# A phrase goes through its pairs in a field when its rarest pair is in at most this
# share of the papers holding its rarest word (measured at 100k: `"language model"`,
# 0.3, took half the time; `"fine tuning"`, 0.95, two thirds more).
PAIRS_NARROW = 0.5


@dataclass(frozen=True)
class IndexedPaper:
    id: int
    title: str
    abstract: str
    topics: tuple[str, ...]
    name: str | None
    last_seen: dt.date
    # Earlier titles of the paper: indexed as more values of `title` (each its own run
    # of positions, so no phrase spans two titles), so a search for one finds it.
    variants: tuple[str, ...] = ()
    # Every source that ever listed it (`hf`, `arxiv`) and its arXiv categories: what a
    # search's source filter asks of the index.
    sources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    # HF's AI keywords: more values of `abstract` (each its own run of positions), so
    # they are found and weigh as abstract words do.
    keywords: tuple[str, ...] = ()


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
    # The title case-folded, split only at whitespace (`language`, `model:`), with
    # positions: a fragment typed with its punctuation (`Language Model:`) is found as
    # written among the thousands of titles holding its words.
    builder.add_text_field("title_written", tokenizer_name="whitespace")
    # Adjacent pairs of those (`language model:`), pre-tokenized by written_pairs: a
    # fragment typed with its punctuation and a half-typed last word (`To Self-`).
    builder.add_text_field(WRITTEN_PAIRS, tokenizer_name="raw", index_option="position")
    # Adjacent word pairs (`languag model`), pre-tokenized by word_pairs: every pair in
    # titles, common-word pairs only in abstracts. With positions, so a longer phrase
    # is a phrase of pairs. Never scored.
    for field in PAIR_FIELDS.values():
        builder.add_text_field(field, tokenizer_name="raw", index_option="position")
    builder.add_integer_field("last_seen", indexed=True, fast=True)
    builder.add_text_field("sources", tokenizer_name="raw", index_option="basic")
    # Each category and its archive (`cs.CL`, `cs`): a filter on either is one term.
    builder.add_text_field("categories", tokenizer_name="raw", index_option="basic")
    # last_seen and id in one number, the order of a search with no words (newest
    # first, then the highest id, as PostgreSQL orders it), which tantivy sorts by.
    builder.add_integer_field("recency", fast=True)
    return builder.build()


class SearchIndex(LonePhraseSearch, CommonWordsSearch):
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.schema = _schema()
        version_file = folder / "paperbot-index-version"
        # Two processes opening a new or outdated index at once would delete and create
        # the folder under each other: the check, rebuild and version write are one
        # critical section, serialised by a lock file beside the folder.
        with open(folder.with_name(folder.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            fresh = not (folder.is_dir() and version_file.is_file())
            if not fresh and version_file.read_text().strip() != SCHEMA_VERSION:
                log.info("search index format changed; rebuilding it")
                fresh = True
            if fresh and folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True, exist_ok=True)
            self.index = tantivy.Index(self.schema, path=str(folder))
            if fresh:
                # Marked incomplete before the version is written: a process that
                # rebuilds the index and exits before its first catch-up must not
                # leave an empty index that the database's watermark calls current.
                self._incomplete.touch()
                version_file.write_text(SCHEMA_VERSION)
        # The caller must reindex everything (watermark 0) while the index is new or a
        # rebuild has not finished, in this process or an earlier one.
        self.created = fresh or self._incomplete.exists()
        self.pairs_narrow = PAIRS_NARROW  # tests set 1.0: pairs whenever they exist
        self.costly_phrase_papers = COSTLY_PHRASE_PAPERS  # tests set 0: always try
        self.min_pair_candidates = MIN_PAIR_CANDIDATES  # tests set 0: 4 per result
        self.sparse_phrase_papers = SPARSE_PHRASE_PAPERS  # tests set 0: always try
        self.common_words_share = COMMON_WORDS_SHARE  # tests set 0: every word search
        self.common_words_matches = COMMON_WORDS_MATCHES  # tests set 0: always try
        self.one_word_matches = ONE_WORD_MATCHES  # tests set 0: always try
        self.title_candidates = TITLE_CANDIDATES
        self.max_prefix_terms = MAX_PREFIX_TERMS  # tests set it low: the regular expressions
        self._highest: tuple[tuple[int, int] | None, tuple[int, int] | None] = (None, None)
        self._open_writer: tantivy.IndexWriter | None = None

    @property
    def _incomplete(self) -> Path:
        return self.folder / INCOMPLETE_MARKER

    def rebuilt_elsewhere(self) -> bool:
        """Whether the full reindex this process was about to do has been finished by
        another process (which then removed the marker)."""
        return self.created and not self._incomplete.exists()

    def mark_complete(self) -> None:
        """After a full reindex is committed: later processes trust the watermark."""
        self._incomplete.unlink(missing_ok=True)
        self.created = False

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

    def apply(
        self,
        papers: Iterable[IndexedPaper],
        removed: Iterable[int] = (),
        *,
        commit: bool = True,
        new: bool = False,
    ) -> None:
        """Replace these papers' documents (and drop removed ones), then commit (unless
        `commit` is False: a bulk catch-up commits once for many batches). `new` says
        none of them is indexed yet (a rebuild of a cleared index): nothing to replace."""
        writer = self._writer()
        try:
            for paper_id in removed:
                writer.delete_documents_by_term("id", paper_id)
            for paper in papers:
                # tantivy keeps every delete until the commit, then applies it to every
                # segment: a million of them for nothing in a rebuild.
                if not new:
                    writer.delete_documents_by_term("id", paper.id)
                writer.add_document(_document(paper))
            if commit:
                writer.commit()
        except BaseException:
            writer.rollback()
            raise
        if commit:
            self.index.reload()

    def commit(self) -> None:
        writer = self._writer()
        try:
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        self.index.reload()

    def bulk_writer(self) -> None:
        """From now on until `close`, index with the bulk writer (both cores, a large
        heap): for catching up hundreds of thousands of papers at once."""
        self.close()
        try:
            self._open_writer = self.index.writer(heap_size=BULK_HEAP, num_threads=BULK_THREADS)
        except ValueError as exc:  # tantivy's LockBusy: another process is indexing
            raise IndexBusy(str(exc)) from None

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
        return _ids(searcher.fast_field_values("id", [a for _, a in hits]))

    def search(
        self,
        query: ParsedQuery,
        *,
        match_all: bool,
        topic: str | None,
        since: dt.date | None,
        limit: int,
        fields: Sequence[str] = ("title", "abstract"),
        source: SourceFilter = ALL_SOURCES,
    ) -> list[tuple[int, float]]:
        quoted = self._costly_phrase(query, fields)
        if quoted is not None:
            paired = self._paired_phrase_top(quoted, topic, since, source, limit)
            if paired is not None:
                return paired[0]
            sparse = self._sparse_phrase_top(quoted, topic, since, source, limit)
            if sparse is not None:
                return sparse[0]
            fast = self._title_phrase_top(quoted, topic, since, source, limit)
            if fast is not None:
                return fast
        final = self._final_query(query, match_all, topic, since, fields, source)
        if final is None:
            return []
        common = self._common_top(query, match_all, topic, since, source, fields, final, limit)
        return self._run(final, limit) if common is None else common[0]

    def search_counted(
        self,
        query: ParsedQuery,
        *,
        match_all: bool,
        topic: str | None,
        since: dt.date | None,
        limit: int,
        fields: Sequence[str] = ("title", "abstract"),
        source: SourceFilter = ALL_SOURCES,
        count_up_to: int = 0,
    ) -> tuple[list[tuple[int, float]], int, bool]:
        """`search`, how many papers match in all, and whether that count is exact.
        tantivy counts while it collects the best `limit`; measured on 100k and 1M
        papers the count costs a few percent at most, since these boolean queries visit
        every match anyway. A lone phrase over common words is the exception: scored
        on candidates by its pairs (`_paired_phrase_top`, counted exactly from the
        pairs) or by its words less the commonest (`_sparse_phrase_top`, counted
        exactly or, at `count_up_to` and beyond, a lower bound), or through the papers
        holding it in their title (`_title_phrase_top`, counted from the pair postings
        or, without pairs, from those titles, a lower bound used when it reaches
        `count_up_to`)."""
        quoted = self._costly_phrase(query, fields)
        if quoted is not None:
            paired = self._paired_phrase_top(quoted, topic, since, source, limit)
            if paired is not None:
                return paired[0], paired[1], True
            sparse = self._sparse_phrase_top(quoted, topic, since, source, limit, count_up_to)
            if sparse is not None and (sparse[2] or sparse[1] >= count_up_to > 0):
                return sparse
            total, exact = self._phrase_count(quoted, topic, since, source)
            if exact or total >= count_up_to > 0:
                fast = self._title_phrase_top(quoted, topic, since, source, limit)
                if fast is not None:
                    return fast, total, exact
        final = self._final_query(query, match_all, topic, since, fields, source)
        if final is None:
            return [], 0, True
        common = None
        if count_up_to > 0:
            common = self._common_top(query, match_all, topic, since, source, fields, final, limit)
        if common is not None:
            ranked, share = common
            if count_up_to <= limit:
                return ranked, len(ranked), len(ranked) < limit
            # Counting every match is what the shortcut avoids: counted among the newest
            # papers, a lower bound once it reaches the cap, as for lone phrases.
            return (ranked, *self._count_newest(final, count_up_to, share))
        if 0 < count_up_to <= limit:
            # No count wanted beyond the results (/related's candidates): the search
            # leaves out the counting collector. Fewer results than asked for are all
            # the matches.
            ranked = self._run(final, limit)
            return ranked, len(ranked), len(ranked) < limit
        ranked, total = self._run_counted(final, limit)
        return ranked, total, True

    def _final_query(
        self,
        query: ParsedQuery,
        match_all: bool,
        topic: str | None,
        since: dt.date | None,
        fields: Sequence[str],
        source: SourceFilter,
    ) -> tantivy.Query | None:
        text = self._text_query(query, match_all, fields)
        if text is None:
            return None
        clauses = [(tantivy.Occur.Must, text), *self._filters(topic, since, source)]
        return text if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)

    def _common_top(
        self,
        query: ParsedQuery,
        match_all: bool,
        topic: str | None,
        since: dt.date | None,
        source: SourceFilter,
        fields: Sequence[str],
        final: tantivy.Query,
        limit: int,
    ) -> tuple[list[tuple[int, float]], float] | None:
        """The plain query's best papers through the title union (CommonWordsSearch),
        and the share of papers its rarest word is in (which sizes the count's first
        slice); None when that way does not apply or cannot show its papers are the
        best. The candidates come from the union alone and the filters apply when they
        are scored, so only a topic many papers are in is taken this way: a rarer
        topic, a day range or a source leaves too few of them, and makes the plain
        query cheap."""
        if not match_all or since is not None or not source.everything:
            return None
        stems = self._common_words(query, fields)
        if stems is None:
            return None
        searcher = self.index.searcher()
        docs = max(searcher.num_docs, 1)
        if (
            topic is not None
            and searcher.doc_freq("topics", topic) < self.common_words_share * docs
        ):
            return None
        matches = self.common_words_matches
        if len(stems) == 1 and topic is None:
            # A topic makes a word's union an intersection, dearer per match
            # (ONE_WORD_MATCHES): at 1M `model` under llm, 580,000 matches, took
            # 42 ms plain and 22 this way.
            matches = self.one_word_matches
        if not self._likely_many(searcher, final, matches):
            return None  # few papers match: the plain query is cheap
        ranked = self._common_words_top(stems, final, limit)
        if ranked is None:
            return None
        share = min(
            max(searcher.doc_freq("title", stem), searcher.doc_freq("abstract", stem))
            for stem in stems
        )
        return ranked, share / docs

    def count_topic(
        self, topic: str, since: dt.date | None, source: SourceFilter = ALL_SOURCES
    ) -> int:
        """How many papers carry `topic` (seen since `since`, from `source`): the terms'
        postings, counted without reading any paper."""
        filters = self._filters(topic, since, source)
        query = filters[0][1] if len(filters) == 1 else tantivy.Query.boolean_query(filters)
        return self._run_counted(query, 1)[1]

    def recent(
        self, source: SourceFilter, since: dt.date | None, limit: int
    ) -> tuple[list[int], int]:
        """The newest papers passing the filters (last seen, then id, highest first) and
        how many pass: a search with no words. None of the filters set: every paper."""
        filters = self._filters(None, since, source)
        if not filters:
            query = tantivy.Query.all_query()
        elif len(filters) == 1:
            query = filters[0][1]
        else:
            query = tantivy.Query.boolean_query(filters)
        searcher = self.index.searcher()
        result = searcher.search(query, limit, count=True, order_by_field="recency")
        ids = _ids(searcher.fast_field_values("id", [address for _, address in result.hits]))
        return ids, _matched(result)

    def title_search(self, typed: Sequence[str], *, match_all: bool, limit: int) -> list[int]:
        """Papers whose title has a word starting with each (or any) of the `typed`
        words, best BM25 first: what autocomplete offers while a title is being typed."""
        occur = tantivy.Occur.Must if match_all else tantivy.Occur.Should
        prefixes = list(dict.fromkeys(w[:PREFIX_CHARS] for w in typed if w))
        if not match_all and len(prefixes) > 1:
            prefixes = self._telling_prefixes(prefixes)
        clauses = [
            (occur, tantivy.Query.term_query(self.schema, "title_prefix", p)) for p in prefixes
        ]
        if not clauses:
            return []
        # One word alone as its term query: the same papers and scores, a third less
        # time than through a boolean query (517,000 titles hold `lan` at 1M).
        query = clauses[0][1] if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)
        return [pid for pid, _ in self._run(query, limit)]

    def _telling_prefixes(self, prefixes: Sequence[str]) -> list[str]:
        """Of titles holding any of these words, the words worth asking for: not one
        that begins a word in more than COMMON_PREFIX_SHARE of all titles (`for`,
        `the`, `learn`), which ranks below any rarer word's titles yet has tantivy walk
        a few hundred thousand postings at 1M; the rarest one when all are that common."""
        searcher = self.index.searcher()
        ceiling = searcher.num_docs * COMMON_PREFIX_SHARE
        counts = {p: searcher.doc_freq("title_prefix", p) for p in prefixes}
        telling = [p for p in prefixes if counts[p] <= ceiling]
        return telling or [min(prefixes, key=counts.__getitem__)]

    def title_phrase_search(self, typed: Sequence[str], written: str, limit: int) -> list[int]:
        """Papers whose title holds the `typed` words in a row, the last one whole or as
        the beginning of a word: titles holding the text as `written` (case-folded,
        punctuation kept) first, then the phrase of whole words, or, when no title
        holds that, the phrase with a half-typed last word; each best BM25 first. What
        a fragment typed from the middle of a title (`Super Mario`) needs: word-by-word
        prefixes find it among the hundreds of titles holding each word somewhere, and
        keep the first few."""
        kept = [w for w in typed if _ALNUM.match(w)]
        stems = stem_tokens(" ".join(kept))
        if not kept or len(stems) != len(kept):
            return []  # a word too long to index: the word-by-word lookup covers it
        queries = []
        tokens = written.casefold().split()
        if tokens and tokens != kept:  # punctuation typed: look for it as written
            if len(tokens) == 1:
                queries.append(tantivy.Query.term_query(self.schema, "title_written", tokens[0]))
            else:  # the last token perhaps half-typed
                queries.append(self._begun_written(tokens))
        if len(kept) == 1:
            # One word: the titles holding it as a whole word (`t` in `T-SciQ`), not
            # the thousands where it begins a word.
            queries.append(tantivy.Query.term_query(self.schema, "title", stems[0]))
        elif (pair := _title_pair(kept)) is not None:
            # Two words: every adjacent pair of a title's words is indexed, so the pair
            # term holds exactly the titles the phrase matches. Its postings alone
            # answer it, where the phrase checked positions in each of the 118,000
            # titles holding `language model` at 1M (19 ms CPU, now 1); BM25 over the
            # pairs ranks by the same counts and title lengths, less one word each.
            queries.append(
                tantivy.Query.term_query(self.schema, PAIR_FIELDS["title"], pair, "freq")
            )
        else:
            # The phrase of whole words (through the common-word pairs when they narrow
            # it), then with a half-typed last word: `super mar` is not `super mario`'s
            # stems.
            queries.append(self._words_query('"' + " ".join(kept) + '"', ["title"], {}))
        found: dict[int, None] = {}
        for query in queries:
            if len(found) >= limit:
                break
            found.update((pid, None) for pid, _ in self._run(query, limit))
        if not found and len(kept) > 1:
            # Only when the whole words are nowhere in a row: the word-by-word lookup
            # that follows still finds titles where the last word is only begun.
            found.update((pid, None) for pid, _ in self._run(self._begun(stems, kept), limit))
        return list(found)[:limit]

    def _begun(self, stems: Sequence[str], kept: Sequence[str]) -> tantivy.Query:
        """Titles holding the whole words `stems[:-1]` in a row, then a word whose stem
        begins with the last typed word: a phrase prefix, answered from the title's
        word pairs. The last pair (`model l`) is a prefix of pair terms, so the term
        dictionary finds its few hundred expansions; tantivy's phrase-prefix query
        instead checked positions in every title holding `model`, and looked at only
        the first 50 expansions of `l` in each segment.

        Ranked as the phrase-prefix query ranked: two words all alike (index order),
        more by the phrase of the whole words (BM25), which scores; the pairs only
        filter."""
        return self._phrase_begun("title", PAIR_FIELDS["title"], stems[:-1], kept[-1].casefold())

    def _begun_written(self, tokens: Sequence[str]) -> tantivy.Query:
        """`_begun` for the text as written (case-folded, split at whitespace), through
        the written pairs: titles holding `tokens[:-1]` in a row, then a token
        beginning with the last one (`to self-...`)."""
        return self._phrase_begun("title_written", WRITTEN_PAIRS, tokens[:-1], tokens[-1])

    def _phrase_begun(
        self, field: str, pair_field: str, whole: Sequence[str], begun: str
    ) -> tantivy.Query:
        """Documents holding the terms `whole` of `field` in a row, then a term that
        begins with `begun`, found and ranked as tantivy's phrase-prefix query ranks
        them, from the adjacent pairs of `field`'s terms indexed in `pair_field`."""
        last = f"{_literal(whole[-1])} {_literal(begun)}.*"
        if len(whole) == 1:
            return tantivy.Query.regex_query(self.schema, pair_field, last)
        pairs = [f"{_literal(a)} {_literal(b)}" for a, b in itertools.pairwise(whole)]
        chain = tantivy.Query.regex_phrase_query(self.schema, pair_field, _words([*pairs, last]))
        phrase = tantivy.Query.phrase_query(self.schema, field, _words(whole))
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, phrase),
                (tantivy.Occur.Must, tantivy.Query.const_score_query(chain, 0.0)),
            ]
        )

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
        return self._ranked(searcher, searcher.search(query, limit, count=False).hits)

    def _run_counted(self, query: tantivy.Query, limit: int) -> tuple[list[tuple[int, float]], int]:
        searcher = self.index.searcher()
        result = searcher.search(query, limit, count=True)
        return self._ranked(searcher, result.hits), _matched(result)

    @staticmethod
    def _ranked(
        searcher: tantivy.Searcher, hits: list[tuple[Any, tantivy.DocAddress]]
    ) -> list[tuple[int, float]]:
        if not hits:
            return []
        ids = _ids(searcher.fast_field_values("id", [address for _, address in hits]))
        return [(int(pid), float(score)) for (score, _), pid in zip(hits, ids, strict=True)]

    def _text_query(
        self, query: ParsedQuery, match_all: bool, fields: Sequence[str]
    ) -> tantivy.Query | None:
        occur = tantivy.Occur.Must if match_all else tantivy.Occur.Should
        clauses = []
        boosts = {"title": TITLE_BOOST} if "title" in fields else {}
        terms = [t for t in query.terms if _ALNUM.match(t)]
        if not match_all:
            # Any of the words (/related's key terms): one flat union of term queries,
            # not a union of per-word unions. Scores and matches are the same, but
            # tantivy merges a nested union level by level, each inner union buffering
            # its own window of documents: the flat one took half the time at 1M.
            clauses += self._any_term(terms, fields, boosts)
            terms = []
        # Terms and phrases are words of letters and digits only (bot.core.query), so
        # quoting them cannot form query syntax; the parser applies the field's stemmer.
        quoted = [f'"{t}"' for t in terms]
        quoted += [
            '"' + " ".join(w for w in p if _ALNUM.match(w)) + '"'
            for p in query.phrases
            if any(_ALNUM.match(w) for w in p)
        ]
        for item in quoted:
            clauses.append((occur, self._words_query(item, fields, boosts)))
        prefixes = [p.casefold() for p in query.prefixes if _ALNUM.match(p)]
        if prefixes:
            searcher = self.index.searcher()
            clauses += [(occur, self._prefix_query(searcher, p, fields)) for p in prefixes]
        if not clauses:
            return None
        # One clause alone is its own query (the same papers and scores): tantivy then
        # walks that union directly, not a boolean of one around it (a quarter less CPU
        # at 3M).
        return clauses[0][1] if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)

    def _prefix_query(
        self, searcher: tantivy.Searcher, prefix: str, fields: Sequence[str]
    ) -> tantivy.Query:
        """A `prefix*` term: its words as term queries (storage/sqlite/prefix_terms.py)."""
        return prefix_query(searcher, self.schema, prefix, fields, self.max_prefix_terms)

    def _any_term(
        self, terms: Sequence[str], fields: Sequence[str], boosts: dict[str, float]
    ) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        """Should clauses, one per field of each word's stem (what the query parser
        makes of a quoted word, unnested); a word the analyzer splits or drops goes
        through the parser as before."""
        out = []
        for term in terms:
            stems = stem_tokens(term)
            if len(stems) != 1:
                if stems:
                    out.append(
                        (tantivy.Occur.Should, self._words_query(f'"{term}"', fields, boosts))
                    )
                continue
            for field in fields:
                query = tantivy.Query.term_query(self.schema, field, stems[0], "freq")
                if field in boosts:
                    query = tantivy.Query.boost_query(query, boosts[field])
                out.append((tantivy.Occur.Should, query))
        return out

    def _words_query(
        self, quoted: str, fields: Sequence[str], boosts: dict[str, float]
    ) -> tantivy.Query:
        """A quoted word or phrase over `fields`. A phrase made only of common-word pairs
        is, per field, the plain phrase query restricted to papers holding those pairs in
        that field at consecutive positions (exactly the papers the phrase matches), so
        tantivy walks the short pair postings instead of checking positions in every
        paper holding the words. Scores come from the plain phrase alone."""
        pairs = phrase_pairs(quoted)
        if pairs is None or not set(fields) <= PAIR_FIELDS.keys():
            return self.index.parse_query(quoted, list(fields), boosts)
        searcher = self.index.searcher()
        stems = stem_tokens(quoted)
        per_field = []
        for field in fields:
            phrase = self.index.parse_query(quoted, [field], boosts)
            pair_field = PAIR_FIELDS[field]
            # Only where the pairs narrow the search: when most papers holding the words
            # hold the phrase ("fine tuning"), walking the pairs as well costs more.
            fewest_pairs = min(searcher.doc_freq(pair_field, p) for p in pairs)
            fewest_words = min(searcher.doc_freq(field, w) for w in stems)
            if fewest_pairs > self.pairs_narrow * fewest_words:
                per_field.append((tantivy.Occur.Should, phrase))
                continue
            if len(pairs) == 1:
                known = tantivy.Query.term_query(self.schema, pair_field, pairs[0])
            else:
                known = tantivy.Query.phrase_query(self.schema, pair_field, _words(pairs))
            # Per field, not one pair filter over both: tantivy would then walk the
            # union of the two plain phrase queries, which is the slow part.
            restricted = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, phrase),
                    (tantivy.Occur.Must, tantivy.Query.const_score_query(known, 0.0)),
                ]
            )
            per_field.append((tantivy.Occur.Should, restricted))
        return tantivy.Query.boolean_query(per_field)

    def _filters(
        self, topic: str | None, since: dt.date | None, source: SourceFilter = ALL_SOURCES
    ) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        filters = []
        if source.source is not None:
            term = tantivy.Query.term_query(self.schema, "sources", source.source)
            filters.append((tantivy.Occur.Must, tantivy.Query.const_score_query(term, 0.0)))
        if source.categories:
            # A category or an archive is one term: the paper has any of them.
            any_of = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "categories", c))
                    for c in source.categories
                ]
            )
            filters.append((tantivy.Occur.Must, tantivy.Query.const_score_query(any_of, 0.0)))
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
    for variant in paper.variants:
        doc.add_text("title", variant)
    doc.add_text("abstract", paper.abstract)
    for keyword in paper.keywords:
        doc.add_text("abstract", keyword)
    for topic in paper.topics:
        doc.add_text("topics", topic)
    if paper.name:
        doc.add_text("name", paper.name)
    doc.add_text("title_prefix", title_prefixes(paper.title))
    written = paper.title.casefold()
    doc.add_text("title_written", written)
    written_tokens = written_pairs(written)
    if written_tokens is not None:
        doc.add_pre_tokenized_text(WRITTEN_PAIRS, written_tokens)
    texts = {
        "title": (paper.title, *paper.variants),
        "abstract": (paper.abstract, *paper.keywords),
    }
    for field, pair_field in PAIR_FIELDS.items():
        for text in texts[field]:
            pairs = word_pairs(text, every=field == "title")
            if pairs is not None:
                doc.add_pre_tokenized_text(pair_field, pairs)
    days = (paper.last_seen - EPOCH).days
    doc.add_integer("last_seen", days)
    # An imported paper was listed by no dump: its arXiv categories make it arXiv's.
    for source in search_sources(paper.sources, paper.categories):
        doc.add_text("sources", source)
    for term in category_terms(paper.categories):
        doc.add_text("categories", term)
    doc.add_integer("recency", recency(days, paper.id))
    return doc
