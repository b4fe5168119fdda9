"""Deciding, without IDs, whether an incoming paper is new, known, or a near-duplicate.

A paper is known by keys: `arxiv:<id>` when the dump gives one, and `t:<title key>` for
every title variant seen. Exact keys catch reformatting. For an edited title we look up
stored papers sharing a blocking key: the title's first or last 16 characters, its
distinctive head, or a fingerprint of its abstract's opening words
(`bot.core.abstracts`). Blocking keeps this an indexed lookup at a million papers
instead of a full scan. Each candidate is then judged on three kinds of evidence:

- the title's core (`bot.core.title_forms`): equal cores are the same paper, whatever
  else differs (an edition note, British spelling, case, hyphens);
- the abstract: the same text (perhaps revised) makes it the same paper even when the
  title was reworded; another paper's text keeps it apart even when the titles are
  close (`Revisiting X`, `Towards X`, `X: A Survey`);
- without abstracts to go by, the titles alone: a small edit, or the same distinctive
  head with a reworded subtitle (rapidfuzz), as before abstracts were weighed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from bot.core.abstracts import Evidence, abstract_blocks, abstract_words, compare_abstracts
from bot.core.models import KnownPaper, ParsedPaper, PlanAction, PlannedPaper, TopicHit
from bot.core.text import normalize_title, word_tuple, words
from bot.core.title_forms import content_numbers, title_core, title_key

BLOCK_CHARS = 16
# ratio() on normalized titles: 93 allows a fixed typo or two in a typical 60-char title
# while two genuinely different papers that share a template ("A Survey of X") stay apart.
SAME_TITLE_RATIO = 93.0
SUBTITLE_OVERLAP = 50.0
_NUMBER = re.compile(r"\d+")
_HEAD_SPLIT = re.compile(r"\s*[:\u2013\u2014]\s+|\s+-{1,2}\s+")
# Ingest computes every incoming paper's blocks to query storage, then `plan_papers`
# needs them again: remembering a few dumps' worth makes the second time a lookup.
_BLOCKS_CACHE = 4096


def paper_keys(paper: ParsedPaper, norm_title: str) -> tuple[str, ...]:
    keys = []
    if paper.arxiv_id:
        keys.append(f"arxiv:{paper.arxiv_id}")
    key = title_key(paper.title) if "+" in paper.title else norm_title
    if key:
        keys.append(f"t:{key}")
    return tuple(keys)


def paper_blocks(paper: ParsedPaper, norm_title: str) -> tuple[str, ...]:
    """Every blocking key of an incoming paper: its title's and its abstract's."""
    return title_blocks(paper.title, norm_title) + abstract_blocks(paper.abstract)


@functools.lru_cache(maxsize=_BLOCKS_CACHE)
def title_blocks(title: str, norm_title: str) -> tuple[str, ...]:
    """Blocking keys: the normalized title's first and last 16 characters (a typo
    rarely hits both ends) and its distinctive head (a reworded subtitle keeps it)."""
    if not norm_title:
        return ()
    blocks = [f"p:{norm_title[:BLOCK_CHARS]}", f"s:{norm_title[-BLOCK_CHARS:]}"]
    head = _head(title)
    if head:
        blocks.append(f"h:{head}")
    return tuple(blocks)


def _head(title: str) -> str | None:
    """The part before a subtitle separator, if it looks like a distinctive name.

    `RAD-DINO: Exploring ...` has head `RAD-DINO`; a generic head such as `Survey`
    must not glue two unrelated papers together, so a head counts only when it has
    three or more words or mixes case/digits like a model name.
    """
    parts = _HEAD_SPLIT.split(title, maxsplit=1)
    if len(parts) < 2:
        return None
    head = parts[0].strip()
    distinctive = len(words(head)) >= 3 or (
        len(normalize_title(head)) >= 4
        and (any(c.isdigit() for c in head) or sum(c.isupper() for c in head) >= 2)
    )
    return normalize_title(head) if distinctive else None


class _Facts:
    """What the comparison looks at in one paper, worked out at most once per paper: a
    paper is compared with every stored candidate sharing a block (hundreds for a common
    opening at 100k papers), and redoing the regex work per pair dominated the
    comparison. The title core, the numbers and the abstract's words are only needed
    when a pair gets that far, so they are worked out on first use."""

    __slots__ = (
        "_abstract", "_core", "_numbers", "_remember", "_words", "_words_known", "head", "norm",
        "numbers", "title",
    )  # fmt: skip

    def __init__(
        self, title: str, norm: str | None = None, abstract: str = "", remember: bool = False
    ) -> None:
        self.title = title
        self.norm = normalize_title(title) if norm is None else norm
        self.numbers = tuple(_NUMBER.findall(title))
        self.head = _head(title)
        self._abstract = abstract
        # Incoming abstracts go through `word_tuple`'s small cache, where topic tagging
        # finds them split already; stored candidates' would only push those out.
        self._remember = remember
        self._core: str | None = None
        self._numbers: tuple[str, ...] | None = None
        self._words: tuple[str, ...] | None = None  # None: too short to compare
        self._words_known = False  # `_words` worked out (lazily: most are never needed)

    @property
    def core(self) -> str:
        if self._core is None:
            self._core = title_core(self.title)
        return self._core

    @property
    def content_numbers(self) -> tuple[str, ...]:
        if self._numbers is None:
            self._numbers = content_numbers(self.title)
        return self._numbers

    @property
    def abstract(self) -> tuple[str, ...] | None:
        if not self._words_known:
            self._words = abstract_words(self._abstract, remember=self._remember)
            self._words_known = True
        return self._words


def near_duplicate(a: str, b: str, norm_a: str | None = None, norm_b: str | None = None) -> bool:
    """True when two titles (no abstracts known) name the same paper: equal cores, a
    small edit, or the same distinctive head with a reworded subtitle. Pass the
    normalized titles when already known."""
    return _same_paper(_Facts(a, norm_a), _Facts(b, norm_b))


def _same_paper(a: _Facts, b: _Facts) -> bool:
    """The decision for one pair, on the evidence described in the module docstring."""
    if not a.norm or not b.norm:
        return False
    if a.core and a.core == b.core:
        return True
    titles_agree = _similar_titles(a, b)
    if not titles_agree and not (a.abstract and b.abstract):
        return False
    evidence = compare_abstracts(a.abstract, b.abstract)
    if titles_agree:
        return evidence is not Evidence.DIFFERENT
    # A reworded title with the same abstract, unless the titles count differently:
    # `X v2` is an edition of X, but yearly reports (`X 2023`, `X 2024`) share templates.
    return evidence is Evidence.SAME and a.content_numbers == b.content_numbers


def _similar_titles(a: _Facts, b: _Facts) -> bool:
    """The titles alone: a small edit, or the same distinctive head with a reworded
    subtitle."""
    # `Llama 2` and `Llama 3` are different papers however alike the rest reads.
    if a.numbers != b.numbers:
        return False
    if a.norm == b.norm or fuzz.ratio(a.norm, b.norm, score_cutoff=SAME_TITLE_RATIO):
        return True
    if a.head and a.head == b.head:
        return (
            fuzz.token_set_ratio(a.title, b.title, processor=default_process)
            >= SUBTITLE_OVERLAP + 30
            or fuzz.token_sort_ratio(a.title, b.title, processor=default_process)
            >= SUBTITLE_OVERLAP
        )
    return False


def _compatible(incoming: ParsedPaper, known: KnownPaper) -> bool:
    """Two different arXiv IDs are two papers, however alike their titles."""
    return not (incoming.arxiv_id and known.arxiv_id and incoming.arxiv_id != known.arxiv_id)


@dataclass
class DedupeOutcome:
    planned: list[PlannedPaper]
    duplicates_in_file: int
    merges: list[tuple[str, str]]


def plan_papers(
    papers: Sequence[ParsedPaper],
    by_key: dict[str, KnownPaper],
    candidates: Sequence[KnownPaper],
    topics_for: Callable[[str, str], tuple[TopicHit, ...]],
) -> DedupeOutcome:
    """Classify each incoming paper against what storage already knows.

    `by_key` holds the stored papers matching any incoming key; `candidates` those
    sharing a blocking key. Papers repeated within the file collapse into the first.
    A paper found by its arXiv ID under a title never seen before counts as merged
    (its old title is reported, and kept searchable), as a fuzzy match does.
    """
    planned: list[PlannedPaper] = []
    merges: list[tuple[str, str]] = []
    duplicates = 0
    by_existing: dict[int, PlannedPaper] = {}
    # Stored candidates by blocking key: each paper is compared only with those sharing
    # one of its blocks, never with every candidate of the dump.
    stored_by_block: dict[str, list[KnownPaper]] = {}
    stored_facts: dict[int, _Facts] = {}  # filled as candidates get compared

    def facts_of(known: KnownPaper) -> _Facts:
        found = stored_facts.get(known.id)
        if found is None:
            found = stored_facts[known.id] = _Facts(known.title, known.key, known.abstract)
        return found

    for candidate in candidates:
        # The blocks it was found by, when storage says: those of an earlier title or
        # abstract are not among the ones its current text gives.
        found_by = candidate.blocks or (
            title_blocks(candidate.title, candidate.key) + abstract_blocks(candidate.abstract)
        )
        for block in found_by:
            stored_by_block.setdefault(block, []).append(candidate)
    fresh_facts: dict[int, _Facts] = {}  # id() of a new PlannedPaper -> its facts
    # New papers so far, indexed the way storage indexes them, for in-file repeats.
    fresh_by_key: dict[str, PlannedPaper] = {}
    fresh_by_block: dict[str, list[PlannedPaper]] = {}

    for paper in papers:
        norm = normalize_title(paper.title)
        keys = paper_keys(paper, norm)
        blocks = paper_blocks(paper, norm)
        # Where arXiv ids decide, a title key shared with a paper under another id is
        # no match: two ids are two papers, whatever their titles.
        known = next(
            (by_key[k] for k in keys if k in by_key and _compatible(paper, by_key[k])), None
        )
        action = PlanAction.KNOWN
        facts: _Facts | None = None
        if known is not None and known.key != norm and _retitled(known, keys, by_key):
            action = PlanAction.MERGED
        elif known is None:
            facts = _Facts(paper.title, norm, paper.abstract, remember=True)
            nearby = {c.id: c for b in blocks for c in stored_by_block.get(b, ())}
            known = next(
                (
                    c
                    for c in nearby.values()
                    if _compatible(paper, c) and _same_paper(facts, facts_of(c))
                ),
                None,
            )
            action = PlanAction.MERGED
        if known is not None:
            if known.id in by_existing:
                duplicates += 1
                _absorb(by_existing[known.id], paper.title, keys, blocks)
                continue
            if action == PlanAction.MERGED:
                merges.append((paper.title, known.title))
            item = PlannedPaper(
                paper,
                action,
                keys,
                blocks,
                norm,
                topics_for(paper.title, paper.abstract),
                existing_id=known.id,
                titles=(paper.title,),
            )
            by_existing[known.id] = item
            planned.append(item)
            continue
        twin = next(
            (
                fresh_by_key[k]
                for k in keys
                if k in fresh_by_key and _compatible(paper, _as_known(fresh_by_key[k]))
            ),
            None,
        )
        if twin is None:
            facts = facts or _Facts(paper.title, norm, paper.abstract, remember=True)
            fresh_nearby = [f for b in blocks for f in fresh_by_block.get(b, ())]
            twin = next(
                (
                    f
                    for f in fresh_nearby
                    if _compatible(paper, _as_known(f)) and _same_paper(facts, fresh_facts[id(f)])
                ),
                None,
            )
        if twin is not None:
            duplicates += 1
            _absorb(twin, paper.title, keys, blocks)
            continue
        item = PlannedPaper(
            paper,
            PlanAction.NEW,
            keys,
            blocks,
            norm,
            topics_for(paper.title, paper.abstract),
            words=paper_words(paper.title, paper.abstract),
            titles=(paper.title,),
        )
        fresh_facts[id(item)] = facts or _Facts(paper.title, norm, paper.abstract, remember=True)
        for key in keys:
            fresh_by_key.setdefault(key, item)  # the first paper keeps a shared title key
        for block in blocks:
            fresh_by_block.setdefault(block, []).append(item)
        planned.append(item)
    return DedupeOutcome(planned, duplicates, merges)


def _retitled(known: KnownPaper, keys: tuple[str, ...], by_key: dict[str, KnownPaper]) -> bool:
    """Found by its arXiv ID, under a title none of the paper's keys knows."""
    title_keys = [k for k in keys if k.startswith("t:")]
    return bool(title_keys) and all(k not in by_key or by_key[k].id != known.id for k in title_keys)


def paper_words(title: str, abstract: str) -> tuple[str, ...]:
    """A new paper's distinct words, sorted, for the vocabulary."""
    return tuple(sorted(distinct_words(title, abstract)))


def distinct_words(title: str, abstract: str) -> set[str]:
    """A paper's distinct words (each counts once towards a word's document frequency).

    `word_tuple` remembers recent texts, so the words topic tagging just split are reused.
    """
    return {*word_tuple(title), *word_tuple(abstract)}


def retired_titles(kept: str, seen: Iterable[str]) -> list[str]:
    """The titles among `seen` a paper keeps as searchable variants once it is listed as
    `kept`: those whose words differ from it (and from each other; case and punctuation
    alone change nothing a search can tell)."""
    found: dict[tuple[str, ...], str] = {tuple(words(kept)): kept}
    for title in seen:
        found.setdefault(tuple(words(title)), title)
    return [title for title in found.values() if title != kept and words(title)]


def _absorb(
    target: PlannedPaper, title: str, keys: tuple[str, ...], blocks: tuple[str, ...]
) -> None:
    """A repeat within the file still teaches us its title variant."""
    target.keys = tuple(dict.fromkeys(target.keys + keys))
    target.blocks = tuple(dict.fromkeys(target.blocks + blocks))
    target.titles = tuple(dict.fromkeys((*target.titles, title)))


def _as_known(item: PlannedPaper) -> KnownPaper:
    return KnownPaper(
        id=-1, key=item.norm_title, title=item.paper.title, arxiv_id=item.paper.arxiv_id
    )
