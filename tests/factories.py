"""Builders for StoredPaper test data, realistic and hostile.

Shared by several test modules: keep the signatures stable.

    make_paper(title=..., abstract=..., topics=["speech-audio", ("biology", 0.4)], position=3)
    make_papers(98)                 # realistic, positions 1..98, arXiv ids
    hostile_papers(500)             # 600-char titles, 10k abstracts, @everyone, markdown...
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable

from bot.core.models import StoredPaper, TopicHit
from bot.core.text import normalize_title

DAY = dt.date(2026, 3, 14)

TOPIC_NAMES: dict[str, str] = {
    "vision": "Computer vision",
    "nlp": "Language models",
    "speech-audio": "Speech & audio",
    "biology": "Biology",
    "robotics": "Robotics",
}

_ids = itertools.count(1)

REALISTIC_TITLES = (
    "Rewrite Caption Semantics: Bridging Semantic Gaps for Language-Supervised "
    "Semantic Segmentation",
    "RAD-DINO: Exploring Scalable Medical Image Encoders Beyond Text Supervision",
    "MMInstruct: A High-Quality Multi-Modal Instruction Tuning Dataset with Extensive Diversity",
    "Goal Representations for Instruction Following: A Semi-Supervised Language Interface",
    "Crystal Transformer: Self-learning neural language model for Generative Design of Materials",
    "AstroM$^3$: A self-supervised multimodal model for astronomy",
)

REALISTIC_ABSTRACT = (
    "Language-supervised pre-training has proven to be a valuable method for extracting "
    "semantically meaningful features from images, e.g. in medical imaging. However, the "
    "resulting features are limited by the information contained within the text (Smith et "
    "al. 2023). We improve accuracy by 3.5 points vs. the baseline on 8 benchmarks. Code is "
    "at https://github.com/example/rad_dino_code."
)

HOSTILE_TITLES = (
    "**bold** @everyone",
    "[click me](http://evil.example) @here <@123456789012345678> <@&42> <#99>",
    "# Heading\n> quote\n- list item\n1. numbered",
    "~~strike~~ __under__ ||spoiler|| `code` ```block```",
    "نموذج لغوي كبير للترجمة الآلية \u202eevil\u202c",  # RTL text plus a bidi override
    "🚀🔥 Emoji Transformer 🤖✨ with 👨‍👩‍👧‍👦 family tokens",
    "AstroM$^3$: \\(x^2\\) LaTeX \\textbf{everywhere} $\\alpha_1$",
    "T" * 600,
    ("A very long title " * 40).strip(),  # ~720 chars, with spaces
    "大规模语言模型的高效推理" * 60,  # 720 CJK chars: percent-encodes to ~6.5k
    "",
    "\\*not\\* escaped \\\\ backslashes \\",
)

HOSTILE_ABSTRACTS = (
    "",
    "x" * 10_000,
    ("We study @everyone and **bold** [x](http://evil) claims. " * 200).strip(),
    "First sentence, e.g. with an abbreviation, vs. others, et al. too. Second one. Third.",
    "نموذج لغوي. جملة ثانية. " * 400,
    "🚀 " * 3000,
    "No sentence end at all " * 500,
    "Line one\n# Heading line\n> quote line\n```\ncode block\n```\n" * 100,
    "A" + "\u0000\u0007\u001b" * 50 + " controls.",
)


def hit(topic: str, score: float = 1.0, *why: str) -> TopicHit:
    """A TopicHit; ``why`` defaults to the topic slug itself."""
    return TopicHit(topic=topic, score=score, why=why or (topic,))


def _hits(topics: Iterable[str | tuple[str, float] | TopicHit]) -> tuple[TopicHit, ...]:
    out: list[TopicHit] = []
    for item in topics:
        if isinstance(item, TopicHit):
            out.append(item)
        elif isinstance(item, tuple):
            out.append(hit(*item))
        else:
            out.append(hit(item))
    return tuple(out)


def make_paper(
    title: str = REALISTIC_TITLES[0],
    abstract: str = REALISTIC_ABSTRACT,
    *,
    id: int | None = None,
    key: str | None = None,
    arxiv_id: str | None = "2403.01234",
    authors: tuple[str, ...] = ("Ada Lovelace", "Alan Turing"),
    upvotes: int | None = 12,
    first_seen: dt.date = DAY,
    last_seen: dt.date | None = None,
    days: tuple[dt.date, ...] | None = None,
    topics: Iterable[str | tuple[str, float] | TopicHit] = (),
    position: int | None = None,
) -> StoredPaper:
    """One StoredPaper with realistic defaults; every id is unique unless given.

    ``topics`` accepts slugs, ``(slug, score)`` pairs or TopicHit objects.
    """
    paper_id = next(_ids) if id is None else id
    return StoredPaper(
        id=paper_id,
        key=key if key is not None else (normalize_title(title) or f"paper-{paper_id}"),
        title=title,
        abstract=abstract,
        arxiv_id=arxiv_id,
        authors=tuple(authors),
        upvotes=upvotes,
        first_seen=first_seen,
        last_seen=last_seen or first_seen,
        days=days if days is not None else (first_seen,),
        topics=_hits(topics),
        position=position,
    )


def make_papers(n: int, *, day: dt.date = DAY, topics: tuple[str, ...] = ()) -> list[StoredPaper]:
    """``n`` realistic papers of one day, positions 1..n, distinct arXiv ids.

    Topics cycle through TOPIC_NAMES unless ``topics`` is given (then every paper gets
    all of them).
    """
    slugs = list(TOPIC_NAMES)
    papers = []
    for i in range(n):
        paper_topics = topics or ((slugs[i % len(slugs)], 0.5 + (i % 7) / 10),)
        papers.append(
            make_paper(
                f"{REALISTIC_TITLES[i % len(REALISTIC_TITLES)]} (part {i + 1})",
                REALISTIC_ABSTRACT,
                arxiv_id=f"2403.{10000 + i:05d}",
                authors=tuple(f"Author {j}" for j in range(1 + i % 12)),
                upvotes=(n - i) * 3,
                first_seen=day,
                topics=paper_topics,
                position=i + 1,
            )
        )
    return papers


def hostile_papers(n: int, *, day: dt.date = DAY) -> list[StoredPaper]:
    """``n`` papers cycling through every hostile title/abstract combination.

    Half have no arXiv id (so their link is the Hugging Face search fallback), some
    have no position, hundreds of authors, or hostile author and topic names.
    """
    slugs = [*TOPIC_NAMES, "@everyone-topic"]
    papers = []
    for i in range(n):
        title = HOSTILE_TITLES[i % len(HOSTILE_TITLES)]
        abstract = HOSTILE_ABSTRACTS[(i // len(HOSTILE_TITLES)) % len(HOSTILE_ABSTRACTS)]
        papers.append(
            make_paper(
                title,
                abstract,
                arxiv_id=None if i % 2 else f"2403.{20000 + i:05d}",
                authors=tuple(f"**Author** @everyone {j}" for j in range(i % 300)),
                upvotes=None if i % 3 == 0 else i,
                first_seen=day,
                days=tuple(day - dt.timedelta(days=k) for k in range(i % 5)),
                topics=[(slugs[i % len(slugs)], 1.0), (slugs[(i + 2) % len(slugs)], 0.3)],
                position=None if i % 4 == 3 else i + 1,
            )
        )
    return papers
