"""The site's HTML pages, from Jinja2 templates with autoescaping on: every value a
template prints is escaped, so a title holding `<script>` shows as text. The pages
need no JavaScript, and every link between them is relative (`paths.relative`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from importlib.resources import files

import jinja2

from bot.core.models import Topic
from bot.core.wording import format_day, plural
from bot.services.site import paths
from bot.services.site.views import PaperView


def main_label(paper: PaperView) -> str:
    return f"arXiv:{paper.arxiv_id}" if paper.arxiv_id else "Find on Hugging Face"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.services.site", "templates"),
        autoescape=True,  # every template is HTML: escape everything it prints
        undefined=jinja2.StrictUndefined,  # a misspelt name fails loudly, in the tests
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        format_day=format_day,
        plural=plural,
        main_label=main_label,
        day_page=paths.day_page,
        paper_page=paths.paper_page,
        topic_feed=paths.topic_feed,
    )
    return env


def _render(template: str, here: str, **values: object) -> bytes:
    def href(target: str) -> str:
        return paths.relative(here, target)

    page = _environment().get_template(template).render(href=href, **values)
    return page.encode("utf-8")


def index_page(days: Sequence[tuple[dt.date, int]], topics: Sequence[Topic]) -> bytes:
    return _render(
        "index.html",
        paths.INDEX,
        title="paperbot: papers by day",
        days=days,
        total_papers=sum(count for _, count in days),
        topics=topics,
    )


def day_page(
    day: dt.date, papers: Sequence[PaperView], newer: dt.date | None, older: dt.date | None
) -> bytes:
    return _render(
        "day.html",
        paths.day_page(day),
        title=f"Papers of {format_day(day)} · paperbot",
        day=day,
        papers=papers,
        newer=newer,
        older=older,
    )


def paper_page(paper: PaperView) -> bytes:
    return _render("paper.html", paths.paper_page(paper.id), title=paper.title, paper=paper)


def style_sheet() -> bytes:
    return files("bot.services.site").joinpath("templates", "style.css").read_bytes()
