"""A deterministic synthetic arXiv metadata snapshot, in the public file's exact format.

The public snapshot (``arxiv-metadata-oai-snapshot.json``) is JSON lines, one paper per
line, keys in this order: ``id``, ``submitter``, ``authors``, ``title``, ``comments``,
``journal-ref``, ``doi``, ``report-no``, ``categories``, ``license``, ``abstract``,
``versions`` (``[{version, created}]``, ``created`` like ``Mon, 2 Apr 2007 19:18:42 GMT``),
``update_date`` (``YYYY-MM-DD``) and ``authors_parsed`` (``[last, first, suffix]`` with
an optional fourth affiliation). Lines are compact JSON with non-ASCII escaped.

What this generator copies from the real file, because an importer has to cope with it:
- its whitespace: title, authors, comments and journal-ref are wrapped greedily at 79
  columns counting the abs page's field label (``Title: ``), continuation lines indented
  by two spaces; an abstract starts with two spaces, is wrapped at 79 columns with a
  two-space indent opening each paragraph, and ends with a newline;
- nulls where the real file has them (most comments, journal-refs, DOIs, report numbers;
  licenses before 2008);
- ids: ``archive/YYMMNNN`` before April 2007 (``hep-th/9711200``, ``math/0601001``), then
  ``YYMM.NNNN``, and ``YYMM.NNNNN`` from 2015; in increasing order of first-version
  date, with the yearly volume of real submissions (so most papers are recent);
- categories from arXiv's real list, in a mix that shifts from physics in the 1990s to
  computer science today, with cross-lists within a field and the aliases arXiv always
  lists together (``cs.IT math.IT``);
- authors with TeX accents (``M\\"uller``), initials, ``and`` before the last one,
  occasional affiliations in parentheses, and the parsed form with accents resolved.

Titles and abstracts are drawn from the bundled sample dump's vocabulary (unigrams and
the sample's bigrams, as ``bench/corpus.py`` does), so text statistics are those of real
abstracts, if not of every field. The same seed and record count always give the same
bytes. Generation is vectorised with numpy per block of records, streams with constant
memory, and runs at tens of thousands of records per second.

``--bad-fraction F`` replaces about that share of lines with realistic damage (a line cut
off mid-record, a record without a title, an empty title, no versions, a line that is not
a JSON object) so an importer's bad-record counting can be tested.

    python -m bench.snapshot_corpus --records 3000000 --seed 0 --out snapshot.jsonl
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from json.encoder import encode_basestring_ascii
from typing import IO, Any

import numpy as np

from bench.corpus import _TOKEN, SAMPLE_DUMP, _norm_token
from bot.core.parse import parse_dump

WIDTH = 79  # the abs page's line width the snapshot's wrapping follows
BLOCK = 2048  # records generated per vectorised block
KEYS = (
    "id", "submitter", "authors", "title", "comments", "journal-ref", "doi", "report-no",
    "categories", "license", "abstract", "versions", "update_date", "authors_parsed",
)  # fmt: skip

# Approximate new submissions per year on arXiv (the real growth curve); records are
# spread over the chosen years in proportion, so ids and dates look like the real file.
YEARLY_SUBMISSIONS = {
    1991: 300, 1992: 3_200, 1993: 6_700, 1994: 10_000, 1995: 13_000, 1996: 15_900,
    1997: 19_600, 1998: 24_000, 1999: 28_000, 2000: 30_500, 2001: 33_000, 2002: 36_000,
    2003: 38_500, 2004: 43_500, 2005: 46_000, 2006: 49_500, 2007: 55_500, 2008: 58_900,
    2009: 64_000, 2010: 70_100, 2011: 76_600, 2012: 84_600, 2013: 92_600, 2014: 97_500,
    2015: 105_300, 2016: 113_400, 2017: 123_500, 2018: 140_600, 2019: 155_900,
    2020: 178_300, 2021: 181_600, 2022: 185_700, 2023: 208_500, 2024: 240_000,
}  # fmt: skip
FIRST_DAY = dt.date(1991, 8, 14)  # arXiv's first paper
NEW_IDS_FROM = dt.date(2007, 4, 1)
FIVE_DIGITS_FROM = dt.date(2015, 1, 1)

# Fields, their archive for old-style ids, first year, and share of submissions in
# 1995 and in 2024 (interpolated in between). Categories of a field share its weight.
_FIELDS: dict[str, tuple[str, int, float, float, list[str]]] = {
    # field: (old-style archive or "" for per-category archives, since, w1995, w2024, cats)
    "hep-th": ("hep-th", 1991, 14, 2.5, ["hep-th"]),
    "hep-ph": ("hep-ph", 1992, 13, 3, ["hep-ph"]),
    "hep-ex": ("hep-ex", 1994, 2, 0.8, ["hep-ex"]),
    "hep-lat": ("hep-lat", 1992, 2, 0.4, ["hep-lat"]),
    "gr-qc": ("gr-qc", 1992, 4, 1.5, ["gr-qc"]),
    "nucl-th": ("nucl-th", 1992, 3, 0.8, ["nucl-th"]),
    "nucl-ex": ("nucl-ex", 1994, 1, 0.4, ["nucl-ex"]),
    "quant-ph": ("quant-ph", 1994, 3, 5, ["quant-ph"]),
    "math-ph": ("math-ph", 1996, 1, 1, ["math-ph"]),
    "astro-ph": ("astro-ph", 1992, 14, 6, ["astro-ph.CO", "astro-ph.GA", "astro-ph.SR",
                 "astro-ph.HE", "astro-ph.EP", "astro-ph.IM"]),
    "cond-mat": ("cond-mat", 1992, 18, 7, ["cond-mat.mes-hall", "cond-mat.mtrl-sci",
                 "cond-mat.str-el", "cond-mat.stat-mech", "cond-mat.soft",
                 "cond-mat.supr-con", "cond-mat.quant-gas", "cond-mat.dis-nn",
                 "cond-mat.other"]),
    "math": ("math", 1992, 16, 15, ["math.AG", "math.AP", "math.CO", "math.PR", "math.NT",
             "math.DG", "math.OC", "math.NA", "math.DS", "math.FA", "math.GT", "math.RT",
             "math.CA", "math.GR", "math.QA", "math.ST", "math.LO", "math.OA", "math.CV",
             "math.RA", "math.AT", "math.MG", "math.AC", "math.SG", "math.CT", "math.KT",
             "math.SP", "math.GM", "math.GN", "math.HO", "math.IT", "math.MP"]),
    "physics": ("physics", 1996, 4, 7, ["physics.optics", "physics.flu-dyn",
                "physics.comp-ph", "physics.chem-ph", "physics.atom-ph", "physics.soc-ph",
                "physics.ins-det", "physics.plasm-ph", "physics.bio-ph", "physics.app-ph",
                "physics.med-ph", "physics.data-an", "physics.acc-ph", "physics.ao-ph",
                "physics.class-ph", "physics.gen-ph", "physics.geo-ph", "physics.hist-ph",
                "physics.ed-ph", "physics.atm-clus", "physics.space-ph", "physics.pop-ph"]),
    "nlin": ("nlin", 1993, 2, 0.5, ["nlin.CD", "nlin.SI", "nlin.PS", "nlin.AO",
             "nlin.CG"]),
    "cs": ("cs", 1998, 0, 38, ["cs.LG", "cs.CV", "cs.CL", "cs.AI", "cs.RO", "cs.CR",
           "cs.IT", "cs.DS", "cs.LO", "cs.SE", "cs.NI", "cs.DC", "cs.SY", "cs.HC", "cs.IR",
           "cs.CY", "cs.GT", "cs.SI", "cs.DM", "cs.PL", "cs.NE", "cs.CC", "cs.DB", "cs.FL",
           "cs.MA", "cs.SD", "cs.CG", "cs.GR", "cs.MM", "cs.CE", "cs.AR", "cs.DL",
           "cs.ET", "cs.PF", "cs.MS", "cs.NA", "cs.SC", "cs.OS", "cs.OH", "cs.GL"]),
    "stat": ("stat", 2007, 0, 3, ["stat.ML", "stat.ME", "stat.AP", "stat.TH", "stat.CO",
             "stat.OT"]),
    "q-bio": ("q-bio", 2003, 0, 1, ["q-bio.NC", "q-bio.QM", "q-bio.PE", "q-bio.BM",
              "q-bio.MN", "q-bio.GN", "q-bio.CB", "q-bio.TO", "q-bio.SC", "q-bio.OT"]),
    "q-fin": ("q-fin", 2008, 0, 0.6, ["q-fin.ST", "q-fin.MF", "q-fin.CP", "q-fin.PM",
              "q-fin.RM", "q-fin.TR", "q-fin.PR", "q-fin.GN", "q-fin.EC"]),
    "eess": ("eess", 2017, 0, 5, ["eess.SP", "eess.IV", "eess.SY", "eess.AS"]),
    "econ": ("econ", 2017, 0, 0.6, ["econ.EM", "econ.GN", "econ.TH"]),
    # archives arXiv retired in the 1990s; they only occur in early years
    "old": ("", 1992, 3, 0, ["alg-geom", "chao-dyn", "solv-int", "funct-an", "q-alg",
            "dg-ga", "patt-sol", "adap-org", "cmp-lg", "comp-gas", "mtrl-th", "supr-con",
            "acc-phys", "ao-sci", "atom-ph", "chem-ph", "plasm-ph", "bayes-an"]),
}  # fmt: skip
# Categories arXiv lists as a pair whenever either is chosen.
_ALIASES = {
    "cs.IT": "math.IT", "math.IT": "cs.IT", "math.MP": "math-ph", "math-ph": "math.MP",
    "math.ST": "stat.TH", "stat.TH": "math.ST", "cs.SY": "eess.SY", "eess.SY": "cs.SY",
    "cs.NA": "math.NA", "q-fin.EC": "econ.GN", "econ.GN": "q-fin.EC",
}  # fmt: skip
# Fields papers are commonly cross-listed to, besides their own.
_CROSS = {
    "hep-th": ["gr-qc", "hep-ph", "math-ph"], "hep-ph": ["hep-ex", "hep-th", "nucl-th"],
    "gr-qc": ["hep-th", "astro-ph"], "quant-ph": ["cond-mat", "physics", "cs"],
    "cs": ["stat", "math", "eess"], "stat": ["cs", "math"], "math": ["cs", "math-ph"],
    "cond-mat": ["physics", "quant-ph"], "astro-ph": ["gr-qc", "hep-ph"],
    "eess": ["cs"], "q-bio": ["physics", "cs"], "econ": ["q-fin", "stat"],
}  # fmt: skip

LICENSES_2008 = [
    (None, 5), ("http://arxiv.org/licenses/nonexclusive-distrib/1.0/", 85),
    ("http://creativecommons.org/licenses/by/3.0/", 4),
    ("http://creativecommons.org/licenses/by-nc-sa/3.0/", 4),
    ("http://creativecommons.org/licenses/publicdomain/", 2),
]  # fmt: skip
LICENSES_2016 = [
    (None, 1), ("http://arxiv.org/licenses/nonexclusive-distrib/1.0/", 60),
    ("http://creativecommons.org/licenses/by/4.0/", 25),
    ("http://creativecommons.org/licenses/by-nc-sa/4.0/", 5),
    ("http://creativecommons.org/licenses/by-nc-nd/4.0/", 4),
    ("http://creativecommons.org/licenses/by-sa/4.0/", 2),
    ("http://creativecommons.org/publicdomain/zero/1.0/", 3),
]  # fmt: skip
LICENSES_OLD = [(None, 90), ("http://arxiv.org/licenses/nonexclusive-distrib/1.0/", 10)]

# Names: surnames in the TeX spelling the authors field uses, with the Unicode the parsed
# field resolves them to (the snapshot's authors_parsed has accents resolved).
_SURNAMES = (  # noqa: SIM905 (a word list reads best as text)
    "Smith Wang Zhang Li Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo Lin "
    "He Kim Lee Park Choi Jung Kang Cho Yoon Tanaka Suzuki Takahashi Watanabe Ito "
    "Yamamoto Nakamura Kobayashi Sato Kumar Singh Sharma Gupta Patel Das Roy Ghosh "
    "Mukherjee Rao Iyer Nair Reddy Johnson Williams Brown Jones Miller Davis Wilson "
    "Anderson Taylor Thomas Moore Martin Jackson Thompson White Harris Clark Lewis "
    "Robinson Walker Young Allen King Wright Scott Green Baker Adams Nelson Hill "
    "Campbell Mitchell Roberts Carter Phillips Evans Turner Parker Collins Edwards "
    "Stewart Morris Murphy Cook Rogers Morgan Cooper Peterson Bailey Reed Kelly "
    "Howard Cox Ward Richardson Wood Watson Brooks Bennett Gray James Hughes Price "
    "Sanders Myers Long Ross Foster Rossi Russo Ferrari Esposito Bianchi Romano "
    "Colombo Ricci Marino Greco Bruno Gallo Conti Costa Giordano Mancini Rizzo "
    "Lombardi Moretti Dubois Durand Leroy Moreau Simon Laurent Michel Garcia Bernard "
    "Petit Richard Robert Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch "
    "Richter Klein Wolf Neumann Schwarz Zimmermann Braun Hofmann Hartmann Lange "
    "Werner Krause Lehmann Kaiser Ivanov Smirnov Kuznetsov Popov Sokolov Lebedev "
    "Kozlov Novikov Morozov Petrov Volkov Solovyov Vasiliev Zaitsev Pavlov Semenov "
    "Golubev Vinogradov Bogdanov Fedorov Nowak Kowalski Wisniewski Rodriguez "
    "Martinez Hernandez Lopez Gonzalez Perez Sanchez Ramirez Torres Flores Rivera "
    "Gomez Diaz Cruz Morales Reyes Gutierrez Ortiz Silva Santos Oliveira Souza "
    "Pereira Lima Carvalho Ferreira Almeida Ribeiro Jansen Visser Smit Bakker Mulder "
    "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsen Hansen Nielsen "
    "Jensen"
).split()
_ACCENTED = [  # (TeX as in the authors field, Unicode as in authors_parsed)
    ("M\\\"uller", "Müller"), ("Schr\\\"oder", "Schröder"), ("Kr\\\"uger", "Krüger"),
    ("G\\'omez", "Gómez"), ("Mart\\'inez", "Martínez"), ("P\\'erez", "Pérez"),
    ("L\\'opez", "López"), ("Garc\\'ia", "García"), ("Bal\\'azs", "Balázs"),
    ("Fran\\c{c}ois", "François"), ("Bj\\\"orklund", "Björklund"), ("Dvo\\v{r}\\'ak",
    "Dvořák"), ("Erd\\H{o}s", "Erdős"), ("Ben\\'itez", "Benítez"), ("Jim\\'enez",
    "Jiménez"), ("S\\o rensen", "Sørensen"),
]  # fmt: skip
_GIVEN = (  # noqa: SIM905
    "Wei Jing Yu Xin Hao Lei Yan Jun Ming Hui Ji-Hoon Min-Jun Seo-Yeon Hiroshi "
    "Takeshi Yuki Akira Kenji Rahul Amit Priya Anil Sanjay Deepak John David Michael "
    "James Robert William Richard Thomas Mark Daniel Paul Andrew Peter Christopher "
    "Matthew Mary Elizabeth Sarah Emily Anna Laura Julia Maria Elena Sofia Marco "
    "Luca Giovanni Alessandro Francesco Matteo Pierre Jean Nicolas Philippe Julien "
    "Sophie Camille Hans Klaus Stefan Andreas Markus Thomas Katharina Sergei "
    "Alexander Dmitry Ivan Andrei Olga Natalia Tatiana Piotr Tomasz Carlos Jose Luis "
    "Juan Javier Ana Lucia Pedro Rafael Joao Lars Erik Anders Nils Ingrid Jan Pieter "
    "Sven Ahmed Mohammed Ali Omar Fatima Hassan Yusuf Mehmet Emre"
).split()
_SUFFIXES = ["Jr", "II", "III"]
_AFFILIATIONS = [
    "MIT", "Oxford", "Cambridge", "Princeton", "Caltech", "CERN", "DESY", "Tokyo",
    "Kyoto", "Peking University", "Tsinghua University", "ETH Zurich", "EPFL", "IHES",
    "Max Planck Institute", "Stanford University", "Harvard University", "UC Berkeley",
    "University of Toronto", "IIT Bombay", "Weizmann Institute", "SISSA", "INFN",
    "Moscow State University", "Universit\\\"at Wien",
]  # fmt: skip
_JOURNALS = [
    ("Phys.Rev.D", "10.1103/PhysRevD"), ("Phys.Rev.Lett.", "10.1103/PhysRevLett"),
    ("Phys.Rev.B", "10.1103/PhysRevB"), ("Phys.Rev.A", "10.1103/PhysRevA"),
    ("Phys.Rev.E", "10.1103/PhysRevE"), ("JHEP", "10.1007/JHEP"),
    ("Astrophys.J.", "10.3847/1538-4357"), ("Mon.Not.Roy.Astron.Soc.", "10.1093/mnras"),
    ("Nucl.Phys.B", "10.1016/j.nuclphysb"), ("Phys.Lett.B", "10.1016/j.physletb"),
    ("J. Math. Phys.", "10.1063/1"), ("Commun. Math. Phys.", "10.1007/s00220"),
    ("Ann. of Math.", "10.4007/annals"), ("Invent. Math.", "10.1007/s00222"),
    ("IEEE Trans. Inf. Theory", "10.1109/TIT"), ("J. Mach. Learn. Res.", "10.5555/jmlr"),
    ("Nature", "10.1038/nature"), ("Class. Quant. Grav.", "10.1088/0264-9381"),
]  # fmt: skip
_VENUES = [
    "NeurIPS", "ICML", "ICLR", "CVPR", "ICCV", "ECCV", "ACL", "EMNLP", "NAACL", "AAAI",
    "IJCAI", "KDD", "SIGIR", "STOC", "FOCS", "SODA", "ICRA", "IROS", "INFOCOM", "ISIT",
]  # fmt: skip
_REPORT_LABS = [
    "SLAC-PUB", "CERN-TH", "CERN-PH-EP", "FERMILAB-PUB", "DESY", "IFT-UAM/CSIC",
    "KEK-TH", "DAMTP", "MIT-CTP", "YITP", "UUITP", "NORDITA", "LA-UR", "ANL-HEP-PR",
]  # fmt: skip
_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
           "Dec"]  # fmt: skip
_SMALL = frozenset("a an and as at by for from in into of on or the to via vs with".split())  # noqa: SIM905
_SEP = "\x1e"  # record separator inside a block's joined text; never in the vocabulary


# -- vocabulary ------------------------------------------------------------------------
_TABLE_BITS = 16  # inverse-CDF lookup table for word draws: 2**16 entries fit in cache


@dataclass
class _Words:
    """A word table for numpy sampling: each word in plain, capitalised and
    sentence-final forms, an inverse-CDF lookup table for unigram draws, and the
    sample's word pairs grouped by first word for bigram draws."""

    forms: np.ndarray  # object array: [plain..., Capitalised..., plain + ".", Cap + "."]
    lengths: np.ndarray
    lookup: np.ndarray  # uniform bucket -> word index, by unigram frequency
    pair_start: np.ndarray  # per word: first of its pair occurrences in pair_next
    pair_count: np.ndarray  # per word: how many pair occurrences start with it
    pair_next: np.ndarray  # second words of every pair occurrence, grouped by first
    small: np.ndarray  # bool per word: kept lower-case inside a title
    _followed: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.pair_count)

    def followed(self, line_sep: str, end: str) -> np.ndarray:
        """Every form followed by a space, `line_sep`, a paragraph break and `end`."""
        key = (line_sep, end)
        table = self._followed.get(key)
        if table is None:
            table = np.array(
                [f + sep for sep in (" ", line_sep, "\n  ", end) for f in self.forms.tolist()],
                dtype=object,
            )
            self._followed[key] = table
        return table


def _capitalise(word: str) -> str:
    return word[:1].upper() + word[1:]


def _word_table(unigrams: dict[str, int], pairs: dict[str, dict[str, int]]) -> _Words:
    words = sorted(unigrams)
    index = {w: i for i, w in enumerate(words)}
    weights = np.array([unigrams[w] for w in words], dtype=np.float64)
    cum = np.cumsum(weights / weights.sum())
    buckets = (np.arange(1 << _TABLE_BITS) + 0.5) / (1 << _TABLE_BITS)
    lookup = np.minimum(np.searchsorted(cum, buckets), len(words) - 1)
    starts = np.zeros(len(words), dtype=np.int64)
    counts = np.zeros(len(words), dtype=np.int64)
    nexts: list[int] = []
    for i, w in enumerate(words):
        starts[i] = len(nexts)
        for successor, n in sorted(pairs.get(w, {}).items()):
            if successor in index:
                nexts.extend([index[successor]] * n)
        counts[i] = len(nexts) - starts[i]
    plain = list(words)
    cap = [_capitalise(w) for w in words]
    forms = np.array(plain + cap + [w + "." for w in plain] + [w + "." for w in cap],
                     dtype=object)  # fmt: skip
    lengths = np.fromiter((len(f) for f in forms), dtype=np.int64, count=len(forms))
    return _Words(
        forms=forms,
        lengths=lengths,
        lookup=lookup,
        pair_start=starts,
        pair_count=counts,
        pair_next=np.array(nexts, dtype=np.int64),
        small=np.fromiter((w in _SMALL for w in words), dtype=bool, count=len(words)),
    )


@dataclass
class _Vocabulary:
    abstract: _Words
    title: _Words


@cache
def _vocabulary() -> _Vocabulary:
    papers = parse_dump(SAMPLE_DUMP.read_bytes(), SAMPLE_DUMP.name).papers
    abstract: dict[str, int] = {}
    title: dict[str, int] = {}
    pairs: dict[str, dict[str, int]] = {}
    for paper in papers:
        tokens = [_norm_token(t) for t in _TOKEN.findall(paper.abstract)]
        for t in tokens:
            abstract[t] = abstract.get(t, 0) + 1
        for a, b in itertools.pairwise(tokens):
            row = pairs.setdefault(a, {})
            row[b] = row.get(b, 0) + 1
        for t in _TOKEN.findall(paper.title):
            t = _norm_token(t)
            title[t] = title.get(t, 0) + 1
    return _Vocabulary(abstract=_word_table(abstract, pairs), title=_word_table(title, pairs))


# -- vectorised text -------------------------------------------------------------------
def _draw_words(words: _Words, rng: np.random.Generator, n: int, bigram_p: float) -> np.ndarray:
    """n word indices: unigram draws, a share replaced by a bigram successor of the
    previous draw so the sample's common phrases occur."""
    idx = words.lookup[rng.integers(0, 1 << _TABLE_BITS, size=n, dtype=np.uint16)]
    prev = np.roll(idx, 1)
    follow = (rng.random(n) < bigram_p) & (words.pair_count[prev] > 0)
    follow[0] = False
    if follow.any():
        p = prev[follow]
        pick = (rng.random(p.size) * words.pair_count[p]).astype(np.int64)
        idx[follow] = words.pair_next[words.pair_start[p] + pick]
    return idx


def _wrap_breaks(
    lengths: np.ndarray, starts: np.ndarray, ends: np.ndarray, first: int, rest: int
) -> np.ndarray:
    """Greedy line breaks for many segments at once: True after each word that ends a
    line (not after a segment's last word). A segment's first line holds up to `first`
    characters, later ones `rest`; words are separated by one space."""
    cum = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths + 1, out=cum[1:])
    breaks = np.zeros(len(lengths), dtype=bool)
    pos = starts.copy()
    width = np.full(len(starts), first, dtype=np.int64)
    active = np.nonzero(pos < ends)[0]
    while active.size:
        a = pos[active]
        b = np.searchsorted(cum, cum[a] + width[active] + 1, side="right") - 1
        b = np.clip(b, a + 1, ends[active])
        more = b < ends[active]
        breaks[b[more] - 1] = True
        pos[active] = b
        width[active] = rest
        active = active[more]
    return breaks


def _texts(
    words: _Words,
    rng: np.random.Generator,
    counts: np.ndarray,
    *,
    sentences: bool,
    paragraphs: np.ndarray | None,
    first: int,
    rest: int,
    line_sep: str,
    end: str,
) -> list[str]:
    """One wrapped text per entry of `counts` (its word count).

    Titles are title-cased; abstracts are sentences (capitalised first word, final
    period) in one or more paragraphs, each opened on a new line with a two-space
    indent. Breaks follow the snapshot's greedy wrapping."""
    total = int(counts.sum())
    idx = _draw_words(words, rng, total, 0.35)
    n = words.size
    rec_start = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=rec_start[1:])
    rec_end = rec_start + counts
    cap = np.zeros(total, dtype=bool)
    final = np.zeros(total, dtype=bool)
    if sentences:
        # sentences of 12-30 words (one length per record and per word position class)
        lens = rng.integers(12, 31, size=(len(counts), 3))
        offset = np.arange(total) - np.repeat(rec_start, counts)
        record_lens = np.repeat(lens, counts, axis=0)
        sentence_start = (offset % record_lens[np.arange(total), (offset // 40) % 3]) == 0
        sentence_start[rec_start] = True
        cap = sentence_start
        final[:-1] = sentence_start[1:]
        final[rec_end - 1] = True
    else:
        cap = ~words.small[idx]  # title case except small words inside the title
        cap[rec_start] = True
    forms = idx + n * cap + 2 * n * final
    # Segments to wrap: paragraphs of abstracts, whole titles.
    if paragraphs is not None:
        # split each record's words into `paragraphs` near-equal parts at sentence starts
        seg_starts: list[int] = []
        for r in np.nonzero(paragraphs > 1)[0]:
            s, e, k = int(rec_start[r]), int(rec_end[r]), int(paragraphs[r])
            for j in range(1, k):
                target = s + (e - s) * j // k
                cands = np.nonzero(cap[target:e])[0]
                if cands.size and target + int(cands[0]) < e:
                    seg_starts.append(target + int(cands[0]))
        para_starts = np.zeros(total, dtype=bool)
        para_starts[rec_start] = True
        if seg_starts:
            para_starts[np.array(seg_starts, dtype=np.int64)] = True
        starts = np.nonzero(para_starts)[0]
    else:
        starts = rec_start
    ends = np.append(starts[1:], total)
    breaks = _wrap_breaks(words.lengths[forms], starts, ends, first, rest)
    # each word with what follows it: a space, a line break, a paragraph break, the end
    kind = breaks.astype(np.int64)
    kind[ends - 1] = 2
    kind[rec_end - 1] = 3
    table = words.followed(line_sep, end + _SEP)
    pieces = table[forms + kind * len(words.forms)]
    return "".join(pieces.tolist()).split(_SEP)[:-1]


def _wrap_short(text: str, label: int) -> str:
    """Greedy 79-column wrap of a short field (authors, comments, journal-ref) whose
    first line follows a label of `label` characters; continuation lines are indented
    by two spaces, as in the snapshot."""
    if len(text) + label <= WIDTH:
        return text
    lines: list[str] = []
    line = ""
    room = WIDTH - label
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > room:
            lines.append(line)
            line, room = word, WIDTH - 2
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n  ".join(lines)


# -- dates and ids -----------------------------------------------------------------------
_DAY_SECONDS = 86_400
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


@cache
def _day(ordinal: int) -> tuple[dt.date, str, str]:
    """A day since the epoch: the date, its `created` prefix and its ISO form."""
    day = dt.date.fromordinal(_EPOCH_ORDINAL + ordinal)
    prefix = f"{_DAYS[day.weekday()]}, {day.day} {_MONTHS[day.month - 1]} {day.year} "
    return day, prefix, day.isoformat()


def _created(ts: int) -> str:
    """``Mon, 2 Apr 2007 19:18:42 GMT``, as the snapshot writes a version's time."""
    seconds = ts % _DAY_SECONDS
    return (
        f"{_day(ts // _DAY_SECONDS)[1]}{seconds // 3600:02d}:{seconds // 60 % 60:02d}:"
        f"{seconds % 60:02d} GMT"
    )


def _epoch(day: dt.date) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * _DAY_SECONDS


@dataclass
class _Timeline:
    """First-version times for `records` papers between two years, spread with the
    yearly submission volume, in increasing order."""

    year_bounds: np.ndarray  # epoch seconds of each year's start, plus the end
    year_cum: np.ndarray  # cumulative share of records at each year's start
    records: int
    end: int  # the snapshot's day: nothing in the file is later

    @classmethod
    def build(cls, records: int, first_year: int, last_year: int) -> _Timeline:
        years = list(range(first_year, last_year + 1))
        end = _epoch(dt.date(last_year + 1, 1, 1))
        bounds = [_epoch(max(dt.date(y, 1, 1), FIRST_DAY)) for y in years] + [end - 1]
        volume = np.array([YEARLY_SUBMISSIONS.get(y, 240_000) for y in years], dtype=float)
        cum = np.concatenate([[0.0], np.cumsum(volume / volume.sum())])
        return cls(np.array(bounds, dtype=np.float64), cum, records, end + 180 * _DAY_SECONDS)

    def times(self, first: int, offsets: np.ndarray) -> np.ndarray:
        """Times of records first.. (offsets in [0, 1) place each record in its slot,
        so times increase across blocks too)."""
        q = (np.arange(first, first + len(offsets)) + offsets) / self.records
        return np.interp(q, self.year_cum, self.year_bounds).astype(np.int64)


class _Ids:
    """arXiv ids in submission order: per-month sequence numbers, per archive before
    April 2007. Numbers are spaced so a small file spans the real ranges (2401.13245)."""

    def __init__(self, spacing: float) -> None:
        self.spacing = max(spacing, 1.0)
        self.month: tuple[int, int] = (0, 0)
        self.counters: dict[str, int] = {}

    def next(self, day: dt.date, archive: str) -> str:
        month = (day.year, day.month)
        if month != self.month:
            self.month = month
            self.counters = {}
        yymm = f"{day.year % 100:02d}{day.month:02d}"
        if day < NEW_IDS_FROM:
            n = self.counters.get(archive, 0) + 1
            self.counters[archive] = n
            return f"{archive}/{yymm}{min(n, 999):03d}"
        n = self.counters.get("", 0) + 1
        self.counters[""] = n
        number = int((n - 1) * self.spacing) + 1
        if day >= FIVE_DIGITS_FROM:
            return f"{yymm}.{min(number, 99_999):05d}"
        return f"{yymm}.{min(number, 9_999):04d}"


# -- records ------------------------------------------------------------------------------
_FIELD_NAMES = list(_FIELDS)
_CATEGORY_FIELD = {c: name for name, spec in _FIELDS.items() for c in spec[4]}


@cache
def _field_cum(year: int) -> list[float]:
    """Cumulative share of each field among the year's submissions."""
    t = min(max((year - 1995) / (2024 - 1995), 0.0), 1.0)
    weights = [
        0.0 if year < since else (1 - t) * w95 + t * w24
        for _archive, since, w95, w24, _cats in _FIELDS.values()
    ]
    if year < 1998:
        weights[_FIELD_NAMES.index("old")] = 3.0
    else:
        weights[_FIELD_NAMES.index("old")] = 0.0
    total = sum(weights)
    return list(itertools.accumulate(w / total for w in weights))


@cache
def _allowed(category: str, year: int) -> bool:
    """Whether arXiv had the category in that year."""
    name = _CATEGORY_FIELD.get(category)
    if name is None:
        return True
    if name == "old":
        return year < 1998
    return year >= _FIELDS[name][1]


def _era_category(category: str, year: int) -> str:
    # astro-ph had no subject classes before 2009
    return "astro-ph" if year < 2009 and category.startswith("astro-ph.") else category


def _licence_cum(year: int) -> list[tuple[str | None, float]]:
    table = LICENSES_OLD if year < 2008 else LICENSES_2008 if year < 2016 else LICENSES_2016
    total = sum(w for _v, w in table)
    return [(v, c / total) for v, c in zip([v for v, _ in table],
            itertools.accumulate(w for _v, w in table), strict=True)]  # fmt: skip


_LICENCES = {y: _licence_cum(y) for y in (2000, 2010, 2020)}


def _licence(u: float, year: int) -> str | None:
    table = _LICENCES[2000 if year < 2008 else 2010 if year < 2016 else 2020]
    for value, cum in table:
        if u < cum:
            return value
    return table[-1][0]


_Q = encode_basestring_ascii  # the C string encoder json.dumps uses: identical bytes


def _quoted(value: str | None) -> str:
    return "null" if value is None else _Q(value)


@dataclass(frozen=True)
class _Plan:
    """Everything a block of records depends on (so workers can build blocks alone)."""

    records: int
    seed: int
    bad_fraction: float
    first_year: int
    last_year: int

    @cached_property
    def timeline(self) -> _Timeline:
        return _Timeline.build(max(self.records, 1), self.first_year, self.last_year)


@dataclass
class _Block:
    """A block's records without their ids (ids are numbered in file order by the
    writer): each line is `"{"id":` + id + body`."""

    days: list[int]
    archives: list[str]
    bodies: list[str]
    damaged: dict[int, float]  # record index in block -> the damage draw


def _build_block(plan: _Plan, first: int) -> _Block:
    count = min(BLOCK, plan.records - first)
    rng = np.random.default_rng([plan.seed, first // BLOCK])
    timeline = plan.timeline
    times = timeline.times(first, rng.random(count)).tolist()
    # word counts: abstracts ~145 words (30-330), titles 3-22 words
    abstract_counts = np.clip(rng.lognormal(4.9, 0.38, size=count), 30, 330).astype(np.int64)
    title_counts = np.clip(rng.normal(9.5, 3.0, size=count), 3, 22).astype(np.int64)
    paragraphs = np.where(rng.random(count) < 0.12, 2, 1) + (rng.random(count) < 0.02)
    vocab = _vocabulary()
    abstracts = _texts(
        vocab.abstract, rng, abstract_counts, sentences=True, paragraphs=paragraphs,
        first=WIDTH - 2, rest=WIDTH, line_sep="\n", end="\n",
    )  # fmt: skip
    titles = _texts(
        vocab.title, rng, title_counts, sentences=False, paragraphs=None,
        first=WIDTH - len("Title: "), rest=WIDTH - 2, line_sep="\n  ", end="",
    )  # fmt: skip
    uniforms = rng.random((count, 16)).tolist()
    bits = rng.integers(0, 1 << 30, size=(count, 8)).tolist()
    bad = rng.random(count) < plan.bad_fraction
    damaged = {int(i): uniforms[i][15] for i in np.nonzero(bad)[0]}
    block = _Block([], [], [], damaged)
    end = timeline.end
    for i in range(count):
        ts = times[i]
        u = uniforms[i]
        b = bits[i]
        day_number = ts // _DAY_SECONDS
        year = _day(day_number)[0].year
        categories, archive = _categories(year, u, b[1])
        authors, parsed, submitter = _authors(u, b)
        x = u[3]
        extra = 0 if x < 0.55 else 1 if x < 0.85 else 2 if x < 0.95 else 3
        versions = [f'{{"version":"v1","created":"{_created(ts)}"}}']
        last = ts
        for v in range(extra):
            later = last + _DAY_SECONDS * (3 + (b[5] >> (5 * v)) % 200) + b[2] % 20_000
            if later >= end:
                break
            last = later
            versions.append(f'{{"version":"v{v + 2}","created":"{_created(last)}"}}')
        if u[4] < 0.4:  # metadata updated later (a journal-ref or DOI added)
            last = min(last + _DAY_SECONDS * (b[6] % 900), end - 1)
        old = year < 2008
        title: str | None = titles[i]
        journal_ref = _journal_ref(u[15], b[5], year) if u[6] < (0.5 if old else 0.22) else None
        doi = _doi(b[6]) if u[7] < (0.42 if old else 0.2) else None
        report_no = _report_no(b[7], year) if u[8] < 0.06 else None
        version_list = "[" + ",".join(versions) + "]"
        if i in damaged:
            kind = int(damaged[i] * 5)
            if kind == 1:
                title = None  # a record without a title: written with the key dropped
            elif kind == 2:
                title = ""
            elif kind == 3:
                version_list = "[]"
        body = "".join(
            [
                ',"submitter":', _Q(submitter),
                ',"authors":', _Q(_wrap_short(authors, len("Authors: "))),
                ',"title":' + _Q(title) if title is not None else "",
                ',"comments":', _quoted(_comments(u[5], b[7])),
                ',"journal-ref":', _quoted(journal_ref),
                ',"doi":', _quoted(doi),
                ',"report-no":', _quoted(report_no),
                ',"categories":', _Q(categories),
                ',"license":', _quoted(_licence(u[9], year)),
                ',"abstract":', _Q("  " + abstracts[i]),
                ',"versions":', version_list,
                ',"update_date":"', _day(last // _DAY_SECONDS)[2],
                '","authors_parsed":', parsed, "}",
            ]
        )  # fmt: skip
        block.days.append(day_number)
        block.archives.append(archive)
        block.bodies.append(body)
    return block


def _damage(line: str, u: float) -> str:
    """The kinds of damage a writer applies itself: a line cut off mid-record (an
    interrupted download or copy), or valid JSON that is not an object."""
    kind = int(u * 5)
    if kind == 0:
        return line[: max(1, int(len(line) * (0.2 + 0.6 * (u * 5 - kind))))]
    if kind == 4:
        return line[len('{"id":') : line.index(",")]  # the bare id string
    return line  # damage already inside the record (no title, empty title, no versions)


class SnapshotGenerator:
    """Streams `records` snapshot lines for papers first submitted between the years.

    With `workers` > 1 blocks of records are built in that many processes; the bytes
    are the same for any number of workers."""

    def __init__(
        self,
        records: int,
        seed: int = 0,
        *,
        bad_fraction: float = 0.0,
        first_year: int = 1991,
        last_year: int = 2024,
        workers: int = 1,
    ) -> None:
        if records < 0:
            raise ValueError("records must not be negative")
        if not 0.0 <= bad_fraction <= 1.0:
            raise ValueError("bad fraction must be between 0 and 1")
        if not 1991 <= first_year <= last_year:
            raise ValueError("years must run from 1991 or later, first before last")
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.plan = _Plan(records, seed, bad_fraction, first_year, last_year)
        self.workers = workers
        self.bad_lines = 0
        volume = sum(YEARLY_SUBMISSIONS.get(y, 240_000) for y in range(first_year, last_year + 1))
        self._ids = _Ids(volume / max(records, 1))

    def _blocks(self) -> Iterator[_Block]:
        starts = range(0, self.plan.records, BLOCK)
        if self.workers == 1 or len(starts) < 2:
            for first in starts:
                yield _build_block(self.plan, first)
            return
        context = multiprocessing.get_context("spawn" if sys.platform == "darwin" else None)
        with context.Pool(self.workers) as pool:
            # imap keeps file order; a bounded window keeps memory constant
            window = self.workers * 4
            pending: list[Any] = []
            for first in starts:
                pending.append(pool.apply_async(_build_block, (self.plan, first)))
                if len(pending) >= window:
                    yield pending.pop(0).get()
            for result in pending:
                yield result.get()

    def blocks_of_lines(self) -> Iterator[list[str]]:
        """The file's lines in blocks, each line ending in a newline."""
        ids = self._ids
        for block in self._blocks():
            lines = []
            for i, body in enumerate(block.bodies):
                day = _day(block.days[i])[0]
                line = '{"id":"' + ids.next(day, block.archives[i]) + '"' + body
                if i in block.damaged:
                    line = _damage(line, block.damaged[i])
                    self.bad_lines += 1
                lines.append(line + "\n")
            yield lines

    def lines(self) -> Iterator[str]:
        """The file's lines, each ending in a newline."""
        for block in self.blocks_of_lines():
            yield from block

    def write(self, out: IO[str]) -> int:
        """Write every line to `out`; returns how many were written."""
        n = 0
        for block in self.blocks_of_lines():
            out.write("".join(block))
            n += len(block)
        return n


def _categories(year: int, u: list[float], bits: int) -> tuple[str, str]:
    """The space-separated categories (primary first) and the primary's old-style
    archive."""
    cum = _field_cum(year)
    field_name = _FIELD_NAMES[min(bisect.bisect_right(cum, u[0]), len(cum) - 1)]
    archive, _since, _w95, _w24, cats = _FIELDS[field_name]
    # Zipf-like choice within the field: the first categories are the busiest.
    primary = cats[min(int(len(cats) * u[1] ** 2.2), len(cats) - 1)]
    if not archive:
        archive = primary  # a retired archive is its own category
    primary = _era_category(primary, year)
    chosen = [primary]
    alias = _ALIASES.get(primary)
    if alias and _allowed(alias, year):
        chosen.append(alias)
    x = u[2]
    extra = 0 if x < 0.45 else 1 if x < 0.8 else 2 if x < 0.94 else 3
    for k in range(extra):
        pool_field = field_name
        cross = _CROSS.get(field_name)
        if cross and (bits >> (3 * k)) % 3 == 0:
            pool_field = cross[(bits >> (3 * k + 2)) % len(cross)]
        pool = _FIELDS[pool_field][4]
        pick = int(len(pool) * (((bits >> (7 * k + 4)) % 1000) / 1000) ** 2)
        cat = _era_category(pool[min(pick, len(pool) - 1)], year)
        if cat not in chosen and _allowed(cat, year):
            chosen.append(cat)
            alias = _ALIASES.get(cat)
            if alias and alias not in chosen and _allowed(alias, year):
                chosen.append(alias)
    return " ".join(chosen), archive


def _author(h: int, affiliated: bool) -> tuple[str, list[str]]:
    """One author as the authors field shows them, and their parsed entry."""
    if h % 23 == 0:
        tex, last = _ACCENTED[(h >> 5) % len(_ACCENTED)]
    else:
        tex = last = _SURNAMES[(h >> 5) % len(_SURNAMES)]
    given = _GIVEN[(h >> 13) % len(_GIVEN)]
    if (h >> 21) % 5 < 2:  # initials, as many physics papers give them
        if "-" in given:
            a, b = given.split("-", 1)
            first, parsed_first = f"{a[0]}.-{b[0]}.", f"{a[0]}. -{b[0]}."
        else:
            first = parsed_first = given[0] + "."
        if (h >> 24) % 3 == 0:
            second = _GIVEN[(h >> 26) % len(_GIVEN)][0]
            first, parsed_first = f"{first} {second}.", f"{parsed_first} {second}."
    else:
        first = parsed_first = given
    suffix = _SUFFIXES[(h >> 27) % 3] if h % 97 == 0 else ""
    name = f"{first} {tex} {suffix}" if suffix else f"{first} {tex}"
    entry = [last, parsed_first, suffix]
    if affiliated:
        affiliation = _AFFILIATIONS[(h >> 9) % len(_AFFILIATIONS)]
        entry.append(affiliation.replace('\\"a', "ä"))
        name = f"{name} ({affiliation})"
    return name, entry


_AUTHOR_POOL = 1 << 15  # distinct people; a paper's authors are drawn from them


@cache
def _people(affiliated: bool) -> tuple[list[str], list[str], list[str]]:
    """Everyone who can author a paper: the name as the authors field shows it, their
    authors_parsed entry as JSON, and their surname (Unicode)."""
    shown: list[str] = []
    encoded: list[str] = []
    surnames: list[str] = []
    for k in range(_AUTHOR_POOL):
        name, entry = _author((k * 2654435761 + 40503) >> 3 & 0x3FFFFFFF, affiliated)
        shown.append(name)
        encoded.append("[" + ",".join(map(_Q, entry)) + "]")
        surnames.append(entry[0])
    return shown, encoded, surnames


def _authors(u: list[float], bits: list[int]) -> tuple[str, str, str]:
    """The authors field, authors_parsed (as JSON) and the submitter."""
    x = u[10]
    count = 1 + int(-math.log1p(-x * 0.9999) * 2.2)  # mostly 1-4, with a long tail
    if u[11] < 0.004:
        count = 20 + bits[2] % 180  # a collaboration paper
    shown, encoded, surnames = _people(u[12] < 0.06)
    first = bits[3] % _AUTHOR_POOL
    step = 1 + 2 * (bits[3] >> 15) % 2000
    picks = [(first + k * step) % _AUTHOR_POOL for k in range(count)]
    if count > 1 and u[13] < 0.5:
        text = ", ".join([shown[k] for k in picks[:-1]]) + " and " + shown[picks[-1]]
    else:
        text = ", ".join([shown[k] for k in picks])
    parsed = "[" + ",".join([encoded[k] for k in picks]) + "]"
    b = bits[4]
    given = _GIVEN[(b >> 8) % len(_GIVEN)]
    if u[14] < 0.9:  # usually an author submits, under a fuller name
        submitter = f"{given} {surnames[picks[b % min(count, 3)]]}"
    else:
        submitter = f"{given} {_SURNAMES[(b >> 16) % len(_SURNAMES)]}"
    return text, parsed, submitter


def _comments(u: float, bits: int) -> str | None:
    if u < 0.33:
        return None
    pages = 4 + bits % 40
    figures = (bits >> 6) % 15
    kind = (bits >> 10) % 8
    venue = _VENUES[(bits >> 14) % len(_VENUES)]
    if kind == 0:
        return f"{pages} pages"
    if kind == 1:
        text = f"{pages} pages, {figures} figures, accepted to {venue}"
    elif kind == 2:
        text = f"{pages} pages, {figures} figures, {1 + (bits >> 14) % 6} tables"
    elif kind == 3:
        journal = _JOURNALS[(bits >> 14) % len(_JOURNALS)][0]
        text = f"{pages} pages; v2: typos corrected, references added; to appear in {journal}"
    elif kind == 4:
        text = (
            f"{pages} pages, {figures} figures. Extended version of the paper presented at "
            f"{venue} {2000 + (bits >> 20) % 25}, with full proofs and additional experiments"
        )
    else:
        text = f"{pages} pages, {figures} figures"
    return _wrap_short(text, len("Comments: "))


def _journal_ref(u: float, bits: int, year: int) -> str:
    journal = _JOURNALS[bits % len(_JOURNALS)][0]
    volume = 10 + (bits >> 5) % 120
    page = 1 + (bits >> 12) % 9000
    published = year + (bits >> 25) % 2
    if u < 0.5:
        text = f"{journal}{volume}:{page:06d},{published}"
    else:
        text = f"{journal} {volume} ({published}) {page}-{page + 5 + (bits >> 20) % 30}"
    return _wrap_short(text, len("Journal-ref: "))


def _doi(bits: int) -> str:
    prefix = _JOURNALS[bits % len(_JOURNALS)][1]
    return f"{prefix}.{10 + (bits >> 5) % 120}.{(bits >> 12) % 999_999:06d}"


def _report_no(bits: int, year: int) -> str:
    lab = _REPORT_LABS[(bits >> 3) % len(_REPORT_LABS)]
    return f"{lab}-{year % 100:02d}-{(bits >> 9) % 500:03d}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.snapshot_corpus",
        description="Write a synthetic arXiv metadata snapshot (JSON lines).",
    )
    parser.add_argument("--records", type=int, required=True, help="how many lines")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="-", help="file to write, or - for stdout")
    parser.add_argument(
        "--bad-fraction", type=float, default=0.0, help="share of damaged lines (0-1)"
    )
    parser.add_argument("--first-year", type=int, default=1991)
    parser.add_argument("--last-year", type=int, default=2024)
    parser.add_argument(
        "--workers",
        type=int,
        default=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1,
        help="processes building records (the bytes do not depend on it); default: cores",
    )
    args = parser.parse_args(argv)
    try:
        generator = SnapshotGenerator(
            args.records,
            args.seed,
            bad_fraction=args.bad_fraction,
            first_year=args.first_year,
            last_year=args.last_year,
            workers=args.workers,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    if args.out == "-":
        written = generator.write(sys.stdout)
    else:
        with open(args.out, "w", encoding="ascii", newline="\n") as out:
            written = generator.write(out)
    elapsed = time.perf_counter() - started
    print(
        f"wrote {written:,} records ({generator.bad_lines:,} damaged) in {elapsed:.1f} s "
        f"({written / max(elapsed, 1e-9):,.0f} records/s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
