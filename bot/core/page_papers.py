"""Which papers a digest page shows, carried beside its message payload.

A page is a message payload dict (content, embeds, allowed_mentions). The Discord layer
puts a paper menu under it (open a paper → rate, save, more like this), and for that it
needs the page's papers: their ids (the menu's values, so it works after a restart) and
plain titles (a menu label is not markdown, unlike the escaped embed titles). The field
is never sent to Discord: `send_kwargs` takes only the message's own keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core.models import StoredPaper
from bot.core.payloads import MenuPaper, MessagePayload
from bot.core.render import one_line

__all__ = ["MenuPaper", "menu_paper", "page_papers", "papers_per_group", "with_papers"]


def menu_paper(paper: StoredPaper) -> MenuPaper:
    return {"id": paper.id, "title": one_line(paper.title), "authors": ", ".join(paper.authors)}


def with_papers(payload: MessagePayload, papers: Sequence[StoredPaper]) -> MessagePayload:
    """`payload` carrying the papers it shows (a copy; the payload is not changed)."""
    carried = payload.copy()
    carried["papers"] = [menu_paper(p) for p in papers]
    return carried


def page_papers(payload: Mapping[str, object]) -> list[MenuPaper]:
    """The papers a page shows; none for a payload that carries none."""
    papers = payload.get("papers")
    return list(papers) if isinstance(papers, list) else []


def papers_per_group(
    papers: Sequence[StoredPaper], groups: Sequence[Sequence[object]]
) -> list[list[StoredPaper]]:
    """Split `papers` like their embeds were packed: group k holds the next len(group)
    papers (one embed per paper, in order)."""
    split: list[list[StoredPaper]] = []
    start = 0
    for group in groups:
        split.append(list(papers[start : start + len(group)]))
        start += len(group)
    return split
