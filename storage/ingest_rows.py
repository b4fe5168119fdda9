"""The rows one ingest writes, worked out the same way for both backends. How they are
written (executemany on SQLite, one statement over arrays on PostgreSQL) and how the
stored papers are read and locked stay each backend's."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.authors import author_key
from bot.core.dedupe import retired_titles
from bot.core.models import DayEntry, IngestPlan, PlanAction, PlannedPaper
from storage.rows import hf_extras_of

# What a stored paper's re-appearance is folded against: SELECT these, in this order.
STORED_COLUMNS = "id, title, norm_title, abstract, last_seen"
INSERT_DUMP = (
    "INSERT INTO dumps (content_hash, source, format, day, day_source, ingested_at, report,"
    " paper_source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def dump_row(plan: IngestPlan) -> tuple[object, ...]:
    """The INSERT_DUMP values of the dump a plan ingests, stamped now."""
    return (
        plan.content_hash,
        plan.source,
        plan.format,
        plan.day.isoformat(),
        plan.day_source,
        dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        plan.report_json,
        plan.paper_source,
    )


def new_paper_row(item: PlannedPaper, paper_id: int, day: str) -> tuple[object, ...]:
    """(id, title, norm_title, abstract, arxiv_id, authors, upvotes, published,
    first_seen, last_seen) of a new paper."""
    paper = item.paper
    return (
        paper_id,
        paper.title,
        item.norm_title,
        paper.abstract,
        paper.arxiv_id,
        json.dumps(list(paper.authors)),
        paper.upvotes,
        paper.published.isoformat() if paper.published else None,
        day,
        day,
    )


def new_paper_variants(item: PlannedPaper, paper_id: int) -> list[tuple[int, str]]:
    """The other titles the file listed a new paper under: searchable variants."""
    return [(paper_id, t) for t in retired_titles(item.paper.title, item.titles)]


@dataclass(frozen=True)
class Refolded:
    """A stored paper with one re-appearance folded in."""

    id: int
    title: str
    norm_title: str
    abstract: str
    arxiv_id: str | None  # only fills a missing one
    authors: str | None  # JSON; None keeps the stored authors
    upvotes: int | None  # None keeps the stored count
    published: str | None  # only fills a missing one
    changed: bool  # its title or abstract changed: its topics are recomputed
    variants: list[tuple[int, str]]  # titles it no longer carries, kept searchable

    def values(self) -> tuple[str, str, str, str | None, str | None, int | None, str | None]:
        """(title, norm_title, abstract, arxiv_id, authors, upvotes, published)."""
        return (
            self.title,
            self.norm_title,
            self.abstract,
            self.arxiv_id,
            self.authors,
            self.upvotes,
            self.published,
        )


def refold(item: PlannedPaper, stored: Sequence[Any], day: str) -> Refolded:
    """Fold a re-appearance on `day` into the stored paper (a STORED_COLUMNS row).

    The newest day's title wins (a fixed typo should show), and an abstract is only
    replaced by a non-empty one, so a later dump missing it loses nothing. The title
    that loses is kept as a variant, so a search for it still finds the paper."""
    paper_id, title, norm_title, abstract, last_seen = stored
    paper = item.paper
    newer = day >= last_seen
    new_title, new_norm = (paper.title, item.norm_title) if newer else (title, norm_title)
    keep_old = not paper.abstract or (abstract and not newer)
    new_abstract = abstract if keep_old else paper.abstract
    return Refolded(
        id=paper_id,
        title=new_title,
        norm_title=new_norm,
        abstract=new_abstract,
        arxiv_id=paper.arxiv_id,
        authors=json.dumps(list(paper.authors)) if paper.authors else None,
        upvotes=paper.upvotes,
        published=paper.published.isoformat() if paper.published else None,
        changed=(new_title, new_abstract) != (title, abstract),
        variants=[(paper_id, t) for t in retired_titles(new_title, (title, *item.titles))],
    )


def seen_day(item: PlannedPaper, stored: Sequence[Any], day: str) -> str:
    """The day a fold widens the paper's first/last seen to: `day`, except for an arXiv
    replacement, which changes the paper without listing it (its stored last day)."""
    return str(stored[4]) if item.action == PlanAction.UPDATED else day


# (paper id, day, position, upvotes, dump id): one appearances row.
Appearance = tuple[int, str, int | None, int | None, int | None]


@dataclass
class ChildRows:
    """The rows hanging off the plan's papers, once every paper has its id."""

    keys: list[tuple[str, int]] = field(default_factory=list)  # (key, paper id)
    blocks: list[tuple[str, int]] = field(default_factory=list)  # (block, paper id)
    # (paper id, day, position, upvotes, dump id), in plan order; not for replacements
    appearances: list[Appearance] = field(default_factory=list)
    listed: list[tuple[int, int]] = field(default_factory=list)  # (dump id, paper id)
    # Papers whose arXiv categories the dump states (their stored ones are replaced),
    # and their (paper id, category, position) rows, the primary category at 0.
    categorised: list[int] = field(default_factory=list)
    categories: list[tuple[int, str, int]] = field(default_factory=list)
    # (paper id, topic, score, why JSON) of the papers whose topics are recomputed
    topics: list[tuple[int, str, float, str]] = field(default_factory=list)
    vocab: Counter[str] = field(default_factory=Counter)  # word -> papers it is new in
    # Papers whose authors the dump gives (their `paper_authors` rows are replaced, as
    # `papers.authors` is) and the new rows: (paper id, position, name, name key).
    authored: list[int] = field(default_factory=list)
    authors: list[tuple[int, int, str, str]] = field(default_factory=list)


def child_rows(plan: IngestPlan, day: str, dump_id: int | None, retopic: set[int]) -> ChildRows:
    rows = ChildRows()
    for item in plan.papers:
        pid = item.existing_id
        assert pid is not None, "child rows before the paper has an id"
        rows.keys += [(key, pid) for key in item.keys]
        rows.blocks += [(block, pid) for block in item.blocks]
        if item.action != PlanAction.UPDATED:
            rows.appearances.append((pid, day, item.paper.position, item.paper.upvotes, dump_id))
            if dump_id is not None:
                rows.listed.append((dump_id, pid))
        if item.paper.categories and pid not in rows.categorised:
            rows.categorised.append(pid)
            rows.categories += [(pid, c, n) for n, c in enumerate(item.paper.categories)]
        if pid in retopic:
            rows.topics += [(pid, t.topic, t.score, json.dumps(list(t.why))) for t in item.topics]
        rows.vocab.update(item.words)
        if item.paper.authors and pid not in rows.authored:
            rows.authored.append(pid)
            rows.authors += author_rows(pid, item.paper.authors)
    return rows


# A dump's HF extras, written after its papers are inserted or folded: a value the dump
# gives replaces the stored one; one it leaves out (absent, as the API does) keeps it.
UPDATE_EXTRAS = (
    "UPDATE papers SET ai_summary = COALESCE(?, ai_summary),"
    " ai_keywords = COALESCE(?, ai_keywords), github_repo = COALESCE(?, github_repo),"
    " github_stars = COALESCE(?, github_stars), project_page = COALESCE(?, project_page),"
    " organization = COALESCE(?, organization), num_comments = COALESCE(?, num_comments)"
    " WHERE id = ?"
)
# The papers one source's dumps already listed on a day (`IngestTransaction.day_listing`).
DAY_LISTING = (
    "SELECT a.paper_id, a.upvotes, p.abstract, p.ai_summary, p.ai_keywords, p.github_repo,"
    " p.github_stars, p.project_page, p.organization, p.num_comments"
    " FROM appearances a JOIN papers p ON p.id = a.paper_id WHERE a.day = ?"
    " AND EXISTS (SELECT 1 FROM dump_papers l JOIN dumps d ON d.id = l.dump_id"
    " WHERE l.paper_id = a.paper_id AND d.day = a.day AND d.paper_source = ?)"
)


# UPDATE_EXTRAS values: ai_summary, ai_keywords (JSON), github_repo, github_stars,
# project_page, organization, num_comments, then the paper id.
ExtrasRow = tuple[
    str | None, str | None, str | None, int | None, str | None, str | None, int | None, int
]


def extras_rows(plan: IngestPlan) -> list[ExtrasRow]:
    """UPDATE_EXTRAS values for each paper of the plan the dump gave extras for (once
    every paper has its id); several items folding into one paper: the last wins."""
    rows: dict[int, ExtrasRow] = {}
    for item in plan.papers:
        extras = item.paper.hf
        if item.existing_id is None or not extras:
            continue
        rows[item.existing_id] = (
            extras.ai_summary or None,
            json.dumps(list(extras.ai_keywords)) if extras.ai_keywords else None,
            extras.github_repo,
            extras.github_stars,
            extras.project_page,
            extras.organization or None,
            extras.num_comments,
            item.existing_id,
        )
    return list(rows.values())


def day_entries(rows: Sequence[Sequence[Any]]) -> list[DayEntry]:
    """DAY_LISTING rows as DayEntry."""
    return [
        DayEntry(pid, upvotes, abstract or "", hf_extras_of(extras))
        for pid, upvotes, abstract, *extras in rows
    ]


def author_rows(paper_id: int, names: Sequence[str]) -> list[tuple[int, int, str, str]]:
    """(paper id, position, name, name key) for a paper's authors, in their order."""
    return [(paper_id, n, name, author_key(name)) for n, name in enumerate(names)]
