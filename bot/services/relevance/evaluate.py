"""Offline evaluation of the relevance engine against simpler methods, on real papers.

Run ``python -m bot.services.relevance.evaluate`` (``--data DIR`` for another copy of
the labelled set; default: the repository's ``tests/data/relevance``). Every method
runs on the same papers, the same vectors and the same cases, in one run.

Data: real Hugging Face Daily Papers (title, abstract, authors, the day they were
listed), 308 of them hand-labelled into 41 fine subtopic groups; every other paper
listed on those days is an unlabelled neighbour. Papers are encoded day by day, oldest
first, as the bot would see them arrive.

Protocols (the labels are only ever read here, never by a method):

- recommend: leave one out. For each labelled paper, a member likes up to 3 other
  papers of its group and dislikes 2 papers of other groups; the held-out paper must
  rank in the top 3 of the candidates (hit@3); p@1 is the share of members whose first
  pick is of the group. Candidates are
  * "its day": the held-out paper's real day with all its real neighbours (about 22
    papers; unlabelled neighbours on the same subtopic count as misses);
  * "drawn 40": 40 papers: the held-out one, up to 19 of the labelled papers of
    deliberately close groups (``neighbours.json``: speculative decoding vs KV-cache
    compression vs quantisation, the four world-model groups, ...) and the rest drawn
    from the other labelled papers and distractors;
  * "3 interests": as "drawn 40", but the member also likes 3 papers of each of two
    unrelated groups.
- related: precision@3 of each labelled paper's 3 nearest labelled papers.
- search: precision@5 of the labelled papers for 40 natural-language interest
  statements (``queries.json`` and ``queries_extra.json``).

Ties (the keyword baseline has many) are scored as their expectation over a random
order, so no method gains from how ties happen to fall; "random" is that expectation
for an all-tied ranking.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import math
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import numpy as np

from bot.core.rank import stem
from bot.core.text import words
from bot.core.topics import compile_topics, load_default_topics
from bot.services.relevance.model import Follows, MemberModel, Rated, Signal, build_model
from bot.services.relevance.rank import THRESHOLD, rank, related, score_many
from bot.services.relevance.search import key_terms, semantic_scores
from bot.services.relevance.similarity import CandidateSet, candidate_set, subset
from bot.services.relevance.sparse_rows import SparseRows, cross, empty_rows
from bot.services.relevance.vectors import CorpusStats, PaperId, PaperText, PaperVector, encode

if TYPE_CHECKING:
    import scipy.sparse as sp

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "tests" / "data" / "relevance"
DRAWN = 40
SVM_BACKGROUND = 300  # arxiv-sanity's negatives: a fixed sample of other papers
BM25_POOL = 50  # candidates a hybrid search reranks, as paperbot's search does
RELATED_POOL = 100  # keyword candidates for "related" when the corpus is too big to scan


# --------------------------------------------------------------------------- data


@dataclass
class Dataset:
    papers: list[dict[str, Any]]  # the records of papers.jsonl.gz
    groups: dict[str, list[str]]  # slug -> paper ids
    queries: dict[str, list[str]]  # statement -> group slugs
    neighbours: list[list[str]]
    row: dict[PaperId, int] = field(default_factory=dict)
    days: dict[str, list[int]] = field(default_factory=dict)  # day -> rows, list order

    def group_of(self, row: int) -> str | None:
        return self.papers[row]["group"]

    def siblings(self, group: str) -> set[str]:
        out = set()
        for family in self.neighbours:
            if group in family:
                out.update(family)
        out.discard(group)
        return out

    @functools.cached_property
    def labelled(self) -> list[int]:
        """Rows of the labelled papers: the grouped ones and the distractors."""
        return [i for i, p in enumerate(self.papers) if p.get("labelled")]


def load_dataset(path: Path = DEFAULT_DATA) -> Dataset:
    with gzip.open(path / "papers.jsonl.gz", "rt", encoding="utf-8") as handle:
        papers = [json.loads(line) for line in handle]
    queries = json.loads((path / "queries.json").read_text(encoding="utf-8"))
    queries.update(json.loads((path / "queries_extra.json").read_text(encoding="utf-8")))
    data = Dataset(
        papers=papers,
        groups=defaultdict(list),
        queries=queries,
        neighbours=json.loads((path / "neighbours.json").read_text(encoding="utf-8")),
    )
    for row, paper in enumerate(papers):
        data.row[paper["id"]] = row
        data.days.setdefault(paper["day"], []).append(row)
        if paper["group"]:
            data.groups[paper["group"]].append(paper["id"])
    data.groups = dict(sorted(data.groups.items()))
    return data


@dataclass
class Encoded:
    texts: list[PaperText]
    vectors: list[PaperVector]
    stats: CorpusStats
    corpus: CandidateSet  # every paper, weighted with the final statistics
    seconds: float


def encode_corpus(data: Dataset) -> Encoded:
    """Encode day by day, oldest first: each day's pruning sees only earlier papers."""
    texts = [
        PaperText(
            id=p["id"],
            title=p["title"],
            abstract=p["abstract"],
            authors=tuple(p["authors"]),
            upvotes=p.get("upvotes"),
        )
        for p in data.papers
    ]
    stats = CorpusStats()
    vectors: list[PaperVector | None] = [None] * len(texts)
    started = time.perf_counter()
    for day in sorted(data.days):
        rows = data.days[day]
        for row, vector in zip(rows, encode([texts[r] for r in rows], stats), strict=True):
            vectors[row] = vector
    seconds = time.perf_counter() - started
    done = [v for v in vectors if v is not None]
    return Encoded(texts, done, stats, candidate_set(texts, done, stats), seconds)


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    group: str
    held_out: int  # row
    likes: tuple[int, ...]
    dislikes: tuple[int, ...]
    candidates: tuple[int, ...]  # rows; the held-out paper first


def recommend_cases(data: Dataset, protocol: str, seed: int = 0) -> list[Case]:
    """The leave-one-out cases of a protocol: "day", "drawn" or "interests"."""
    grouped = [data.row[i] for ids in data.groups.values() for i in ids]
    cases = []
    for group, ids in data.groups.items():
        members = sorted(data.row[i] for i in ids)
        others = sorted(r for r in grouped if data.group_of(r) != group)
        close = sorted(r for r in data.labelled if data.group_of(r) in data.siblings(group))
        rest = sorted(
            r
            for r in data.labelled
            if data.group_of(r) != group and data.group_of(r) not in data.siblings(group)
        )
        for held in members:
            rng = random.Random(f"{seed}:{data.papers[held]['id']}")
            likes = rng.sample([m for m in members if m != held], min(3, len(members) - 1))
            dislikes = rng.sample(others, 2)
            if protocol == "interests":
                far = sorted(g for g in data.groups if g != group and g not in data.siblings(group))
                for extra in rng.sample(far, 2):
                    likes += rng.sample(sorted(data.row[i] for i in data.groups[extra]), 3)
            taken = {held, *likes, *dislikes}
            if protocol == "day":
                day = data.days[data.papers[held]["day"]]
                pool = [r for r in day if r not in taken]
            else:
                near = rng.sample(
                    [r for r in close if r not in taken],
                    min((DRAWN - 1) // 2, len([r for r in close if r not in taken])),
                )
                far_pool = [r for r in rest if r not in taken and data.group_of(r) != group]
                pool = near + rng.sample(far_pool, DRAWN - 1 - len(near))
            cases.append(Case(group, held, tuple(likes), tuple(dislikes), (held, *pool)))
    return cases


def expected_hits(scores: np.ndarray, relevant: np.ndarray, k: int = 3) -> tuple[float, float]:
    """(hit@k of candidate 0, precision@1), each an expectation over random tie order."""
    mine = scores[0]
    above = int(np.sum(scores > mine))
    tied = int(np.sum(scores == mine))
    hit = 0.0 if above >= k else min(tied, k - above) / tied
    top = scores == scores.max()
    return hit, float(relevant[top].mean())


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending (np.unique's hashing is many times slower here)."""
    ordered = np.sort(values, axis=None)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def expected_precision(scores: np.ndarray, relevant: np.ndarray, k: int) -> float:
    """Precision@k, expected over random order among tied scores."""
    order = _distinct(scores)[::-1]
    taken, total = 0, 0.0
    for value in order:
        tied = scores == value
        n = int(tied.sum())
        room = k - taken
        if room <= 0:
            break
        share = min(room, n) / n
        total += share * float(relevant[tied].sum())
        taken += min(room, n)
    return total / k


# --------------------------------------------------------------------------- methods

Recommender = Callable[[Case], np.ndarray]  # scores of case.candidates, in order


class Methods:
    """Every compared method, on shared vectors and topic tags."""

    def __init__(self, data: Dataset, encoded: Encoded) -> None:
        self.data = data
        self.encoded = encoded
        corpus = encoded.corpus
        self.embedding = corpus.dense
        matcher = compile_topics(load_default_topics())
        self.topics = [
            {hit.topic: 1.0 for hit in matcher.match(p["title"], p["abstract"])}
            for p in data.papers
        ]
        rng = np.random.default_rng(0)
        self.background = rng.choice(len(data.papers), SVM_BACKGROUND, replace=False)
        self._bm25 = _BM25([(p["title"], p["abstract"]) for p in data.papers])
        self._lexical = CandidateSet(
            corpus.papers, corpus.sparse, np.zeros_like(corpus.dense), corpus.index
        )

    # recommend -------------------------------------------------------------------
    def random(self, case: Case) -> np.ndarray:
        return np.zeros(len(case.candidates))

    def keyword_topics(self, case: Case) -> np.ndarray:
        weight: defaultdict[str, float] = defaultdict(float)
        for row in case.likes:
            for topic in self.topics[row]:
                weight[topic] += 1
        for row in case.dislikes:
            for topic in self.topics[row]:
                weight[topic] -= 0.5
        return np.array([sum(weight[t] for t in self.topics[r]) for r in case.candidates])

    def tfidf_svm(self, case: Case) -> np.ndarray:
        from sklearn.svm import LinearSVC  # only the evaluation trains an SVM

        rated = {*case.likes, *case.dislikes, *case.candidates}
        negatives = [r for r in self.background if r not in rated]
        rows = [*case.likes, *case.dislikes, *negatives]
        labels = [1] * len(case.likes) + [0] * (len(rows) - len(case.likes))
        model = LinearSVC(class_weight="balanced", C=0.01, max_iter=10000, tol=1e-6)
        # Only the features of the training rows can get a weight: fitting over those
        # columns alone gives the same model as over all 2^20, in a fraction of the time.
        import scipy.sparse as sp  # scikit-learn's; the engine runs on numpy alone

        train = self.encoded.corpus.sparse.take(rows)
        columns, inverse = np.unique(train.indices, return_inverse=True)
        shape = (len(train), len(columns))
        model.fit(sp.csr_matrix((train.values, inverse, train.indptr), shape=shape), labels)
        return model.decision_function(
            _columns(self.encoded.corpus.sparse.take(case.candidates), columns)
        )

    def tfidf_rocchio(self, case: Case) -> np.ndarray:
        return _sparse_rocchio(self.encoded.corpus.sparse, case)

    def wordllama_rocchio(self, case: Case) -> np.ndarray:
        return _rocchio(self.embedding, case)

    def blend_rocchio(self, case: Case) -> np.ndarray:
        from bot.services.relevance.similarity import DENSE_WEIGHT

        lexical = _sparse_rocchio(self.encoded.corpus.sparse, case)
        return (1 - DENSE_WEIGHT) * lexical + DENSE_WEIGHT * _rocchio(self.embedding, case)

    def tfidf_interests(self, case: Case) -> np.ndarray:
        return self._engine(case, lexical_only=True)

    def engine(self, case: Case) -> np.ndarray:
        return self._engine(case, lexical_only=False)

    def _engine(self, case: Case, lexical_only: bool) -> np.ndarray:
        model = build_model(_ratings(self.encoded, case), Follows(), self.encoded.stats)
        corpus = self.encoded.corpus
        if lexical_only:  # the same model with the embedding half zeroed
            _zero_dense(model)
            corpus = self._lexical
        return score_many([model], subset(corpus, case.candidates))[0]

    # related ---------------------------------------------------------------------
    def related_matrix(self, method: str) -> np.ndarray:
        """labelled × labelled similarities (the diagonal is never used)."""
        rows = self.data.labelled
        if method == "random":
            return np.zeros((len(rows), len(rows)))
        if method == "keyword topics":
            sets = [set(self.topics[r]) for r in rows]
            return np.array(
                [[len(a & b) / len(a | b) if a | b else 0.0 for b in sets] for a in sets]
            )
        if method == "tf-idf":
            sparse = self.encoded.corpus.sparse.take(rows)
            return cross(sparse, sparse)
        if method == "wordllama":
            dense = self.embedding[rows]
            return dense @ dense.T
        if method == "blend":
            from bot.services.relevance.similarity import DENSE_WEIGHT

            lexical = self.related_matrix("tf-idf")
            return (1 - DENSE_WEIGHT) * lexical + DENSE_WEIGHT * self.related_matrix("wordllama")
        raise ValueError(method)

    def engine_related(self, k: int = 3, pool: int | None = None) -> float:
        """Precision@k of `related()` itself over the labelled papers; with `pool`, among
        only the keyword engine's top `pool` results for the paper's `key_terms` (the
        way a corpus of a million papers is served)."""
        rows = self.data.labelled
        labelled = subset(self.encoded.corpus, rows)
        precisions = []
        for row in rows:
            group = self.data.group_of(row)
            if group is None:
                continue
            candidates = labelled
            if pool is not None:
                query = " ".join(
                    key_terms(
                        self.encoded.texts[row], self.encoded.vectors[row], self.encoded.stats
                    )
                )
                found = self._bm25.scores(query, rows)
                top = [rows[i] for i in np.lexsort((np.arange(len(rows)), -found))[:pool]]
                candidates = subset(self.encoded.corpus, list(dict.fromkeys([row, *top])))
            picks = related(self.data.papers[row]["id"], candidates, k=k, min_score=-1.0)
            hits = [self.data.papers[self.data.row[p.paper_id]]["group"] == group for p in picks]
            precisions.append(sum(hits) / k)
        return float(np.mean(precisions))

    # search ----------------------------------------------------------------------
    def search_scores(self, method: str, query: str) -> np.ndarray:
        rows = self.data.labelled
        if method == "random":
            return np.zeros(len(rows))
        if method == "keyword topics":
            matcher = compile_topics(load_default_topics())
            wanted = {hit.topic for hit in matcher.match(query, "", threshold=0.0)}
            return np.array([len(wanted & set(self.topics[r])) for r in rows], dtype=float)
        if method == "BM25":
            return self._bm25.scores(query, rows)
        corpus = subset(self.encoded.corpus, rows)
        if method == "tf-idf":
            corpus = CandidateSet(corpus.papers, corpus.sparse, 0 * corpus.dense, corpus.index)
            return semantic_scores(query, corpus, self.encoded.stats)
        if method == "wordllama":
            blank = empty_rows(len(rows))
            corpus = CandidateSet(corpus.papers, blank, corpus.dense, corpus.index)
            return semantic_scores(query, corpus, self.encoded.stats)
        semantic = semantic_scores(query, corpus, self.encoded.stats)
        if method == "semantic":
            return semantic
        if method == "hybrid":
            # As paperbot's search: the engine's candidates, reranked. Engine scores are
            # scaled to 0..1 (as `combined_score` does) before meaning is added.
            from bot.services.relevance.search import SEMANTIC_WEIGHT

            bm25 = self._bm25.scores(query, rows)
            pool = np.lexsort((np.arange(len(rows)), -bm25))[:BM25_POOL]
            best = bm25.max() or 1.0
            out = np.full(len(rows), -np.inf)
            out[pool] = bm25[pool] / best + SEMANTIC_WEIGHT * semantic[pool]
            return out
        raise ValueError(method)


def _columns(rows: SparseRows, columns: np.ndarray) -> sp.csr_matrix:
    """`rows` as a scipy matrix of only `columns` (ascending feature ids), in order."""
    import scipy.sparse as sp

    where = np.minimum(np.searchsorted(columns, rows.indices), len(columns) - 1)
    kept = columns[where] == rows.indices
    counts = np.bincount(rows.row_of_entry()[kept], minlength=len(rows))
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return sp.csr_matrix((rows.values[kept], where[kept], indptr), shape=(len(rows), len(columns)))


def _sparse_rocchio(rows: SparseRows, case: Case) -> np.ndarray:
    """`_rocchio` on sparse rows, in float64, without a 2^20-wide profile."""
    likes, dislikes = rows.take(case.likes), rows.take(case.dislikes)
    features, inverse = np.unique(
        np.concatenate([likes.indices, dislikes.indices]), return_inverse=True
    )
    weights = np.concatenate(
        [
            np.full(likes.nnz, 1.0 / len(case.likes)),
            np.full(dislikes.nnz, -0.5 / len(case.dislikes)),
        ]
    )
    profile = np.bincount(
        inverse, weights=np.concatenate([likes.values, dislikes.values]) * weights
    )
    candidates = rows.take(case.candidates)
    where = np.minimum(np.searchsorted(features, candidates.indices), len(features) - 1)
    shared = features[where] == candidates.indices
    products = np.where(shared, candidates.values * profile[where], 0.0)
    return np.bincount(candidates.row_of_entry(), weights=products, minlength=len(candidates))


def _rocchio(matrix: np.ndarray, case: Case) -> np.ndarray:
    likes = np.asarray(matrix[list(case.likes)].mean(axis=0)).ravel()
    dislikes = np.asarray(matrix[list(case.dislikes)].mean(axis=0)).ravel()
    profile = likes - 0.5 * dislikes
    return np.asarray(matrix[list(case.candidates)] @ profile).ravel()


def _zero_dense(model: MemberModel) -> None:
    for interest in model.likes + model.dislikes:
        interest.dense_sum = 0 * interest.dense_sum
        for paper in interest.papers:
            paper.dense = 0 * paper.dense
    model._profiles = None


class _BM25:
    """Okapi BM25 over titles (×10) and abstracts: a stand-in for the search engine
    (SQLite FTS5 / tantivy), matching any query word, plural-folded."""

    def __init__(self, docs: Sequence[tuple[str, str]], k1: float = 1.2, b: float = 0.75):
        self.k1, self.n = k1, len(docs)
        self.fields = []  # per field: term -> (rows, counts), and each row's length norm
        bags_of = []
        for column in range(2):
            bags = [Counter(stem(w) for w in words(doc[column])) for doc in docs]
            bags_of.append(bags)
            lengths = np.array([sum(bag.values()) for bag in bags], dtype=float)
            norms = k1 * (1 - b + b * lengths / max(lengths.mean(), 1.0))
            postings: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
            for row, bag in enumerate(bags):
                for term, count in bag.items():
                    postings[term][0].append(row)
                    postings[term][1].append(count)
            self.fields.append(
                (
                    {t: (np.array(r), np.array(c, dtype=float)) for t, (r, c) in postings.items()},
                    norms,
                )
            )
        df: Counter[str] = Counter()
        for bag in bags_of[1]:
            df.update(bag.keys())
        for bag, abstract in zip(bags_of[0], bags_of[1], strict=True):
            df.update(k for k in bag if k not in abstract)
        n = len(docs)
        self.idf = {w: math.log(1 + (n - d + 0.5) / (d + 0.5)) for w, d in df.items()}

    def scores(self, query: str, rows: Sequence[int]) -> np.ndarray:
        terms = sorted({stem(w) for w in words(query)})
        out = np.zeros(self.n)
        for weight, (postings, norms) in zip((10.0, 1.0), self.fields, strict=True):
            for term in terms:
                if term in postings:
                    found, tf = postings[term]
                    out[found] += weight * self.idf[term] * tf * (self.k1 + 1) / (tf + norms[found])
        return out[list(rows)]


# --------------------------------------------------------------------------- running

RECOMMENDERS = [
    ("random", "random"),
    ("keyword topics (taxonomy rules)", "keyword_topics"),
    ("tf-idf + linear SVM per member (arxiv-sanity)", "tfidf_svm"),
    ("tf-idf, Rocchio (likes − ½ dislikes)", "tfidf_rocchio"),
    ("wordllama, Rocchio", "wordllama_rocchio"),
    ("tf-idf + wordllama, Rocchio", "blend_rocchio"),
    ("tf-idf, interests", "tfidf_interests"),
    ("tf-idf + wordllama, interests (shipped)", "engine"),
]
# Which representation each row uses for "related" and search.
REPRESENTATION = {
    "random": "random",
    "keyword_topics": "keyword topics",
    "tfidf_svm": "tf-idf",
    "tfidf_rocchio": "tf-idf",
    "wordllama_rocchio": "wordllama",
    "blend_rocchio": "blend",
    "tfidf_interests": "tf-idf",
    "engine": "engine",
}
Protocol = Literal["day", "drawn", "interests"]
PROTOCOLS: list[tuple[Protocol, str]] = [
    ("day", "its day"),
    ("drawn", "drawn 40"),
    ("interests", "3 interests"),
]


class MethodRow(TypedDict):
    """One recommender: expected (hit@3, p@1) per protocol, and related P@3."""

    method: str
    day: tuple[float, float]
    drawn: tuple[float, float]
    interests: tuple[float, float]
    related: float


class SearchRow(TypedDict):
    method: str
    p5: float  # expected precision@5 over the interest statements


class Calibration(TypedDict):
    """What the shipped threshold lets through (see `calibration`)."""

    threshold: float
    recall: float
    near: float
    far: float
    empty: float


@dataclass
class Report:
    rows: list[MethodRow]
    search_rows: list[SearchRow]
    related_pool: float  # shipped related P@3 among keyword candidates only
    threshold: Calibration
    cases: dict[str, int]
    seeds: int
    mean_day: float
    papers: int
    encode_seconds: float

    def row(self, method: str) -> MethodRow:
        return next(r for r in self.rows if r["method"] == method)

    def table(self) -> str:
        head = (
            "| method | its day hit@3 | p@1 | drawn 40 hit@3 | p@1 | 3 interests hit@3 "
            "| p@1 | related P@3 |\n|---|---|---|---|---|---|---|---|"
        )
        lines = [head]
        for r in self.rows:
            cells = [r["method"]]
            for key, _ in PROTOCOLS:
                cells += [f"{r[key][0]:.3f}", f"{r[key][1]:.3f}"]
            cells.append(f"{r['related']:.3f}")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        lines.append("| search method | P@5, 40 interest statements |\n|---|---|")
        for found in self.search_rows:
            lines.append(f"| {found['method']} | {found['p5']:.3f} |")
        return "\n".join(lines)

    def summary(self) -> str:
        t = self.threshold
        return (
            f"{self.papers} papers encoded day by day in {self.encode_seconds:.1f} s; "
            f"{self.cases['day']} leave-one-out members per protocol"
            f"{f' and seed, {self.seeds} seeds' if self.seeds > 1 else ''}; "
            f"its day = {self.mean_day:.1f} candidates on average.\n"
            f"Related, shipped, among the keyword engine's top {RELATED_POOL} for the "
            f"paper's key terms only: P@3 {self.related_pool:.3f}.\n"
            f"Threshold {t['threshold']}: {t['recall']:.0%} of held-out papers pass on their "
            f"day, as do {t['near']:.1%} of the papers of close subtopics and {t['far']:.1%} "
            f"of unrelated papers; shown 40 unrelated papers, {t['empty']:.0%} of members "
            f"get an empty list."
        )


def run(
    data: Dataset | None = None,
    log: Callable[[str], None] | None = None,
    seeds: Sequence[int] = (0,),
    encoded: Encoded | None = None,
) -> Report:
    """Every method on every protocol; recommend figures are means over `seeds` (each
    seed draws other liked, disliked and candidate papers). `encoded` is `data` already
    encoded by `encode_corpus` (encoded here if not given)."""
    data = data or load_dataset()
    encoded = encoded or encode_corpus(data)
    methods = Methods(data, encoded)
    cases = {
        key: [c for seed in seeds for c in recommend_cases(data, key, seed)] for key, _ in PROTOCOLS
    }
    relevant_of = {
        key: [np.array([data.group_of(r) == c.group for r in c.candidates]) for c in found]
        for key, found in cases.items()
    }
    rows: list[MethodRow] = []
    for label, name in RECOMMENDERS:
        started = time.perf_counter()
        scorer: Recommender = getattr(methods, name)
        measured: dict[Protocol, tuple[float, float]] = {}
        for key, _ in PROTOCOLS:
            hits, firsts = [], []
            for case, relevant in zip(cases[key], relevant_of[key], strict=True):
                scores = np.asarray(scorer(case), dtype=float)
                hit, first = expected_hits(scores, relevant)
                hits.append(hit)
                firsts.append(first)
            measured[key] = (float(np.mean(hits)), float(np.mean(firsts)))
        representation = REPRESENTATION[name]
        if representation == "engine":
            related = methods.engine_related()
        else:
            related = _related_precision(data, methods.related_matrix(representation))
        rows.append(
            MethodRow(
                method=label,
                day=measured["day"],
                drawn=measured["drawn"],
                interests=measured["interests"],
                related=related,
            )
        )
        if log:
            log(f"{label}: {time.perf_counter() - started:.1f} s")
    search_rows: list[SearchRow] = []
    for method in ["random", "keyword topics", "BM25", "tf-idf", "wordllama", "semantic", "hybrid"]:
        p5 = []
        for query, groups in data.queries.items():
            scores = methods.search_scores(method, query)
            relevant = np.array([data.group_of(r) in groups for r in data.labelled])
            p5.append(expected_precision(scores, relevant, 5))
        label = {
            "semantic": "tf-idf + wordllama (shipped similarity)",
            "hybrid": f"BM25 top {BM25_POOL} + shipped similarity (hybrid, shipped)",
            "BM25": "BM25 (keyword engine stand-in)",
            "keyword topics": "keyword topics (taxonomy rules)",
        }.get(method, method)
        search_rows.append({"method": label, "p5": float(np.mean(p5))})
    return Report(
        rows=rows,
        search_rows=search_rows,
        related_pool=methods.engine_related(pool=RELATED_POOL),
        threshold=calibration(data, encoded, cases["day"]),
        cases={k: len(v) // len(seeds) for k, v in cases.items()},
        seeds=len(seeds),
        mean_day=float(np.mean([len(c.candidates) for c in cases["day"]])),
        papers=len(data.papers),
        encode_seconds=encoded.seconds,
    )


def _related_precision(data: Dataset, sims: np.ndarray, k: int = 3) -> float:
    rows = data.labelled
    groups = np.array([data.group_of(r) for r in rows], dtype=object)
    precisions = []
    for i, row in enumerate(rows):
        group = data.group_of(row)
        if group is None:
            continue
        scores = np.delete(sims[i], i)
        relevant = np.delete(groups == group, i)
        precisions.append(expected_precision(scores, relevant, k))
    return float(np.mean(precisions))


def calibration(data: Dataset, encoded: Encoded, cases: Sequence[Case]) -> Calibration:
    """How the shipped threshold behaves, for the members of the "its day" protocol:

    - recall: the share of held-out papers that pass on their real day;
    - near / far: the share of labelled papers of close groups (``neighbours.json``) and
      of unrelated papers (distractors, other groups) that pass;
    - empty: the share of members shown a day-sized set of 40 unrelated papers who get
      an empty list. Unlabelled papers are left out of these sets: some are on the
      member's subtopic (a real day about speculative decoding may hold a paper on it
      that nobody labelled).
    """
    passed, near, far, empty = [], [], [], []
    by_group: dict[str, tuple[list[int], list[int]]] = {}
    for case in cases:
        model = build_model(_ratings(encoded, case), Follows(), encoded.stats)
        scores = score_many([model], subset(encoded.corpus, case.candidates))[0]
        passed.append(scores[0] >= THRESHOLD)
        if case.group not in by_group:
            close = data.siblings(case.group)
            by_group[case.group] = (
                [
                    r
                    for r in data.labelled
                    if data.group_of(r) != case.group and data.group_of(r) not in close
                ],
                [r for r in data.labelled if data.group_of(r) in close],
            )
        unrelated, neighbours = by_group[case.group]
        rng = random.Random(f"empty:{data.papers[case.held_out]['id']}")
        shown = rng.sample(unrelated, DRAWN)
        far_scores = score_many([model], subset(encoded.corpus, shown))[0]
        far.extend(far_scores >= THRESHOLD)
        empty.append(not rank(model, subset(encoded.corpus, shown)))
        if neighbours:
            near.extend(score_many([model], subset(encoded.corpus, neighbours))[0] >= THRESHOLD)
    return {
        "threshold": THRESHOLD,
        "recall": float(np.mean(passed)),
        "near": float(np.mean(near)),
        "far": float(np.mean(far)),
        "empty": float(np.mean(empty)),
    }


def _ratings(encoded: Encoded, case: Case) -> list[Rated]:
    likes = [Rated(encoded.texts[r], encoded.vectors[r], Signal.LIKE) for r in case.likes]
    return likes + [
        Rated(encoded.texts[r], encoded.vectors[r], Signal.DISLIKE) for r in case.dislikes
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.services.relevance.evaluate",
        description="Compare relevance methods on the labelled real papers.",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled set folder")
    parser.add_argument(
        "--seeds", type=int, default=1, help="average recommend figures over N draws"
    )
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    if not (args.data / "papers.jsonl.gz").is_file():
        print(f"error: no papers.jsonl.gz in {args.data}", file=sys.stderr)
        return 1
    report = run(
        load_dataset(args.data),
        log=lambda line: print(line, file=sys.stderr),
        seeds=range(args.seeds),
    )
    print(report.table())
    print()
    print(report.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
