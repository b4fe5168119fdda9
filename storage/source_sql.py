"""A search's source filter as SQL, the same on both backends but for placeholders.

A paper passes `hf` when a Hugging Face dump ever listed it, `arxiv` when an arXiv dump
listed it or its arXiv categories are known (the snapshot import stores them with no
dump; see `bot.core.sources.search_sources`), and `arxiv:cs.CL,cs` when it has one of
those categories, or any category of an archive (`cs` holds `cs.CL` and `cs.LG`). An
archive is a range of the category text (`cs.` up to `cs/`, since `/` sorts right after
`.`): both backends compare category text byte by byte (SQLite's BINARY, PostgreSQL's
`COLLATE "C"` column), so the paper_categories index serves it.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.sources import ARXIV, SourceFilter

# Takes a value to bind, returns its placeholder (`?` or `$n`).
Mark = Callable[[object], str]


def source_condition(source: SourceFilter, mark: Mark, paper: str = "p") -> str:
    """` AND ...` conditions on the papers row `paper` for `source`; "" for all sources."""
    if source.source is None:
        return ""
    if source.categories:
        # Having one of them makes it arXiv's: no dump needs to have listed it.
        return f" AND {_has_category(source.categories, mark, paper)}"
    listed = (
        "EXISTS (SELECT 1 FROM dump_papers l JOIN dumps d ON d.id = l.dump_id"
        f" WHERE l.paper_id = {paper}.id AND d.paper_source = {mark(source.source)})"
    )
    if source.source != ARXIV:
        return f" AND {listed}"
    # Known arXiv categories make a paper arXiv's (`search_sources`): the snapshot
    # import's papers were listed by no dump.
    return (
        f" AND ({listed} OR EXISTS (SELECT 1 FROM paper_categories c"
        f" WHERE c.paper_id = {paper}.id))"
    )


def _has_category(categories: tuple[str, ...], mark: Mark, paper: str) -> str:
    tests = []
    for wanted in categories:
        test = f"c.category = {mark(wanted)}"
        if "." not in wanted:  # an archive: it or any category in it
            low, high = mark(wanted + "."), mark(wanted + "/")
            test += f" OR (c.category > {low} AND c.category < {high})"
        tests.append(f"({test})")
    return (
        "EXISTS (SELECT 1 FROM paper_categories c"
        f" WHERE c.paper_id = {paper}.id AND ({' OR '.join(tests)}))"
    )


def question_marks(params: list[object]) -> Mark:
    """A `Mark` for SQLite: appends to `params`, writes `?`."""

    def mark(value: object) -> str:
        params.append(value)
        return "?"

    return mark


def numbered_marks(params: list[object]) -> Mark:
    """A `Mark` for asyncpg: appends to `params`, writes `$n` (its place in `params`)."""

    def mark(value: object) -> str:
        params.append(value)
        return f"${len(params)}"

    return mark
