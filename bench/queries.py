"""The fixed query mix: 200 searches in ten classes, the same at every corpus size.

The words come from the bundled sample (so the synthetic corpus holds them); the only
corpus-dependent queries are the coined model names, which depend on nothing but their
serial number (see :func:`bench.corpus.coined_name`), and ``since`` filters, which are
relative to the corpus' newest day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bench.corpus import coined_name

# Single very common words: each is in a large share of all papers.
COMMON = [
    "language", "model", "models", "learning", "data", "performance", "training",
    "large", "tasks", "results", "approach", "text", "method", "framework", "generation",
    "human", "datasets", "experiments", "natural", "quality", "benchmarks", "alignment",
    "understanding", "capabilities", "supervised",
]  # fmt: skip
# Words seen in only one or two sample papers: a small share of the corpus.
RARE = [
    "cherokee", "electronegativity", "microwave", "hindsight", "paucity", "revitalization",
    "tinkering", "leakage", "grammars", "neutrality", "compositions", "inorganic",
    "endangered", "annotators", "circulates", "archive", "misalignment", "radiology",
    "clinical", "molecular", "hallucination", "distillation", "pruning", "sparse", "quantity",
]  # fmt: skip
NAMES = 10  # coined model names: each in one or a few papers
TWO_WORDS = [
    "language model", "image segmentation", "speech recognition", "reward model",
    "instruction tuning", "visual reasoning", "protein design", "code generation",
    "video understanding", "medical imaging", "contrastive learning", "knowledge graph",
    "policy optimization", "semantic segmentation", "machine translation", "text generation",
    "preference alignment", "zero shot", "chain thought", "retrieval augmented",
    "diffusion model", "transformer attention", "multimodal benchmark", "robot manipulation",
    "human feedback", "data augmentation", "graph neural", "audio generation",
    "clinical notes", "embedding space",
]  # fmt: skip
THREE_WORDS = [
    "large language models", "vision language model", "reinforcement learning human",
    "zero shot classification", "instruction tuning dataset", "chain of reasoning",
    "text to image", "speech language model", "low resource translation",
    "reward model preference", "multimodal instruction data", "medical image encoder",
    "self supervised learning", "code generation benchmark", "protein language model",
    "video question answering", "graph neural network", "open source models",
    "supervised fine tuning", "long context retrieval",
]  # fmt: skip
PHRASES = [
    '"large language models"', '"language model"', '"fine tuning"', '"zero shot"',
    '"state of the art"', '"reinforcement learning"', '"semantic segmentation"',
    '"question answering"', '"natural language processing"', '"pre training"',
    '"machine translation"', '"instruction tuning"', '"vision language"',
    '"in context learning"', '"chain of thought"', '"reward model"', '"text to speech"',
    '"data augmentation"', '"open source"', '"downstream tasks"',
]  # fmt: skip
MISSPELLED = [
    "langauge", "protien langauge model", "segmantation", "transfromer",
    "reinforcment learning", "benchmakr", "halucination", "retreival", "superivsed",
    "contrastve learning", "embeding", "preferance optimization", "evalution",
    "atention mechanism", "knowlege distilation", "translaton", "instrucion tuning",
    "reasonning", "perfromance", "generaton model",
]  # fmt: skip
PREFIXES = [
    "segment*", "transform*", "multi*", "lang*", "reinforc*", "token*", "align*",
    "halluc*", "diffus*", "retriev*",
]  # fmt: skip
# (query, topic slug): a keyword search narrowed to a topic.
TOPIC_FILTERED = [
    ("model", "llm"), ("language", "llm"), ("reward", "alignment-rlhf"),
    ("reasoning", "reasoning-math"), ("agents", "agents"), ("code", "code"),
    ("image", "multimodal"), ("segmentation", "computer-vision"), ("video", "video"),
    ("speech", "speech-audio"), ("robot", "robotics"), ("policy", "reinforcement-learning"),
    ("medical", "biomedical"), ("protein", "chemistry-biology"),
    ("translation", "translation-multilingual"), ("retrieval", "recommendation-retrieval"),
    ("graph", "graphs"), ("efficient", "efficiency"), ("benchmark", "datasets-benchmarks"),
    ("diffusion", "diffusion-generative"),
]  # fmt: skip
# (query, days back from the newest day): a keyword search over recent papers only.
SINCE_FILTERED = [
    ("language", 1), ("model", 7), ("learning", 30), ("data", 365), ("performance", 7),
    ("large language models", 30), ("segmentation", 7), ("translation", 30),
    ("reward model", 365), ("protein", 30), ("langauge model", 7), ("speech", 365),
    ("code generation", 7), ("benchmark", 30), ("alignment", 1), ("video", 7),
    ("cherokee", 365), ("instruction tuning", 30), ("diffusion", 7), ("transformer", 365),
]  # fmt: skip
TOPIC_ONLY = [
    "llm", "multimodal", "computer-vision", "speech-audio", "robotics", "biomedical",
    "code", "agents", "efficiency", "diffusion-generative",
]  # fmt: skip


@dataclass(frozen=True)
class Query:
    cls: str
    text: str | None
    topic: str | None = None
    since_days: int | None = None

    def since(self, newest: dt.date) -> dt.date | None:
        if self.since_days is None:
            return None
        return newest - dt.timedelta(days=self.since_days)


def query_mix() -> list[Query]:
    """The 200 searches, in a fixed order."""
    mix = [Query("common", w) for w in COMMON]
    mix += [Query("rare", w) for w in RARE]
    mix += [Query("name", coined_name(i).lower()) for i in range(NAMES)]
    mix += [Query("two_words", q) for q in TWO_WORDS]
    mix += [Query("three_words", q) for q in THREE_WORDS]
    mix += [Query("phrase", q) for q in PHRASES]
    mix += [Query("misspelled", q) for q in MISSPELLED]
    mix += [Query("prefix", q) for q in PREFIXES]
    mix += [Query("topic_filter", q, topic=t) for q, t in TOPIC_FILTERED]
    mix += [Query("since_filter", q, since_days=d) for q, d in SINCE_FILTERED]
    assert len(mix) == 200, len(mix)
    return mix


def topic_only_mix() -> list[Query]:
    """Topic searches with no keywords (a different code path: no FTS)."""
    return [Query("topic_only", None, topic=t) for t in TOPIC_ONLY]


def autocomplete_inputs(titles: list[str]) -> list[str]:
    """What people type into `/paper title:`: beginnings of real titles of several
    lengths, a few garbled ones, generic words, and nothing at all (50 inputs)."""
    inputs = [""]
    for i, title in enumerate(titles[:36]):
        inputs.append(title[: (3, 8, 15, 30)[i % 4]])
    garbled = [t[:20] for t in titles[36:43]]
    inputs += [g[:5] + g[6:] for g in garbled]  # one letter dropped
    inputs += ["language model", "vision", "diffusion", "speech", "protein benchmark", "rl"]
    return inputs[:50]
