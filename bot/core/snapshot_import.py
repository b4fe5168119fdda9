"""A snapshot import's pure parts: a batch of lines made into the rows storage writes,
and the checkpoint that makes an import resumable.

Everything here runs in worker processes too (`prepare_lines`), so it takes and returns
plain, picklable data.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from bot.core.authors import author_key
from bot.core.dedupe import distinct_words, paper_blocks, paper_keys
from bot.core.models import ParsedPaper, Topic
from bot.core.snapshot import BadRecord, SnapshotFilter, SnapshotPaper, parse_record
from bot.core.text import normalize_title
from bot.core.topics import TopicMatcher, compile_topics

BATCH_LINES = 20_000  # one transaction: large enough that commits cost little


class PreparedPaper(NamedTuple):
    """One snapshot paper with everything storage writes for it worked out (a named
    tuple: it crosses from the worker processes by the hundred thousand, and a tuple
    pickles at a fraction of a dataclass' cost)."""

    arxiv_id: str
    title: str
    norm_title: str
    abstract: str
    authors: tuple[str, ...]
    author_keys: tuple[str, ...]
    categories: tuple[str, ...]
    day: str  # ISO: the first version's day
    keys: tuple[str, ...]  # `arxiv:<id>` first, then the title key
    blocks: tuple[str, ...]  # dedupe blocking keys, for later dumps without ids
    topics: tuple[tuple[str, float, str], ...]  # (topic, score, why JSON)

    @property
    def authors_json(self) -> str:
        return json.dumps(list(self.authors))


def prepare(paper: SnapshotPaper, matcher: TopicMatcher) -> PreparedPaper:
    parsed = ParsedPaper(paper.title, paper.abstract, 0, arxiv_id=paper.arxiv_id)
    norm = normalize_title(paper.title)
    return PreparedPaper(
        arxiv_id=paper.arxiv_id,
        title=paper.title,
        norm_title=norm,
        abstract=paper.abstract,
        authors=paper.authors,
        author_keys=tuple(author_key(name) for name in paper.authors),
        categories=paper.categories,
        day=paper.day.isoformat(),
        keys=paper_keys(parsed, norm),
        blocks=paper_blocks(parsed, norm),
        topics=tuple(
            (hit.topic, hit.score, json.dumps(list(hit.why)))
            for hit in matcher.match(paper.title, paper.abstract)
        ),
    )


@dataclass
class PreparedLines:
    """What a run of lines came to: the papers the filter kept, in file order, with
    their words counted for the spelling vocabulary, and the counts of the others."""

    papers: list[PreparedPaper] = field(default_factory=list)
    filtered: int = 0
    bad: Counter[str] = field(default_factory=Counter)
    # Each distinct word of the papers -> how many of them hold it. Counted here, in the
    # worker, rather than by the writer from each paper's words (which then crossed
    # from the workers as well): the writer only takes off the few papers it merges.
    vocab: Counter[str] = field(default_factory=Counter)


class Preparer:
    """Turns lines into PreparedLines with one compiled taxonomy (built once per
    process)."""

    def __init__(self, topics: Sequence[Topic], wanted: SnapshotFilter) -> None:
        self.matcher = compile_topics(topics)
        self.wanted = wanted

    def __call__(self, lines: Sequence[bytes]) -> PreparedLines:
        out = PreparedLines()
        for line in lines:
            if not line.strip():
                continue  # a blank line (the file's end) is no record
            found = parse_record(line)
            if isinstance(found, BadRecord):
                out.bad[found.reason] += 1
            elif not self.wanted.accepts(found):
                out.filtered += 1
            else:
                out.papers.append(prepare(found, self.matcher))
                out.vocab.update(distinct_words(found.title, found.abstract))
        return out


def new_papers_vocab(vocab: Counter[str], merged: Iterable[PreparedPaper]) -> list[tuple[str, int]]:
    """(word, papers holding it), sorted, over a batch's new papers: the batch's counts
    (`ImportBatch.vocab`) less the words of the papers merged with stored ones, which
    add nothing to the vocabulary."""
    merged = list(merged)
    if merged:
        vocab = Counter(vocab)
        for paper in merged:
            vocab.subtract(distinct_words(paper.title, paper.abstract))
    return sorted((word, n) for word, n in vocab.items() if n > 0)


@dataclass
class ImportCounts:
    """The running totals an import reports (and stores with each checkpoint, so a
    resumed import reports the whole file)."""

    lines: int = 0
    imported: int = 0  # new papers
    merged: int = 0  # already stored under the same arXiv id (a daily dump, or a repeat)
    filtered: int = 0  # left out by --categories / --since
    bad: dict[str, int] = field(default_factory=dict)  # reason -> records

    def add(self, other: ImportCounts) -> None:
        self.lines += other.lines
        self.imported += other.imported
        self.merged += other.merged
        self.filtered += other.filtered
        for reason, count in other.bad.items():
            self.bad[reason] = self.bad.get(reason, 0) + count

    def to_json(self) -> str:
        return json.dumps(
            {
                "lines": self.lines,
                "imported": self.imported,
                "merged": self.merged,
                "filtered": self.filtered,
                "bad": dict(sorted(self.bad.items())),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> ImportCounts:
        data = json.loads(text)
        return cls(
            int(data["lines"]),
            int(data["imported"]),
            int(data["merged"]),
            int(data["filtered"]),
            {str(k): int(v) for k, v in data["bad"].items()},
        )


@dataclass(frozen=True)
class ImportCheckpoint:
    """How far an import of one file (with one filter) has committed: the byte offset
    of the next unread line, and the counts so far."""

    fingerprint: str  # the file's fingerprint and the filter: another file or filter
    offset: int
    counts: ImportCounts
    done: bool = False

    # Stored as one meta row on either backend (no migration): key and value.
    META_PREFIX = "snapshot_import:"

    @property
    def meta_key(self) -> str:
        return self.META_PREFIX + self.fingerprint

    def meta_value(self) -> str:
        return f"{self.offset}\t{int(self.done)}\t{self.counts.to_json()}"

    @classmethod
    def from_meta(cls, fingerprint: str, value: str) -> ImportCheckpoint:
        offset, done, counts = value.split("\t", 2)
        return cls(fingerprint, int(offset), ImportCounts.from_json(counts), done == "1")


@dataclass(frozen=True)
class BatchVectors:
    """Relevance vectors to write in a batch's transaction, with the corpus statistics
    that now count them. Written only if the stored statistics are still at
    `expected_version` (0: none stored yet); they become `new_version`."""

    vectors: list[tuple[int, bytes]]  # (paper id, vector)
    stats: bytes
    expected_version: int
    new_version: int


class BatchVectorEncoder(Protocol):
    """Encodes a batch's new papers once storage has given them their ids, inside the
    batch's transaction (so the vectors commit, or not, with the papers)."""

    def encode(self, new: Sequence[tuple[int, int]]) -> BatchVectors | None:
        """What to write for the new papers, as (position in `ImportBatch.papers`,
        paper id) in id order; None for nothing."""
        ...

    def written(self, ok: bool) -> None:
        """Whether storage wrote what `encode` gave (False: the statistics had moved)."""
        ...


@dataclass
class ImportBatch:
    """One transaction's worth: the papers to write and the checkpoint to store with
    them, and what encodes the new papers' relevance vectors (None: left for later)."""

    papers: list[PreparedPaper]
    checkpoint: ImportCheckpoint
    source: str  # the file, as named (stored with the import, for the record)
    vectors: BatchVectorEncoder | None = None
    # The distinct words of each of the papers, counted once a paper (PreparedLines).
    vocab: Counter[str] = field(default_factory=Counter)
