"""A deterministic synthetic corpus shaped like the bundled sample dump.

Words are drawn from the sample's own vocabulary with its frequencies (unigrams, mixed
with the sample's bigrams so common phrases such as "language models" occur), titles
are 6-14 words, abstracts 120-250 words in sentences. About a third of the papers get
a coined model name (``KoBaTu: ...``) that appears nowhere else, which gives the
vocabulary the long tail real dumps have. Each day is rendered as a text page exactly
like a saved Hugging Face daily-papers page, so ingest runs the real parser.

A few percent of every day's entries re-appear from earlier days: most verbatim, some
with a typo fixed or a reworded subtitle, so dedupe (exact keys and near-duplicate
titles) is exercised. The same seed always yields the same papers (and a smaller
corpus the first papers of a larger one); every corpus ends on the same day.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
import re
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import bot as bot_package
from bot.core.parse import parse_dump

SAMPLE_DUMP = Path(bot_package.__file__).parent / "data" / "sample_dump.txt"
END_DAY = dt.date(2026, 1, 1)  # the corpus' days end just before this one
PAPERS_PER_DAY = (270, 320)  # new papers per day (uniform)
REPEAT_RATE = 0.03  # extra entries per day that are papers from earlier days
REPEAT_WINDOW_DAYS = 30
NAME_RATE = 0.35  # papers whose title starts with a coined model name
BIGRAM_P = 0.35  # chance the next word follows the previous one as in the sample
TITLE_WORDS = (6, 14)
ABSTRACT_WORDS = (120, 250)
SENTENCE_WORDS = (12, 30)
COMMA_P = 0.05

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*|\d+(?:\.\d+)?")
_DIGIT = re.compile(r"\d")
_SMALL = frozenset(
    ["a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the",
     "to", "via", "vs", "with"]
)  # fmt: skip
_CONSONANTS = "bcdfghjklmnprstvwxyz"
_VOWELS = "aeiou"
_SYLLABLES = [c + v for c in _CONSONANTS for v in _VOWELS]  # 100 syllables
_NAME_SPACE = len(_SYLLABLES) ** 3  # 1,000,000 distinct three-syllable names
_NAME_STRIDE = 618_033  # coprime with _NAME_SPACE, so serial -> name is a permutation
_PAGE_HEADER = (
    "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\n"
    "byAK and the research community\n\n"
)


def _norm_token(token: str) -> str:
    """Lower-case ordinary words; keep acronyms and mixed-case names (LLMs, CoCu)."""
    return token if any(c.isupper() for c in token[1:]) else token.lower()


class _Sampler:
    """Weighted sampling from a Counter with precomputed cumulative weights."""

    def __init__(self, counts: Counter[str]) -> None:
        self.items = list(counts)
        self.cum = list(itertools.accumulate(counts[w] for w in self.items))
        self.total = self.cum[-1]

    def many(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.items, cum_weights=self.cum, k=k)

    def one(self, rng: random.Random) -> str:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


@dataclass
class CorpusModel:
    """Word statistics of the sample dump."""

    abstract_words: _Sampler
    title_words: _Sampler
    bigrams: dict[str, _Sampler]
    vocabulary: frozenset[str]  # lower-cased words of the sample

    @classmethod
    def from_sample(cls, path: Path = SAMPLE_DUMP) -> CorpusModel:
        parsed = parse_dump(path.read_bytes(), path.name)
        abstract_counts: Counter[str] = Counter()
        title_counts: Counter[str] = Counter()
        pairs: dict[str, Counter[str]] = {}
        for paper in parsed.papers:
            tokens = [_norm_token(t) for t in _TOKEN.findall(paper.abstract)]
            abstract_counts.update(tokens)
            for a, b in itertools.pairwise(tokens):
                pairs.setdefault(a, Counter())[b] += 1
            title_counts.update(_norm_token(t) for t in _TOKEN.findall(paper.title))
        vocabulary = frozenset(w.lower() for w in abstract_counts | title_counts)
        return cls(
            abstract_words=_Sampler(abstract_counts),
            title_words=_Sampler(title_counts),
            bigrams={w: _Sampler(c) for w, c in pairs.items()},
            vocabulary=vocabulary,
        )


@cache
def default_model() -> CorpusModel:
    return CorpusModel.from_sample()


def coined_name(serial: int) -> str:
    """The ``serial``-th coined model name: unique for serials below 1,000,000."""
    code = ((serial + 1) * _NAME_STRIDE) % _NAME_SPACE
    parts = [_SYLLABLES[(code // 10_000) % 100], _SYLLABLES[(code // 100) % 100]]
    parts.append(_SYLLABLES[code % 100])
    style = code % 4
    if style == 0:
        return "".join(parts).upper()
    if style == 1:
        return "".join(parts).capitalize()
    return "".join(p.capitalize() for p in parts)  # CamelCase, a distinctive head


@dataclass
class Paper:
    title: str
    abstract: str


@dataclass
class DayDump:
    """One day's page as bytes, with what the generator put in it."""

    day: dt.date
    source: str  # a file name carrying the date, as a dumps folder would hold
    raw: bytes
    new: int
    repeats: int
    edited: int  # repeats whose title was edited (typo or reworded subtitle)


def day_sizes(papers: int, seed: int) -> list[int]:
    """New papers per day, oldest first. Only the oldest day(s) are short, so the
    newest day (the one digests show) is always a full one."""
    rng = random.Random(f"day-sizes-{seed}")
    sizes: list[int] = []
    while sum(sizes) < papers:
        sizes.append(rng.randint(*PAPERS_PER_DAY))
    excess = sum(sizes) - papers
    for i, size in enumerate(sizes):  # trim the oldest days
        taken = min(size, excess)
        sizes[i] -= taken
        excess -= taken
    return [size for size in sizes if size > 0]


class CorpusGenerator:
    def __init__(self, papers: int, seed: int = 0, model: CorpusModel | None = None) -> None:
        if papers < 1:
            raise ValueError("papers must be at least 1")
        self.papers = papers
        self.seed = seed
        self.model = model or default_model()
        self.rng = random.Random(seed)
        self.sizes = day_sizes(papers, seed)
        self.start_day = END_DAY - dt.timedelta(days=len(self.sizes))
        self._names = 0

    # -- text ------------------------------------------------------------------------
    def _words(self, sampler: _Sampler, k: int) -> list[str]:
        rng, bigrams = self.rng, self.model.bigrams
        draws = sampler.many(rng, k)
        out = [draws[0]]
        follow = [rng.random() < BIGRAM_P for _ in range(k)]
        for i in range(1, k):
            nxt = bigrams.get(out[-1]) if follow[i] else None
            out.append(nxt.one(rng) if nxt is not None else draws[i])
        return out

    def _title(self, name: str | None) -> str:
        rng = self.rng
        count = rng.randint(*TITLE_WORDS) - (1 if name else 0)
        sampler = self.model.title_words if rng.random() < 0.5 else self.model.abstract_words
        words = self._words(sampler, count)
        cased = [
            w if (w != w.lower() or (i and w in _SMALL)) else w[:1].upper() + w[1:]
            for i, w in enumerate(words)
        ]
        text = " ".join(cased)
        return f"{name}: {text}" if name else text

    def _abstract(self, name: str | None) -> str:
        rng = self.rng
        words = self._words(self.model.abstract_words, rng.randint(*ABSTRACT_WORDS))
        if name:
            for _ in range(rng.randint(1, 3)):
                words[rng.randrange(len(words))] = name
        sentences = []
        start = 0
        while start < len(words):
            end = min(len(words), start + rng.randint(*SENTENCE_WORDS))
            chunk = words[start:end]
            chunk[0] = chunk[0][:1].upper() + chunk[0][1:]
            for i in range(len(chunk) - 1):
                if rng.random() < COMMA_P:
                    chunk[i] += ","
            sentences.append(" ".join(chunk) + ".")
            start = end
        return " ".join(sentences)

    def _new_paper(self) -> Paper:
        name = None
        if self.rng.random() < NAME_RATE:
            name = coined_name(self._names)
            self._names += 1
        return Paper(self._title(name), self._abstract(name))

    def _edited(self, paper: Paper) -> Paper | None:
        """The paper with a typo fixed (or made) or its subtitle reworded; None if the
        title offers no safe edit."""
        rng = self.rng
        title = paper.title
        head, sep, rest = title.partition(": ")
        if sep and rng.random() < 0.4:
            words = rest.split()
            if len(words) >= 4:
                i = rng.randrange(1, len(words))
                new = self.model.title_words.one(rng).capitalize()
                # Numbers stay as they were: paperbot never merges titles whose numbers
                # differ (`Llama 2` / `Llama 3`), so such an edit would be a new paper.
                if not _DIGIT.search(words[i] + new):
                    words[i] = new
                    return Paper(f"{head}: {' '.join(words)}", paper.abstract)
        words = title.split()
        inner = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
        if not inner:
            return None
        i = inner[len(inner) // 2]
        w = words[i]
        j = rng.randrange(1, len(w) - 2)
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
        return Paper(" ".join(words), paper.abstract)

    # -- days ------------------------------------------------------------------------
    def days(self) -> Iterator[DayDump]:
        rng = self.rng
        history: deque[list[Paper]] = deque(maxlen=REPEAT_WINDOW_DAYS)
        day = self.start_day
        for new in self.sizes:
            fresh = [self._new_paper() for _ in range(new)]
            entries = list(fresh)
            edited = repeats = 0
            if history:
                for _ in range(round(new * REPEAT_RATE)):
                    earlier = rng.choice(rng.choice(history))
                    if rng.random() < 0.4:
                        changed = self._edited(earlier)
                        if changed is not None:
                            earlier = changed
                            edited += 1
                    entries.insert(rng.randrange(len(entries) + 1), earlier)
                    repeats += 1
            history.append(fresh)
            yield DayDump(
                day=day,
                source=f"{day.isoformat()}.txt",
                raw=render_page(day, entries).encode("utf-8"),
                new=new,
                repeats=repeats,
                edited=edited,
            )
            day += dt.timedelta(days=1)


def render_page(day: dt.date, papers: list[Paper]) -> str:
    """A day's papers as the text of a saved daily-papers page."""
    parts = [_PAGE_HEADER, day.strftime("%b ") + str(day.day), "\n\n"]
    for paper in papers:
        parts += [paper.title, "\n\n", paper.abstract, "\n\n"]
    return "".join(parts)


def write_days(papers: int, seed: int, out: Path) -> list[Path]:
    """The corpus as a dumps folder, one `YYYY-MM-DD.txt` page a day (what `paperbot
    ingest DIR` reads): daily dumps on top of a database made some other way."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for dump in CorpusGenerator(papers, seed=seed).days():
        path = out / dump.source
        path.write_bytes(dump.raw)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m bench.corpus",
        description="Write the synthetic corpus as a folder of daily dumps.",
    )
    parser.add_argument("--papers", type=int, required=True, help="distinct papers")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the day pages")
    args = parser.parse_args(argv)
    if args.papers < 1:
        parser.error("--papers must be at least 1")
    written = write_days(args.papers, args.seed, args.out)
    print(f"wrote {len(written)} daily dumps to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
