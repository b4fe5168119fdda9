"""Every real paper of several HF days as Discord shows it: within the limits, one
link per paper (the title's, to the best page), code, project and PDF links on one
line, HF's AI summary as a labelled TL;DR, and hostile summaries shown as text."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import pytest

from bot.core.digest import DigestSettings, digest_pages, layout_digest
from bot.core.hf_extras import HfExtras
from bot.core.ingest import ingest_bytes
from bot.core.limits import message_problems
from bot.core.markdown import ZWSP
from bot.core.render import paper_detail_payload, paper_embed
from tests.factories import make_paper
from tests.hf_days import ALL_DAYS, day_bytes, day_items

TODAY = dt.date(2026, 8, 30)
# Every address a reader's client would make a link of: masked links and bare ones.
ADDRESS = re.compile(r"https?://[^\s<>()\[\]\\]+")
TLDR = "**TL;DR** (HF's AI summary): "


def addresses(embed: dict) -> list[str]:
    found = [embed["url"], *ADDRESS.findall(embed.get("description", ""))]
    return [a.rstrip(".,;:!?'\"").rstrip("/").removesuffix(".git").casefold() for a in found]


def shown_text(escaped: str) -> str:
    """What a reader sees of escaped text: escapes and zero-width spaces gone."""
    return re.sub(r"\\(.)", r"\1", escaped).replace(ZWSP, "")


@pytest.fixture
async def days(storage):
    for day in ALL_DAYS:
        report = await ingest_bytes(storage, day_bytes(day), f"{day}.json", today=TODAY)
        assert report.error is None
    return storage


async def test_every_real_paper_renders_valid_with_one_link_each(days) -> None:
    seen = total = 0
    for day in ALL_DAYS:
        papers = await days.papers_on_day(dt.date.fromisoformat(day))
        total += len(papers)
        settings = DigestSettings(max_items=50)
        payloads = layout_digest(papers, dt.date.fromisoformat(day), settings)
        payloads += digest_pages(papers, dt.date.fromisoformat(day), settings)
        payloads += [paper_detail_payload(p) for p in papers]
        for payload in payloads:
            assert message_problems(payload) == []
            for embed in payload["embeds"]:
                seen += 1
                found = addresses(embed)
                assert len(found) == len(set(found)), (embed["title"], found)
                assert embed["url"].startswith("https://huggingface.co/papers/2")
    # Every paper of the seven days, in three layouts.
    assert total == 128 and seen == 3 * total


async def test_links_summary_and_people_of_a_paper_with_everything(days) -> None:
    (paper,) = [
        p for p in await days.papers_on_day(dt.date(2026, 6, 16)) if p.arxiv_id == "2606.14777"
    ]
    embed = paper_embed(paper)
    assert embed["url"] == "https://huggingface.co/papers/2606.14777"
    lines = embed["description"].splitlines()
    assert lines[-1] == (
        "[Code ★ 100](https://github.com/jd-opensource/JoyAI-VL-Interaction)"
        " · [Project](https://joyai-vl-video-future-academy-jd.github.io/JoyAI-VL-Interaction/)"
        " · [PDF](https://arxiv.org/pdf/2606.14777)"
    )
    tldr = next(line for line in lines if line.startswith(TLDR))
    assert shown_text(tldr.removeprefix(TLDR)) == paper.hf.ai_summary
    people = lines[-2]
    assert "JD.com Open Source" in people and "▲ 150 upvotes" in people
    assert "💬 1 comment" in people
    # /paper adds HF's keywords.
    full = paper_detail_payload(paper)["embeds"][0]["description"]
    assert "**Keywords:** vision-language model · real-time interaction" in full


async def test_a_link_the_abstract_already_shows_is_not_repeated(days) -> None:
    papers = await days.papers_on_day(dt.date(2024, 5, 27))
    (conv,) = [p for p in papers if p.arxiv_id == "2405.15738"]
    assert "https://github.com/alibaba/conv-llava" in conv.abstract
    repo = replace(conv, hf=HfExtras(github_repo="https://github.com/alibaba/conv-llava/"))
    description = paper_embed(repo, full=True)["description"]
    assert description.splitlines()[-1] == "[PDF](https://arxiv.org/pdf/2405.15738)"
    assert description.count("github.com/alibaba/conv-llava") == 1


def test_title_link_is_the_best_page() -> None:
    assert paper_embed(make_paper(arxiv_id="2403.01234"))["url"] == (
        "https://huggingface.co/papers/2403.01234"
    )
    old_style = paper_embed(make_paper(arxiv_id="hep-th/9901001"))
    assert old_style["url"] == "https://arxiv.org/abs/hep-th/9901001"
    assert old_style["description"].splitlines()[-1] == (
        "[PDF](https://arxiv.org/pdf/hep-th/9901001)"
    )
    no_id = paper_embed(make_paper("Protein Folding", arxiv_id=None))
    assert no_id["url"] == "https://huggingface.co/papers?q=Protein%20Folding"
    assert "https://" not in no_id["description"]


HOSTILE_SUMMARIES = [
    r"E\textsuperscript{2}R-FLOPs ranks \textbf{rerankers} by $\times$ FLOPs.",
    "A model </think> that ends <|im_end|> early <|endoftext|>",
    "<think>. . . </think> then **bold** and __under__ and ||spoiler|| and `code`",
    "[click](https://evil.example) @everyone <@123> <#456> # heading\n> quote\n- item",
    "```\nfenced\n``` ~~strike~~ *star* \\*escaped\\*",
]


@pytest.mark.parametrize("summary", HOSTILE_SUMMARIES)
def test_a_summary_with_latex_or_model_tokens_shows_as_text(summary: str) -> None:
    paper = make_paper(arxiv_id="2403.01234")
    paper = replace(paper, hf=HfExtras(ai_summary=" ".join(summary.split())))
    embed = paper_embed(paper)
    (tldr,) = [line for line in embed["description"].splitlines() if line.startswith(TLDR)]
    assert shown_text(tldr.removeprefix(TLDR)) == paper.hf.ai_summary
    # No markup of its own: every markdown character of the summary is escaped.
    assert not re.search(r"(?<!\\)[*_`|~\[\]]", tldr.removeprefix(TLDR))
    assert message_problems({"embeds": [embed], "allowed_mentions": {"parse": []}}) == []


async def test_real_abstracts_with_model_tokens_show_as_text(days) -> None:
    tokens = ("</think>", "<|im_end|>")
    raw = [i for d in ("2025-04-02", "2026-08-17") for i in day_items(d)]
    holding = {i["paper"]["id"] for i in raw if any(t in i["paper"]["summary"] for t in tokens)}
    assert len(holding) >= 2
    for day in ("2025-04-02", "2026-08-17"):
        for paper in await days.papers_on_day(dt.date.fromisoformat(day)):
            if paper.arxiv_id not in holding:
                continue
            body = paper_detail_payload(paper)["embeds"][0]["description"].split("\n\n")[0]
            assert shown_text(body) in " ".join(paper.abstract.split())
            assert any(t in shown_text(body) for t in tokens)
