"""Digest selection and layout: limits hold for any day, nothing is lost or repeated."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.digest import DigestSettings, digest_pages, layout_digest, select_digest_papers
from bot.core.limits import EMBED_CHAR_BUDGET, embed_length, message_problems
from bot.core.markdown import ZWSP, escape_markdown, teaser, truncate
from bot.core.models import StoredPaper, TopicHit
from bot.core.render import page_url, paper_url
from tests.factories import (
    DAY,
    HOSTILE_ABSTRACTS,
    HOSTILE_TITLES,
    TOPIC_NAMES,
    hostile_papers,
    make_paper,
    make_papers,
)

ALL = DigestSettings(max_items=1000)


def urls(payloads: list[dict]) -> list[str]:
    return [embed["url"] for payload in payloads for embed in payload["embeds"]]


def assert_all_valid(payloads: list[dict]) -> None:
    for i, payload in enumerate(payloads):
        assert message_problems(payload) == [], f"payload {i}"
        # The packer keeps its own safety margin under Discord's 6000.
        assert sum(embed_length(e) for e in payload["embeds"]) <= EMBED_CHAR_BUDGET
        assert payload["allowed_mentions"] == {"parse": []}


# --- volume --------------------------------------------------------------------------


def test_98_papers_split_into_several_valid_messages() -> None:
    papers = make_papers(98)
    payloads = layout_digest(papers, DAY, ALL, TOPIC_NAMES)
    assert len(payloads) >= 10  # at most 10 embeds per message
    assert_all_valid(payloads)
    assert urls(payloads) == [page_url(p) for p in papers]
    assert payloads[0]["content"].startswith("**paperbot daily digest — Sat 14 Mar 2026**")
    assert "98 papers" in payloads[0]["content"]
    assert f"part 1/{len(payloads)}" in payloads[0]["content"]
    for number, payload in enumerate(payloads[1:], start=2):
        assert payload["content"] == f"(continued {number}/{len(payloads)})"


def test_500_hostile_papers_all_valid_none_lost() -> None:
    papers = hostile_papers(500)
    payloads = layout_digest(papers, DAY, ALL, TOPIC_NAMES)
    assert_all_valid(payloads)
    selected = select_digest_papers(papers, ALL)
    assert len(selected) == 500
    assert urls(payloads) == [page_url(p) for p in selected]


def test_embeds_are_packed_not_one_per_message() -> None:
    payloads = layout_digest(make_papers(30), DAY, ALL, TOPIC_NAMES)
    # Greedy packing: every message but the last is full on one of the two limits.
    for payload in payloads[:-1]:
        n = len(payload["embeds"])
        chars = sum(embed_length(e) for e in payload["embeds"])
        assert n == 10 or chars > EMBED_CHAR_BUDGET - 1500


def test_single_oversize_paper_is_shortened_not_dropped() -> None:
    paper = make_paper(
        "T" * 600,
        "word " * 5000,
        authors=tuple("@everyone **x**" for _ in range(2000)),
        topics=[(f"topic-{i}", 1.0) for i in range(300)],
    )
    payloads = layout_digest([paper], DAY, DigestSettings(), {})
    assert_all_valid(payloads)
    assert len(payloads) == 1 and len(payloads[0]["embeds"]) == 1
    embed = payloads[0]["embeds"][0]
    assert len(embed["title"]) <= 256 and embed["title"].endswith("…")


# --- selection -----------------------------------------------------------------------


def test_max_items_respected() -> None:
    papers = make_papers(40)
    payloads = layout_digest(papers, DAY, DigestSettings(max_items=7), TOPIC_NAMES)
    assert len(urls(payloads)) == 7
    assert urls(payloads) == [page_url(p) for p in papers[:7]]
    assert "top 7 of 40 papers" in payloads[0]["content"]


def test_max_items_must_be_positive() -> None:
    with pytest.raises(ValueError):
        DigestSettings(max_items=0)


def test_topic_filter() -> None:
    papers = make_papers(20)  # topics cycle vision, nlp, speech-audio, biology, robotics
    settings = DigestSettings(topics=("biology", "nlp"), max_items=100)
    payloads = layout_digest(papers, DAY, settings, TOPIC_NAMES)
    expected = [p for p in papers if p.topics[0].topic in {"biology", "nlp"}]
    assert len(expected) == 8
    assert urls(payloads) == [page_url(p) for p in expected]
    assert "topics: Biology, Language models" in payloads[0]["content"]
    assert "8 papers" in payloads[0]["content"]


def test_filter_matches_any_topic_of_a_paper() -> None:
    both = make_paper(topics=[("vision", 0.9), ("biology", 0.2)])
    other = make_paper(topics=["robotics"])
    selected = select_digest_papers([both, other], DigestSettings(topics=("biology",)))
    assert selected == [both]


def test_empty_day_one_short_message() -> None:
    payloads = layout_digest([], DAY, DigestSettings(), TOPIC_NAMES)
    assert len(payloads) == 1
    assert payloads[0]["embeds"] == []
    # DAY is not today: the message used to say "No new papers today" for any day.
    assert "No papers this day." in payloads[0]["content"]
    assert "today" not in payloads[0]["content"]
    assert len(payloads[0]["content"]) < 200
    assert_all_valid(payloads)


def test_nothing_matching_filter_mentions_the_filter() -> None:
    papers = make_papers(5, topics=("vision",))
    settings = DigestSettings(topics=("speech-audio",))
    for layout in (layout_digest, digest_pages):
        payloads = layout(papers, DAY, settings, TOPIC_NAMES)
        assert len(payloads) == 1
        content = payloads[0]["content"]
        assert "No papers this day on Speech & audio (5 papers on other topics)." in content
        assert "today" not in content
        assert_all_valid(payloads)


def test_ordering_by_position_none_last_then_score() -> None:
    a = make_paper("a", position=3, arxiv_id="1")
    b = make_paper("b", position=None, arxiv_id="2", topics=[("nlp", 0.9)])
    c = make_paper("c", position=1, arxiv_id="3")
    d = make_paper("d", position=None, arxiv_id="4", topics=[("nlp", 0.1)])
    e = make_paper("e", position=2, arxiv_id="5")
    f = make_paper("f", position=None, arxiv_id="6", topics=[("nlp", 0.5)])
    selected = select_digest_papers([a, b, c, d, e, f], ALL)
    assert [p.title for p in selected] == ["c", "e", "a", "b", "f", "d"]
    assert urls(layout_digest([a, b, c, d, e, f], DAY, ALL)) == [page_url(p) for p in selected]


def test_ordering_tie_on_position_uses_filtered_topic_score() -> None:
    low = make_paper("low", position=1, topics=[("nlp", 0.2), ("vision", 5.0)])
    high = make_paper("high", position=1, topics=[("nlp", 0.8)])
    selected = select_digest_papers([low, high], DigestSettings(topics=("nlp",)))
    # vision's 5.0 is outside the filter and must not win.
    assert [p.title for p in selected] == ["high", "low"]


def test_repeated_paper_shown_once() -> None:
    paper = make_paper(position=1)
    payloads = layout_digest([paper, paper], DAY, DigestSettings())
    assert urls(payloads) == [page_url(paper)]


# --- what one paper looks like ---------------------------------------------------------


def test_paper_embed_content() -> None:
    paper = make_paper(
        "RAD-DINO: Scalable Encoders",
        "We propose a model, e.g. for x-rays, that works. It is good. Third sentence.",
        arxiv_id="2401.10815",
        topics=[("biology", 0.9), ("vision", 0.4)],
        position=1,
    )
    embed = layout_digest([paper], DAY, DigestSettings(), TOPIC_NAMES)[0]["embeds"][0]
    assert embed["title"] == "RAD-DINO: Scalable Encoders"
    # The title links to the paper's HF page (its discussion); arXiv's PDF is a compact
    # link, and the title's address is not repeated in the description.
    assert embed["url"] == "https://huggingface.co/papers/2401.10815"
    description = embed["description"]
    assert description.startswith("We propose a model, e.g. for x-rays, that works. It is good.")
    assert "Third sentence" not in description
    assert "**Topics:** Biology · Computer vision" in description
    assert description.splitlines()[-1] == "[PDF](https://arxiv.org/pdf/2401.10815)"
    assert "huggingface.co/papers/2401.10815" not in description
    assert embed["footer"]["text"] == "First seen 2026-03-14 · seen on 1 day"


def test_teaser_does_not_split_abbreviations_or_decimals() -> None:
    abstract = (
        "Models such as CLIP, e.g. ViT-L, i.e. large ones, improve by 3.5 points vs. "
        "baselines of Smith et al. in prior work. The second sentence is here. Third."
    )
    first = (
        "Models such as CLIP, e.g. ViT-L, i.e. large ones, improve by 3.5 points vs. "
        "baselines of Smith et al. in prior work."
    )
    assert teaser(abstract, 130) == first
    assert teaser(abstract, 300) == first + " The second sentence is here."


def test_teaser_long_first_sentence_cut_at_word() -> None:
    abstract = ("many words " * 100).strip() + ". Next."
    result = teaser(abstract, 100)
    assert len(result) <= 100 and result.endswith("…")
    assert result[:-1].endswith("words") or result[:-1].endswith("many")


def test_teaser_empty() -> None:
    assert teaser("") == ""
    assert teaser("   \n ") == ""


def test_teaser_ends_at_sentence_boundary_in_digest() -> None:
    papers = make_papers(12)
    for payload in layout_digest(papers, DAY, ALL, TOPIC_NAMES):
        for embed in payload["embeds"]:
            body = embed["description"].split("\n\n")[0]
            assert re.search(r"[.!?]$", body), body
            assert not body.endswith(("e.g.", "al."))


def test_escaping_of_hostile_title() -> None:
    paper = make_paper("**bold** @everyone [x](http://evil) <@123>", "Abstract @here.")
    embed = layout_digest([paper], DAY, DigestSettings())[0]["embeds"][0]
    title = embed["title"]
    assert "**" not in title
    assert "@everyone" not in title and f"@{ZWSP}everyone" in title
    assert "](" not in title.replace("\\]\\(", "")
    assert "<@123>" not in title
    assert "@here" not in embed["description"]


def test_escape_markdown_neutralises_formatting() -> None:
    escaped = escape_markdown("# H\n> q\n- l\n1. n\n`c` ~~s~~ ||sp|| __u__ *i*")
    assert escaped == (
        "\\# H\n\\> q\n\\- l\n1\\. n\n\\`c\\` \\~\\~s\\~\\~ \\|\\|sp\\|\\| \\_\\_u\\_\\_ \\*i\\*"
    )
    # Mid-line '-' and '#' are left alone: they cannot format there.
    assert escape_markdown("vision-language #1") == "vision-language #1"


def test_escape_markdown_keeps_bare_urls_intact() -> None:
    text = "Code at https://github.com/foo_bar/baz_qux. [x](http://evil)"
    assert escape_markdown(text) == (
        "Code at https://github.com/foo_bar/baz_qux. \\[x\\]\\(http://evil\\)"
    )


def test_escape_markdown_strips_bidi_overrides_keeps_rtl() -> None:
    assert escape_markdown("نموذج \u202eevil\u202c") == "نموذج evil"


def test_truncate_never_leaves_half_an_escape() -> None:
    escaped = escape_markdown("a" * 9 + "*" * 10)  # 'aaaaaaaaa\*\*\*...'
    for limit in range(1, len(escaped)):
        cut = truncate(escaped, limit)
        assert len(cut) <= limit
        body = cut.removesuffix("…")
        assert (len(body) - len(body.rstrip("\\"))) % 2 == 0, cut


def test_paper_url_arxiv_and_fallback() -> None:
    assert paper_url(make_paper(arxiv_id="2403.01234")) == "https://arxiv.org/abs/2403.01234"
    assert (
        paper_url(make_paper(arxiv_id="hep-th/9901001")) == "https://arxiv.org/abs/hep-th/9901001"
    )
    fallback = paper_url(make_paper("Protein Folding & You?", arxiv_id=None))
    assert fallback == "https://huggingface.co/papers?q=Protein%20Folding%20%26%20You%3F"
    assert paper_url(make_paper("x", arxiv_id="  ")).startswith("https://huggingface.co/")


def test_paper_url_fallback_is_bounded_for_huge_titles() -> None:
    url = paper_url(make_paper("大规模语言模型" * 200, arxiv_id=None))
    assert len(url) < 300
    assert unquote(url.split("q=")[1]).startswith("大规模语言模型")


# --- pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("per_page", [1, 5, 10])
def test_digest_pages_cover_same_papers_in_same_order(per_page: int) -> None:
    papers = hostile_papers(60) + make_papers(40)
    pages = digest_pages(papers, DAY, ALL, TOPIC_NAMES, per_page=per_page)
    assert_all_valid(pages)
    assert urls(pages) == urls(layout_digest(papers, DAY, ALL, TOPIC_NAMES))
    assert all(len(p["embeds"]) <= per_page for p in pages)
    for number, page in enumerate(pages, start=1):
        assert page["content"].endswith(f"page {number}/{len(pages)}")
        assert page["content"].startswith("**paperbot daily digest")


def test_digest_pages_per_page_bounds() -> None:
    with pytest.raises(ValueError):
        digest_pages(make_papers(3), DAY, DigestSettings(), per_page=11)


def test_digest_pages_empty_day() -> None:
    pages = digest_pages([], DAY, DigestSettings())
    assert len(pages) == 1 and "No papers this day." in pages[0]["content"]


# --- property ------------------------------------------------------------------------

_SLUGS = ("vision", "nlp", "biology", "unnamed-topic")
_hostile_text = st.one_of(st.text(max_size=700), st.sampled_from(HOSTILE_TITLES))
_hostile_abstract = st.one_of(
    st.text(max_size=3000), st.sampled_from(HOSTILE_ABSTRACTS), st.just("")
)


# Built once: a strategy built inside the loop below is validated again on every draw,
# which was most of this property's CPU.
_topic_hits = st.lists(
    st.builds(TopicHit, st.sampled_from(_SLUGS), st.floats(0, 10), st.just(("k",))), max_size=3
)
_arxiv_id = st.one_of(st.none(), st.from_regex(r"\d{4}\.\d{5}", fullmatch=True))
_authors = st.lists(st.text(max_size=60), max_size=5)
_upvotes = st.one_of(st.none(), st.integers(0, 10_000))
_position = st.one_of(st.none(), st.integers(1, 60))


@st.composite
def papers_strategy(draw: st.DrawFn) -> list[StoredPaper]:
    n = draw(st.integers(0, 40))
    papers = []
    for i in range(n):
        topics = draw(_topic_hits)
        papers.append(
            StoredPaper(
                # Some repeated ids: the digest must show such a paper only once.
                id=draw(st.integers(0, n + 3)) if i % 5 == 4 else 10_000 + i,
                key=f"k{i}",
                title=draw(_hostile_text),
                abstract=draw(_hostile_abstract),
                arxiv_id=draw(_arxiv_id),
                authors=tuple(draw(_authors)),
                upvotes=draw(_upvotes),
                first_seen=DAY,
                last_seen=DAY,
                days=(DAY,),
                topics=tuple(topics),
                position=draw(_position),
            )
        )
    return papers


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    papers=papers_strategy(),
    topics=st.lists(st.sampled_from(_SLUGS), max_size=2, unique=True),
    max_items=st.integers(1, 50),
    per_page=st.integers(1, 10),
    title=st.text(max_size=300),
)
def test_layout_always_valid_and_complete(
    papers: list[StoredPaper], topics: list[str], max_items: int, per_page: int, title: str
) -> None:
    digest_settings = DigestSettings(topics=tuple(topics), max_items=max_items, title=title)
    names = {"vision": "Vision @everyone", "nlp": "**NLP**", "biology": "Biology"}
    selected = select_digest_papers(papers, digest_settings)
    assert len({p.id for p in selected}) == len(selected)
    expected = [page_url(p) for p in selected]

    payloads = layout_digest(papers, DAY, digest_settings, names)
    assert_all_valid(payloads)
    assert urls(payloads) == expected
    assert len(urls(payloads)) == len(selected)  # every selected paper exactly once

    pages = digest_pages(papers, DAY, digest_settings, names, per_page=per_page)
    assert_all_valid(pages)
    assert urls(pages) == expected
    if not selected:
        assert len(payloads) == 1 and len(pages) == 1


def test_header_day_format_is_locale_free() -> None:
    payload = layout_digest(make_papers(1), dt.date(2024, 3, 14), DigestSettings())[0]
    assert "Thu 14 Mar 2024" in payload["content"]


def test_header_with_huge_title_and_topic_list_stays_short() -> None:
    slugs = tuple(f"topic-{i}" for i in range(300))
    names = {slug: f"Very long topic display name number {slug} @everyone" for slug in slugs}
    papers = [make_paper(topics=[slugs[0]], position=1)]
    digest_settings = DigestSettings(topics=slugs, title="**T** " * 200)
    for layout in (layout_digest, digest_pages):
        payloads = layout(papers, DAY, digest_settings, names)
        assert_all_valid(payloads)
        assert len(payloads[0]["content"]) <= 1600
        assert "@everyone" not in payloads[0]["content"]
    empty = layout_digest([], DAY, digest_settings, names)
    assert_all_valid(empty)
    assert len(empty[0]["content"]) <= 1600
