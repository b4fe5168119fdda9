"""A channel chooses its source: `/digest subscribe … source: hf|arxiv:<categories>|all`,
through the real discord.py client against the fake Discord and a real SQLite file. An
arXiv replacement is not posted as a new paper, and each day still posts once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.core.ingest import ingest_bytes
from tests.discord_harness import SAMPLE_DAY, bot_against_fake, settle

ARXIV = Path(__file__).resolve().parent / "data" / "arxiv"
EXTENSIONS = ("cogs.digest",)
APRIL_28 = dt.datetime(2026, 4, 28, 12, tzinfo=dt.UTC)


async def ingest(bot, name: str, day: dt.date | None = None) -> None:
    raw = (ARXIV / name).read_bytes()
    report = await ingest_bytes(bot.storage, raw, name, cli_date=day, today=APRIL_28.date())
    assert report.error is None, report.error


def posted(fake, channel_id: int) -> list[dict]:
    return fake.channel_messages(channel_id, include_interaction_responses=False)


def titles(message: dict) -> list[str]:
    return [embed["title"] for embed in message["embeds"]]


async def subscribe(fake, ids, channel: int, **options):
    opts = {"channel": channel, "time": "08:00", "timezone": "UTC", **options}
    return await fake.invoke(ids.guild, ids.channel, ids.admin, "digest subscribe", opts)


async def now(fake, ids, channel: int):
    return await fake.invoke(ids.guild, ids.channel, ids.admin, "digest now", {"channel": channel})


async def test_each_channel_gets_the_source_and_categories_it_chose(tmp_path) -> None:
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS) as (fake, bot, ids):
        # The day of the sample (HF's page, 98 papers) also has arXiv's cs.AI feed.
        await ingest(bot, "rss_cs.AI_2026-04-27.xml", SAMPLE_DAY)
        arxiv_cv = ids.channel
        hf = fake.add_channel(ids.guild, "hf-papers")
        await settle()

        done = await subscribe(fake, ids, arxiv_cv, source="arxiv:cs.cv")
        assert "from arXiv cs.CV" in done.content, done.content
        assert (await bot.storage.channel_subscription(arxiv_cv)).source == "arxiv:cs.CV"
        await subscribe(fake, ids, hf, source="hf", max=50)
        listing = await fake.invoke(ids.guild, ids.channel, ids.admin, "digest list", {})
        assert "from arXiv cs.CV" in listing.content and "from Hugging Face" in listing.content

        await now(fake, ids, arxiv_cv)
        [cv] = posted(fake, arxiv_cv)
        # Of the feed's three papers only one is in cs.CV, and none of HF's 98.
        assert [t[:40] for t in titles(cv)] == ["An Artifact-based Agent Framework for Ad"]
        await now(fake, ids, hf)
        hf_posts = posted(fake, hf)
        assert "of 98 papers" in hf_posts[0]["content"]
        everything = " ".join(t for message in hf_posts for t in titles(message))
        assert "Artifact-based Agent" not in everything and "MolClaw" not in everything

        # Exactly once still holds: asking again posts nothing more.
        await now(fake, ids, arxiv_cv)
        assert len(posted(fake, arxiv_cv)) == 1


async def test_a_bad_source_is_one_ephemeral_line_and_stores_nothing(tmp_path) -> None:
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS) as (fake, bot, ids):
        cases = {
            "rss": "'rss' is not a source; use hf, arxiv, arxiv:cs.CL,cs.LG",
            "arxiv:quantum": "'quantum' is not an arXiv category: arXiv has no archive",
            "hf:cs.CL": "only arXiv papers have categories",
        }
        for source, expected in cases.items():
            reply = await subscribe(fake, ids, ids.channel, source=source)
            assert reply.ephemeral and expected in reply.content, (source, reply.content)
        assert await bot.storage.channel_subscriptions() == []


async def test_a_replacement_is_not_posted_as_new(tmp_path) -> None:
    async with bot_against_fake(
        tmp_path, extensions=EXTENSIONS, ingest_sample=False, clock=lambda: APRIL_28
    ) as (fake, bot, ids):
        await ingest(bot, "rss_cs.AI_2026-04-27.xml")
        await subscribe(fake, ids, ids.channel, source="arxiv")
        await now(fake, ids, ids.channel)
        [monday] = posted(fake, ids.channel)
        assert any(t.startswith("Math Takes Two") for t in titles(monday))

        # Tuesday's feed replaces "Math Takes Two" (v2) and cross-lists one paper.
        await ingest(bot, "rss_cs.AI_2026-04-28_cross_and_replace.xml")
        await now(fake, ids, ids.channel)
        [_, tuesday] = posted(fake, ids.channel)
        assert [t[:40] for t in titles(tuesday)] == ["Focus Session: Hardware and Software Tec"]
        await now(fake, ids, ids.channel)
        assert len(posted(fake, ids.channel)) == 2
