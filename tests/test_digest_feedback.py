"""Feedback on digest pages: the paper menu under a channel digest (and a member's DM
digest) opens a paper's private view with the 👍 / 👎 / 🔖 buttons, follows the pager,
and keeps working after a restart. Real discord.py client, fake Discord, SQLite file."""

from __future__ import annotations

import datetime as dt
import logging

from bot.core.feedback import FeedbackSignal
from bot.core.limits import MAX_OPTION_LABEL
from bot.core.markdown import truncate
from bot.core.render import one_line, page_url
from bot.fakediscord import FakeDiscord
from tests.discord_harness import SAMPLE_DAY, bot_against_fake, build_world, settle

EXTENSIONS = ("cogs.digest", "cogs.follow")
MORNING = dt.datetime(2026, 3, 15, 8, 0, tzinfo=dt.UTC)


def components_of(message: dict) -> list[dict]:
    return [c for row in message.get("components", []) for c in row.get("components", [])]


def menu_of(message: dict) -> dict:
    [menu] = [c for c in components_of(message) if c["type"] == 3]
    return menu


def press(message: dict, label: str) -> str:
    [found] = [c for c in components_of(message) if c.get("label", "").startswith(label)]
    return found["custom_id"]


async def test_digest_menu_rates_a_paper_after_a_restart(tmp_path, caplog) -> None:
    caplog.set_level(logging.WARNING)
    async with FakeDiscord() as fake:
        ids = build_world(fake)
        async with bot_against_fake(tmp_path, fake=fake, ids=ids, extensions=EXTENSIONS) as (
            _,
            bot,
            _,
        ):
            options = {"channel": ids.channel, "time": "08:00", "timezone": "UTC", "max": 12}
            await fake.invoke(ids.guild, ids.channel, ids.admin, "digest subscribe", options)
            await fake.invoke(
                ids.guild, ids.channel, ids.admin, "digest now", {"channel": ids.channel}
            )
            [posted] = fake.channel_messages(ids.channel, include_interaction_responses=False)
            pages = await bot.services.subscriptions.pages(ids.guild, ids.channel, SAMPLE_DAY)
            by_id = {p.id: p for p in await bot.storage.papers_on_day(SAMPLE_DAY)}
        assert len(pages) > 1  # pager buttons and the menu share the message
        rows = posted["components"]
        assert [[c["type"] for c in row["components"]] for row in rows] == [[2, 2, 2], [3]]
        first_menu = menu_of(posted)
        # The menu offers exactly the papers the page shows, in its order, by plain title.
        offered = [by_id[int(o["value"])] for o in first_menu["options"]]
        assert len(offered) == len(posted["embeds"])
        assert [o["label"] for o in first_menu["options"]] == [
            truncate(one_line(p.title), MAX_OPTION_LABEL) for p in offered
        ]
        assert [page_url(p) for p in offered] == [e["url"] for e in posted["embeds"]]

        # A new process on the same database: the old post's menu and pager still work.
        async with bot_against_fake(
            tmp_path, fake=fake, ids=ids, extensions=EXTENSIONS, ingest_sample=False
        ) as (_, bot, _):
            picked = first_menu["options"][1]["value"]
            opened = await fake.select(posted, ids.user, first_menu["custom_id"], [picked])
            assert opened.ephemeral  # the member's own view, with their buttons
            assert [c["label"] for c in components_of(opened.message)] == [
                "👍 Like",
                "👎 Less like this",
                "🔖 Save",
                "More like this",
            ]
            liked = await fake.click(opened, ids.user, press(opened.message, "👍 Like"))
            assert liked.ephemeral and "You like" in liked.content
            stored = (await bot.services.relevance.feedback_on(ids.user, [int(picked)]))[
                int(picked)
            ]
            assert stored.signal is FeedbackSignal.LIKE
            assert stored.guild_id == ids.guild  # counted for this server's community

            # Paging on: the menu follows the page it sits under.
            turned = await fake.click(posted, ids.user, press(posted, "Next ▶"))
            assert turned.callback_type == 7
            page_two = fake.message(int(posted["id"]))
            assert page_two is not None and "page 2/" in page_two["content"]
            second = [int(o["value"]) for o in menu_of(page_two)["options"]]
            assert len(second) == len(page_two["embeds"])
            assert not set(second) & {p.id for p in offered}
            await settle()
        assert fake.payload_problems == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_dm_digest_menu_rates_a_paper_privately(tmp_path, caplog) -> None:
    caplog.set_level(logging.WARNING)
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS, scheduler=True) as (
        fake,
        bot,
        ids,
    ):
        await fake.invoke(ids.guild, ids.channel, ids.user, "follow", {"keyword": "protein"})
        await bot.services.schedules.fire(f"user:{ids.user}", MORNING)
        [dm] = fake.dm_messages(ids.user)
        menu = menu_of(dm)
        assert len(menu["options"]) == len(dm["embeds"])
        picked = menu["options"][0]["value"]
        opened = await fake.select(dm, ids.user, menu["custom_id"], [picked])
        saved = await fake.click(opened, ids.user, press(opened.message, "🔖 Save"))
        assert "Saved" in saved.content
        stored = (await bot.services.relevance.feedback_on(ids.user, [int(picked)]))[int(picked)]
        assert stored.saved and stored.guild_id is None  # a DM belongs to no server
        await settle()
        assert fake.payload_problems == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_thread_per_paper_messages_carry_their_papers_buttons(tmp_path, caplog) -> None:
    caplog.set_level(logging.WARNING)
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS) as (fake, bot, ids):
        options = {"channel": ids.channel, "time": "08:00", "timezone": "UTC"}
        options |= {"thread": "paper", "max": 3}
        await fake.invoke(ids.guild, ids.channel, ids.admin, "digest subscribe", options)
        await fake.invoke(ids.guild, ids.channel, ids.admin, "digest now", {"channel": ids.channel})
        header, *papers = fake.channel_messages(ids.channel, include_interaction_responses=False)
        assert header.get("components") == [] and len(papers) == 3
        for message in papers:
            labels = [c["label"] for c in components_of(message)]
            assert labels == ["👍 Like", "👎 Less like this", "🔖 Save", "More like this"]
        message = papers[2]
        paper_id = int(message["content"].rsplit("/", 1)[1])
        await fake.click(message, ids.user, press(message, "👎"))
        stored = (await bot.services.relevance.feedback_on(ids.user, [paper_id]))[paper_id]
        assert stored.signal is FeedbackSignal.DISLIKE and stored.guild_id == ids.guild
        await settle()
        assert fake.payload_problems == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
