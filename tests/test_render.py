"""Search pages, /paper detail and the shared paper embed."""

from __future__ import annotations

import pytest

from bot.core.limits import EMBED_CHAR_BUDGET, embed_length, message_problems
from bot.core.markdown import ZWSP
from bot.core.models import SearchHit, SearchResponse
from bot.core.render import (
    code_span,
    empty_search_payload,
    fit_group,
    page_count,
    page_url,
    paper_detail_payload,
    paper_embed,
    pdf_url,
    search_page_payload,
)
from tests.factories import TOPIC_NAMES, hostile_papers, make_paper, make_papers


def response(
    papers,
    *,
    corrected: str | None = None,
    total: int = 0,
    exact: bool = True,
    corrections: tuple[tuple[str, str], ...] = (),
) -> SearchResponse:
    hits = [
        SearchHit(paper=p, score=1.0 / (i + 1), why=("title: protein", "topic: Biology"))
        for i, p in enumerate(papers)
    ]
    return SearchResponse(
        hits=hits,
        corrected=corrected,
        total=total or len(hits),
        total_exact=exact,
        corrections=corrections,
    )


def test_search_page_header_and_hits() -> None:
    papers = make_papers(23)
    payload = search_page_payload(response(papers), "protein", page=2, topic_names=TOPIC_NAMES)
    assert message_problems(payload) == []
    assert payload["content"] == "Results 6–10 of 23 for `protein`"
    assert [e["url"] for e in payload["embeds"]] == [page_url(p) for p in papers[5:10]]
    assert "**Why:** title: protein · topic: Biology" in payload["embeds"][0]["description"]
    assert "components" not in payload


def test_search_pages_cover_all_hits_exactly_once() -> None:
    papers = make_papers(23)
    resp = response(papers)
    pages = page_count(len(resp.hits), 5)
    assert pages == 5
    seen = []
    for page in range(1, pages + 1):
        payload = search_page_payload(resp, "protein", page=page)
        assert message_problems(payload) == []
        seen += [e["url"] for e in payload["embeds"]]
    assert seen == [page_url(p) for p in papers]
    last = search_page_payload(resp, "protein", page=5)
    assert last["content"].startswith("Results 21–23 of 23")


def test_search_page_is_clamped() -> None:
    resp = response(make_papers(7))
    assert search_page_payload(resp, "q", page=99)["content"].startswith("Results 6–7 of 7")
    assert search_page_payload(resp, "q", page=0)["content"].startswith("Results 1–5 of 7")


def test_search_total_beyond_returned_hits() -> None:
    payload = search_page_payload(response(make_papers(20), total=312), "llm", page=1)
    assert payload["content"] == "Results 1–5 of 312 for `llm` (top 20 shown)"


def test_large_totals_read_with_separators_and_lower_bounds_say_so() -> None:
    exact = search_page_payload(response(make_papers(50), total=6490), "model", page=1)
    assert exact["content"] == "Results 1–5 of 6,490 for `model` (top 50 shown)"
    bound = search_page_payload(response(make_papers(50), total=1000, exact=False), "model", 1)
    assert bound["content"] == "Results 1–5 of 1,000+ for `model` (top 50 shown)"


def test_corrected_query_shown_once() -> None:
    # The results are already for the corrected words, so "Did you mean" (the old header)
    # asked about what had been done; the reply now says what was corrected, once.
    resp = response(
        make_papers(3),
        corrected="protein language",
        corrections=(("protien", "protein"), ("langauge", "language")),
    )
    payload = search_page_payload(resp, "protien langauge", 1)
    assert message_problems(payload) == []
    assert payload["content"].splitlines() == [
        "Results 1–3 of 3 for `protien langauge`",
        "Spelling corrected: `protien` → `protein`, `langauge` → `language`",
    ]


def test_hostile_query_label_cannot_break_out() -> None:
    label = "`@everyone` **x** " + "q" * 500
    payload = search_page_payload(response(make_papers(1)), label, 1)
    assert message_problems(payload) == []
    content = payload["content"]
    assert content.count("`") == 2  # exactly one code span
    assert "@everyone" not in content and f"@{ZWSP}everyone" in content
    assert len(code_span(label)) <= 102


def test_search_page_with_hostile_papers_is_valid() -> None:
    papers = hostile_papers(60)
    resp = response(papers)
    for per_page in (1, 5, 10):
        for page in range(1, page_count(len(papers), per_page) + 1):
            payload = search_page_payload(resp, "x", page, per_page=per_page)
            assert message_problems(payload) == [], (per_page, page)
            assert sum(embed_length(e) for e in payload["embeds"]) <= EMBED_CHAR_BUDGET


def test_search_page_per_page_bounds() -> None:
    with pytest.raises(ValueError):
        search_page_payload(response(make_papers(3)), "q", 1, per_page=11)


def test_empty_search_payload() -> None:
    payload = empty_search_payload("nothing @here")
    assert message_problems(payload) == []
    assert payload["content"].startswith(f"No papers found for `nothing @{ZWSP}here`")
    assert search_page_payload(SearchResponse(hits=[]), "x", 1)["content"].startswith(
        "No papers found"
    )


def test_paper_detail_with_huge_abstract_is_valid() -> None:
    paper = make_paper(
        "T" * 600,
        "Sentence about @everyone and **bold**. " * 260,  # ~10,000 chars
        authors=tuple(f"Author {i}" for i in range(500)),
        topics=[("biology", 0.9), ("vision", 0.5)],
    )
    assert len(paper.abstract) > 10_000 - 200
    payload = paper_detail_payload(paper, TOPIC_NAMES)
    assert message_problems(payload) == []
    embed = payload["embeds"][0]
    assert len(embed["description"]) <= 4096
    body = embed["description"].split("\n\n")[0]
    assert "…" in body  # the abstract was cut, not rejected
    assert "@everyone" not in embed["description"]
    assert "**Topics:** Biology · Computer vision" in embed["description"]
    assert "+460 more" in embed["description"]  # full view lists 40 authors


def test_paper_detail_shows_more_than_teaser() -> None:
    abstract = "First sentence. Second sentence. Third sentence. Fourth sentence."
    embed = paper_detail_payload(make_paper(abstract=abstract))["embeds"][0]
    assert embed["description"].startswith(abstract)


def test_paper_embed_empty_abstract_and_why() -> None:
    embed = paper_embed(make_paper(abstract="", upvotes=1), why=("title: **x**",))
    assert embed["description"].startswith("*No abstract in the dump.*")
    assert "**Why:** title: \\*\\*x\\*\\*" in embed["description"]
    assert "▲ 1 upvote" in embed["description"]


def test_paper_embed_footer_counts_days() -> None:
    first = make_paper().first_seen
    paper = make_paper(days=(first, first.replace(day=15), first.replace(day=16)))
    assert paper_embed(paper)["footer"]["text"] == "First seen 2026-03-14 · seen on 3 days"


@pytest.mark.parametrize("cap", [600, 1000, 2000])
def test_paper_embed_max_length_is_a_hard_cap(cap: int) -> None:
    for paper in hostile_papers(24):
        embed = paper_embed(paper, full=True, why=("w" * 400,), max_length=cap)
        assert embed_length(embed) <= cap
        # The abstract gives way first: the link line at the end survives the cap.
        pdf = pdf_url(paper)
        if pdf is not None:
            assert embed["description"].splitlines()[-1].endswith(f"({pdf})")
        assert message_problems({"embeds": [embed], "allowed_mentions": {"parse": []}}) == []


def test_fit_group_shrinks_only_the_long_ones() -> None:
    short = make_paper(abstract="Short.")
    long = make_paper(abstract="Long sentence here. " * 500)

    def builder(paper):
        return lambda cap: paper_embed(paper, full=True, max_length=cap)

    embeds = fit_group([builder(short), builder(long), builder(long)], budget=5000)
    assert sum(embed_length(e) for e in embeds) <= 5000
    assert embeds[0] == paper_embed(short, full=True)  # untouched
