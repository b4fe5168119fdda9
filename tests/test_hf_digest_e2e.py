"""A real HF day through the real client and the fake Discord: a digest's default order
is HF upvotes whatever the file's order, `order: dump` keeps the file's order, and a
later fetch of the day updates it without posting anything twice."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest

from bot.core.ingest import ingest_bytes
from tests.discord_harness import Clock, bot_against_fake, mention_leaks, settle
from tests.hf_days import TODAY_SHAPE, day_items
from tests.test_cog_digest import channel_posts_sent, digest, new_channel, posts, subscribe

DAY = dt.date.fromisoformat(TODAY_SHAPE)
NOON = dt.datetime(2026, 6, 16, 12, tzinfo=dt.UTC)
EXTENSIONS = ("cogs.digest", "cogs.operate")


@pytest.fixture
async def world(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    async with bot_against_fake(
        tmp_path, extensions=EXTENSIONS, scheduler=True, ingest_sample=False, clock=Clock(NOON)
    ) as running:
        fake, _, _ = running
        yield running
        await settle()
        assert fake.payload_problems == []
        assert mention_leaks(fake) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def hf_pages(items: list[dict]) -> list[str]:
    return [f"https://huggingface.co/papers/{i['paper']['id']}" for i in items]


def shown(message: dict) -> list[str]:
    return [embed["url"] for embed in message["embeds"]]


async def ingest(bot, items: list[dict], name: str):
    report = await ingest_bytes(bot.storage, json.dumps(items).encode(), name, today=DAY)
    assert report.error is None, report.error
    return report


async def test_upvotes_order_the_digest_and_a_refetch_posts_nothing_twice(world) -> None:
    fake, bot, ids = world
    real = day_items(TODAY_SHAPE)  # the API's order: most upvoted first
    # An early fetch, saved least upvoted first: three papers with a tenth of the votes.
    early = [dict(i, paper=dict(i["paper"], upvotes=i["paper"]["upvotes"] // 10)) for i in real]
    await ingest(bot, early[:3][::-1], f"{TODAY_SHAPE}-early.json")

    popular, dump = ids.channel, await new_channel(fake, bot, ids.guild, "dump-order")
    assert "most upvoted first" in (await subscribe(fake, ids)).content
    done = await subscribe(fake, ids, channel=dump, order="dump")
    assert "in the dump's order" in done.content, done.content

    await digest(fake, ids, "now", channel=popular)
    [first] = posts(fake, popular)
    assert shown(first) == hf_pages(real[:3])  # by upvotes, not the file's order

    # The full list arrives later, again saved least upvoted first.
    report = await ingest(bot, real[::-1], f"{TODAY_SHAPE}.json")
    assert report.day_update and report.added == len(real) - 3
    assert report.changed["upvotes"] == 3

    again = await digest(fake, ids, "now", channel=popular)
    assert "already" in again.content
    assert channel_posts_sent(fake, popular) == 1 and len(posts(fake, popular)) == 1
    record = await bot.storage.delivery(f"channel:{popular}", DAY)
    assert (record.status, record.message_id) == ("sent", int(first["id"]))

    await digest(fake, ids, "now", channel=dump)
    [by_file] = posts(fake, dump)
    assert shown(by_file) == hf_pages(real[::-1][:5])  # the later file's own order

    late = await new_channel(fake, bot, ids.guild, "late")
    await subscribe(fake, ids, channel=late)
    await digest(fake, ids, "now", channel=late)
    [latest] = posts(fake, late)
    assert shown(latest) == hf_pages(real[:5])
    top = latest["embeds"][0]["description"]
    assert f"▲ {real[0]['paper']['upvotes']} upvotes" in top  # the latest count
    listed = (await digest(fake, ids, "list")).content
    assert f"<#{dump}> · 08:00" in listed and "in the dump's order" in listed
