"""A later dump of a day already stored (a re-fetch of the HF list, a second saved
file): what it changes on that day. Upvotes, links and summaries change during the day
and papers are added late; the ingest updates them in place, and this says what moved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.hf_extras import HfExtras
from bot.core.models import DayEntry, PlanAction, PlannedPaper

# What a day update can change, in the order the report names them.
CHANGE_KINDS = ("upvotes", "links", "summaries", "comments")


@dataclass
class DayChanges:
    added: int = 0  # papers not listed on the day before
    changed: dict[str, int] = field(default_factory=dict)  # kind -> papers it changed on


def _differs(new: object, old: object) -> bool:
    """A value the dump gives (not None/empty) that is not the stored one."""
    return new not in (None, "", ()) and new != old


def _kinds(item: PlannedPaper, entry: DayEntry) -> list[str]:
    paper, new, old = item.paper, item.paper.hf, entry.hf
    found = []
    if _differs(paper.upvotes, entry.upvotes):
        found.append("upvotes")
    if any(_differs(getattr(new, f), getattr(old, f)) for f in _LINKS):
        found.append("links")
    if (
        _differs(new.ai_summary, old.ai_summary)
        or _differs(new.ai_keywords, old.ai_keywords)
        or _differs(paper.abstract, entry.abstract)
    ):
        found.append("summaries")
    if _differs(new.num_comments, old.num_comments):
        found.append("comments")
    return found


_LINKS = ("github_repo", "github_stars", "project_page")
assert all(hasattr(HfExtras(), f) for f in _LINKS)


def day_changes(planned: Sequence[PlannedPaper], listed: Sequence[DayEntry]) -> DayChanges:
    """How the planned papers change the day whose stored listing is `listed`."""
    by_id = {entry.paper_id: entry for entry in listed}
    changes = DayChanges()
    counts = dict.fromkeys(CHANGE_KINDS, 0)
    for item in planned:
        if item.action == PlanAction.UPDATED:
            continue  # an arXiv replacement changes a paper without listing it
        entry = by_id.get(item.existing_id) if item.existing_id is not None else None
        if entry is None:
            changes.added += 1
            continue
        for kind in _kinds(item, entry):
            counts[kind] += 1
    changes.changed = {kind: count for kind, count in counts.items() if count}
    return changes
