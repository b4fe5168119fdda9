"""The relevance engine's resident memory, measured in a fresh process.

paperbot must serve 100k papers in 200 MB of RSS, so the engine's own share is held to
a budget: importing it, loading the embedding model, encoding 500 real papers and
ranking them for 100 members (a third also following a topic). The figures are printed;
docs/RELEVANCE.md explains what makes them up.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.relevance_corpus import DATA

ROOT = Path(__file__).parent.parent
# MB over the process before the engine was imported. Measured 52-56 after ranking and
# at the peak: numpy ~11, the tokenizer ~19 (its vocabulary and merges, and the
# tokenizers library), the document-frequency table 4, the papers, models and picks of
# the run ~10, and the C allocator's free but unreturned pages. It was ~250 and ~270
# with scikit-learn, scipy and wordllama's own loader.
BUDGET_MB = 64
PEAK_BUDGET_MB = 68

PROBE = """
import gzip, json, os, random, sys

def rss():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

def status():
    fields = {}
    for line in open("/proc/self/status"):
        name, _, value = line.partition(":")
        if name in ("RssAnon", "RssFile", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields

# The bot's own modules and the papers are loaded before measuring: they are not the
# engine's.
from bot.core.topics import load_default_topics
topics = load_default_topics()
with gzip.open(sys.argv[1], "rt", encoding="utf-8") as handle:
    rows = [json.loads(line) for line, _ in zip(handle, range(500))]
figures = {"before": rss()}
before = status()
from bot.services.relevance import (
    CorpusStats, Follows, PaperText, Rated, Signal, build_model, candidate_set, encode,
    rank_many,
)
from bot.services.relevance.embedding import embed
figures["imported"] = rss()
embed(["loads the tokenizer and the embedding table"])
figures["loaded"] = rss()
texts = [
    PaperText(p["id"], p["title"], p["abstract"], tuple(p["authors"]), p.get("upvotes"))
    for p in rows
]
stats = CorpusStats()
vectors = encode(texts, stats)
figures["encoded"] = rss()
rng = random.Random(3)
models = []
for member in range(100):
    rated = rng.sample(range(len(texts)), rng.randint(3, 20))
    ratings = [Rated(texts[i], vectors[i], rng.choice(list(Signal))) for i in rated]
    follows = Follows(topics=(rng.choice(topics),)) if member % 3 == 0 else Follows()
    models.append(build_model(ratings, follows, stats))
picks = rank_many(models, candidate_set(texts, vectors, stats), limit=10)
figures["ranked"] = rss()
after = status()
# This process's own high-water mark. getrusage's ru_maxrss would not do: it keeps the
# parent's (pytest's) figure from before the exec.
figures["peak"] = after["VmHWM"]
figures["anon"] = after["RssAnon"] - before["RssAnon"]
figures["file"] = after["RssFile"] - before["RssFile"]
figures["picks"] = sum(len(p) for p in picks)
figures["modules"] = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps(figures))
"""


def test_the_engine_stays_within_its_memory_budget() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(DATA / "papers.jsonl.gz")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    base = figures["before"]
    share = {stage: figures[stage] - base for stage in ("imported", "loaded", "encoded", "ranked")}
    peak = figures["peak"] - base
    print(
        f"\nRSS over {base:.1f} MB before import: "
        + ", ".join(f"{stage} +{mb:.1f}" for stage, mb in share.items())
        + f", peak +{peak:.1f} MB (after ranking: {figures['anon']:.1f} anonymous, "
        f"{figures['file']:.1f} file-backed)"
    )
    assert figures["picks"] > 100  # the members got papers: real work was measured
    assert share["ranked"] <= BUDGET_MB
    assert peak <= PEAK_BUDGET_MB
    # What made the old figure: none of these may come back at run time.
    heavy = {"scipy", "sklearn", "wordllama", "pydantic", "requests", "safetensors"}
    assert heavy.isdisjoint(figures["modules"])
