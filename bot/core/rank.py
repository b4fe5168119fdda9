"""Pure ranking helpers: combining engine relevance with title and acronym matches, and
explaining in words why each result matched."""

from __future__ import annotations

import functools
import re

from rapidfuzz import fuzz

from bot.core.models import ParsedQuery, StoredPaper
from bot.core.text import normalize_title, words

_NAME_SPLIT = re.compile(r"\s*[:\u2013\u2014]\s+|\s+-{1,2}\s+")

# Weights on a 0..1 engine score: a paper matching every term outranks a partial
# match; naming the paper (its acronym or its whole title) outranks both.
ALL_TERMS_BONUS = 1.0
TITLE_SIMILARITY_WEIGHT = 0.6
NAME_BONUS = 2.0


def stem(word: str) -> str:
    """A light plural fold, so `models` explains a hit on `model` (FTS uses porter)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@functools.lru_cache(maxsize=4096)  # the same papers come up query after query
def title_name(title: str) -> str | None:
    """The paper's short name, normalized: `LoRAMoE` in `LoRAMoE: Revolutionizing ...`."""
    parts = _NAME_SPLIT.split(title, maxsplit=1)
    if len(parts) < 2:
        return None
    name = normalize_title(parts[0])
    return name if 2 <= len(name) <= 40 else None


def _variants(word: str) -> set[str]:
    """The spellings a stemmed index treats as this word (model, models, modeling is
    left out on purpose: only plurals are folded for the explanation)."""
    base = stem(word)
    forms = {word, base, base + "s", base + "es"}
    if base.endswith("y"):
        forms.add(base[:-1] + "ies")
    return forms


def _contains(text_words: set[str], word: str, prefix: bool) -> bool:
    if prefix:
        return any(w.startswith(word) for w in text_words)
    return not text_words.isdisjoint(_variants(word))


def explain(paper: StoredPaper, query: ParsedQuery) -> list[str]:
    """('name: X', 'title: a, b', 'abstract: c', 'keywords: d') for one result.
    Spelling corrections apply to every result alike, so the reply states them once,
    not here."""
    # Raw word sets (built in C) checked against each query word's few spellings, rather
    # than stemming every word of every abstract.
    title_words = set(words(paper.title))
    abstract_words = set(words(paper.abstract))
    keyword_words = {w for k in paper.hf.ai_keywords for w in words(k)}
    in_title, in_abstract, in_keywords = [], [], []
    wanted = [(t, False) for t in query.terms] + [(p, True) for p in query.prefixes]
    wanted += [(w, False) for phrase in query.phrases for w in phrase]
    for word, prefix in dict.fromkeys(wanted):
        label = f"{word}*" if prefix else word
        if _contains(title_words, word, prefix):
            in_title.append(label)
        elif _contains(abstract_words, word, prefix):
            in_abstract.append(label)
        elif _contains(keyword_words, word, prefix):
            in_keywords.append(label)
    why = []
    if names_paper(paper.title, query):
        why.append(f"name: {paper.title.split(':')[0].strip()}")
    if in_title:
        why.append("title: " + ", ".join(in_title))
    if in_abstract:
        why.append("abstract: " + ", ".join(in_abstract))
    if in_keywords:
        why.append("keywords: " + ", ".join(in_keywords))
    return why


def names_paper(title: str, query: ParsedQuery) -> bool:
    """The query is the paper's short name, or one of its words is."""
    name = title_name(title)
    return bool(name) and (name == _query_text(query)[1] or name in query.terms)


@functools.lru_cache(maxsize=256)
def _query_text(query: ParsedQuery) -> tuple[str, str]:
    """The query's words joined, as typed and normalized: computed once per query, not
    once per candidate."""
    text = " ".join(query.all_words())
    return text, normalize_title(text)


def combined_score(
    title: str,
    query: ParsedQuery,
    engine_score: float,
    best_engine_score: float,
    has_every_word: bool,
) -> float:
    """Engine relevance scaled to 0..1, plus bonuses for holding every word, a title
    similar to the query, and being named by it (its acronym). Needs only the title, so
    every candidate is ranked before any full paper is loaded."""
    score = engine_score / best_engine_score if best_engine_score > 0 else 0.0
    if has_every_word:
        score += ALL_TERMS_BONUS
    text = _query_text(query)[0]
    score += TITLE_SIMILARITY_WEIGHT * fuzz.token_set_ratio(text, title.casefold()) / 100
    if names_paper(title, query):
        score += NAME_BONUS
    return score
