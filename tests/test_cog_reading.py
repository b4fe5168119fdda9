"""Feedback where people read, /saved, /forget-me, /related and /foryou, through the
real discord.py client against the fake Discord, on a real SQLite file."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3

import bibtexparser
import pytest

from bot.core.feedback import FeedbackAction, FeedbackSignal, MuteKind
from bot.core.ingest import ingest_bytes
from bot.core.render import format_day
from bot.fakediscord import FakeDiscord
from tests.discord_harness import (
    bot_against_fake,
    build_world,
    mention_leaks,
    settle,
)
from tests.relevance_dumps import hf_dump, papers_by_day

EXTENSIONS = ("cogs.search", "cogs.reading", "cogs.follow")


def components_of(reply) -> list[dict]:
    return [c for row in reply.components for c in row.get("components", [])]


def button(reply, label_start: str) -> dict:
    found = [
        c
        for c in components_of(reply)
        if c["type"] == 2 and c.get("label", "").startswith(label_start)
    ]
    assert found, f"no button {label_start!r} in {reply.components}"
    return found[0]


def menu(reply) -> dict:
    [found] = [c for c in components_of(reply) if c["type"] == 3]
    return found


@pytest.fixture
async def world(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS) as running:
        fake, _, _ = running
        yield running
        await settle()
        assert fake.payload_problems == []
        assert mention_leaks(fake) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def with_authors(bot) -> list:
    """A real day of Hugging Face papers (real authors) stored next to the sample."""
    day, papers = next(iter(papers_by_day().items()))
    report = await ingest_bytes(
        bot.storage, hf_dump(papers), f"{day}.json", cli_date=dt.date.fromisoformat(day)
    )
    assert report.error is None
    await bot.services.relevance.sync_vectors()
    return await bot.storage.papers_on_day(dt.date.fromisoformat(day))


async def some_papers(bot, n: int = 3):
    day = (await bot.storage.days(limit=1))[0]
    return (await bot.storage.papers_on_day(day))[:n]


async def test_paper_buttons_work_after_a_restart_and_undo(tmp_path, caplog) -> None:
    caplog.set_level(logging.WARNING)
    async with FakeDiscord() as fake:
        ids = build_world(fake)
        async with bot_against_fake(tmp_path, fake=fake, ids=ids, extensions=EXTENSIONS) as (
            _,
            bot,
            _,
        ):
            [paper] = await some_papers(bot, 1)
            shown = await fake.invoke(
                ids.guild, ids.channel, ids.user, "paper", {"title": f"#{paper.id}"}
            )
            assert not shown.ephemeral
            like = button(shown, "👍 Like")["custom_id"]
            assert len(like) <= 100
        # A new process on the same database: the old message's button still works.
        async with bot_against_fake(
            tmp_path, fake=fake, ids=ids, extensions=EXTENSIONS, ingest_sample=False
        ) as (_, bot, _):
            clicked = await fake.click(shown, ids.user, like)
            assert clicked.ephemeral
            assert "You like" in clicked.content and "👍 liked" in clicked.content
            stored = (await bot.services.relevance.feedback_on(ids.user, [paper.id]))[paper.id]
            assert stored.signal is FeedbackSignal.LIKE
            assert stored.guild_id == ids.guild  # the community signal knows the server
            # Idempotent: the same click again changes nothing and offers no Undo.
            again = await fake.click(shown, ids.user, like)
            assert "already like" in again.content
            assert not [c for c in components_of(again) if c.get("label") == "↩ Undo"]
            # Private: someone else's click is theirs alone.
            await fake.click(shown, ids.other, button(shown, "👎")["custom_id"])
            assert (await bot.services.relevance.feedback_on(ids.user, [paper.id]))[
                paper.id
            ].signal is FeedbackSignal.LIKE
            undone = await fake.click(clicked, ids.user, button(clicked, "↩ Undo")["custom_id"])
            assert "not rated" in undone.content
            assert await bot.services.relevance.feedback_on(ids.user, [paper.id]) == {}
            await settle()
        assert fake.payload_problems == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_search_menu_opens_a_private_paper_view_with_the_members_state(world) -> None:
    fake, bot, ids = world
    found = await fake.invoke(ids.guild, ids.channel, ids.user, "search", {"query": "protein"})
    option = menu(found)["options"][0]
    pid = int(option["value"])
    await bot.services.relevance.rate(ids.user, pid, FeedbackAction.SAVE)
    opened = await fake.select(found, ids.user, menu(found)["custom_id"], [option["value"]])
    assert opened.ephemeral
    labels = [c["label"] for c in components_of(opened)]
    assert labels == ["👍 Like", "👎 Less like this", "🔖 Saved: unsave", "More like this"]
    more = await fake.click(opened, ids.user, button(opened, "More like this")["custom_id"])
    assert more.ephemeral and more.embeds[0]["title"] == "More like this"
    assert str(pid) not in [o["value"] for o in menu(more)["options"]]


async def test_saved_lists_and_exports_bibtex_that_parses_back(world) -> None:
    fake, bot, ids = world
    papers = await some_papers(bot, 3)
    empty = await fake.invoke(ids.guild, ids.channel, ids.user, "saved list")
    assert empty.ephemeral and "no saved papers" in empty.content
    for paper in papers:
        shown = await fake.invoke(
            ids.guild, ids.channel, ids.user, "paper", {"title": f"#{paper.id}"}
        )
        await fake.click(shown, ids.user, button(shown, "🔖 Save")["custom_id"])
    listed = await fake.invoke(ids.guild, ids.channel, ids.user, "saved list")
    assert listed.ephemeral
    text = listed.embeds[0]["description"]
    assert text.startswith("3 saved papers")
    assert [int(o["value"]) for o in menu(listed)["options"]] == [p.id for p in reversed(papers)]
    exported = await fake.invoke(ids.guild, ids.channel, ids.user, "saved export")
    assert exported.ephemeral and "3 saved papers" in exported.content
    [attachment] = exported.attachments
    assert attachment["filename"].endswith(".bib")
    data = fake.state.attachments[int(attachment["id"])].data.decode()
    library = bibtexparser.parse_string(data)
    assert library.failed_blocks == []
    entries = {e.fields_dict["url"].value: e for e in library.entries}
    assert len(library.entries) == 3
    for paper in papers:
        [entry] = [
            e
            for e in library.entries
            if e.fields_dict["title"].value.replace("\\", "")
            == " ".join(paper.title.split()).replace("\\", "")
        ] or [None]
        assert entry is not None, paper.title
        if paper.arxiv_id:
            assert entry.fields_dict["eprint"].value == paper.arxiv_id
            assert entry.fields_dict["archivePrefix"].value == "arXiv"
        assert entry.fields_dict["year"].value == str(paper.first_seen.year)
    assert len(entries) == 3
    # The other member saved nothing.
    theirs = await fake.invoke(ids.guild, ids.channel, ids.other, "saved export")
    assert "no saved papers" in theirs.content


async def test_forget_me_deletes_everything_after_the_members_confirm(world, tmp_path) -> None:
    fake, bot, ids = world
    [paper, other] = await some_papers(bot, 2)
    await fake.invoke(ids.guild, ids.channel, ids.user, "follow", {"keyword": "diffusion"})
    await bot.services.relevance.rate(
        ids.user,
        paper.id,
        FeedbackAction.LIKE,
        ids.guild,
    )
    await bot.services.relevance.rate(
        ids.user,
        other.id,
        FeedbackAction.SAVE,
        ids.guild,
    )
    await bot.services.relevance.mute(ids.user, MuteKind.KEYWORD, "protein", ids.guild)
    await bot.services.relevance.rate(
        ids.other,
        paper.id,
        FeedbackAction.LIKE,
        ids.guild,
    )
    # A DM: the member's DM channel id is remembered, and forgotten with the rest.
    await bot.services.schedules.fire(f"user:{ids.user}", dt.datetime(2026, 3, 15, tzinfo=dt.UTC))
    assert len(fake.dm_messages(ids.user)) == 1
    assert await bot.storage.dm_channel(ids.user) == fake.state.dm_channels[ids.user]
    asked = await fake.invoke(ids.guild, ids.channel, ids.user, "forget-me")
    assert asked.ephemeral
    confirm = button(asked, "Delete everything")["custom_id"]
    assert await bot.services.relevance.member_known(ids.user)
    done = await fake.click(asked, ids.user, confirm)
    assert done.content.startswith("🧹 Deleted everything stored about you")
    for words in ("1 follow", "1 rating", "1 saved paper", "1 mute"):
        assert words in done.content
    assert not await bot.services.relevance.member_known(ids.user)
    # Nothing in any table names the member any more; the other member is untouched.
    await settle()
    with sqlite3.connect(tmp_path / "t.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        left = {}
        for table in tables:
            columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
            for column in columns:
                if column in ("user_id", "target"):
                    value = ids.user if column == "user_id" else f"user:{ids.user}"
                    n = db.execute(
                        f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", (value,)
                    ).fetchone()[0]
                    if n:
                        left[table] = n
        assert left == {}
    assert await bot.services.relevance.member_known(ids.other)


async def test_forget_me_is_confirmed_only_by_the_member(world) -> None:
    fake, bot, ids = world
    [paper] = await some_papers(bot, 1)
    await bot.services.relevance.rate(ids.user, paper.id, FeedbackAction.LIKE)
    asked = await fake.invoke(ids.guild, ids.channel, ids.user, "forget-me")
    cancel = await fake.click(asked, ids.user, button(asked, "Cancel")["custom_id"])
    assert cancel.content == "Nothing was deleted."
    assert await bot.services.relevance.member_known(ids.user)


async def test_related_lists_similar_papers_with_why_never_itself(world) -> None:
    fake, bot, ids = world
    [paper] = await some_papers(bot, 1)
    choices = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "related", {"paper": paper.title[:12]}, focused="paper"
    )
    assert f"#{paper.id}" in [c["value"] for c in choices]
    shown = await fake.invoke(
        ids.guild, ids.channel, ids.user, "related", {"paper": f"#{paper.id}"}
    )
    assert not shown.ephemeral
    options = menu(shown)["options"]
    assert 1 <= len(options) <= 5
    assert str(paper.id) not in [o["value"] for o in options]
    unknown = await fake.invoke(
        ids.guild, ids.channel, ids.user, "related", {"paper": "zzqx no such"}
    )
    assert unknown.ephemeral and "No paper matches" in unknown.content


async def test_foryou_explains_picks_and_mute_hides_a_paper(world) -> None:
    fake, bot, ids = world
    from bot.core.feedback import FeedbackAction

    day = (await bot.storage.days(limit=1))[0]
    papers = await bot.storage.papers_on_day(day)
    liked = next(p for p in papers if "protein" in p.title.lower())
    await bot.services.relevance.rate(ids.user, liked.id, FeedbackAction.LIKE)
    shown = await fake.invoke(ids.guild, ids.channel, ids.user, "foryou", {"day": day.isoformat()})
    assert shown.ephemeral
    text = shown.embeds[0]["description"]
    assert "Ranked by what you liked" in text
    assert "you liked" in text  # the why line names the liked paper
    picked = [int(o["value"]) for o in menu(shown)["options"]]
    assert picked and liked.id not in picked  # rated papers are not offered again
    top = (await bot.storage.get_papers([picked[0]]))[0]
    word = max(top.title.replace(":", " ").split(), key=len)
    offered = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "mute", {"topic": ""}, focused="topic"
    )
    assert offered  # topics autocomplete as everywhere
    muted = await fake.invoke(ids.guild, ids.channel, ids.user, "mute", {"keyword": word})
    assert muted.ephemeral and muted.content.startswith("🔇 Muted keyword")
    again = await fake.invoke(ids.guild, ids.channel, ids.user, "foryou", {"day": day.isoformat()})
    shown_now = [int(o["value"]) for o in menu(again)["options"]] if again.components else []
    assert top.id not in shown_now
    mutes = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "unmute", {"mute": ""}, focused="mute"
    )
    [only] = mutes
    unmuted = await fake.invoke(ids.guild, ids.channel, ids.user, "unmute", {"mute": only["value"]})
    assert unmuted.content.startswith("🔈 Unmuted keyword")
    back = await fake.invoke(ids.guild, ids.channel, ids.user, "foryou", {"day": day.isoformat()})
    assert top.id in [int(o["value"]) for o in menu(back)["options"]]
    bad = await fake.invoke(ids.guild, ids.channel, ids.user, "foryou", {"day": "last tuesday"})
    assert bad.ephemeral and "as a day" in bad.content


@pytest.mark.parametrize("typed", ["2020-01-01", "2026-03-13", "2099-12-31"])
async def test_foryou_on_a_day_with_no_papers_says_so(world, typed) -> None:
    # The sample dump is the only day stored (2026-03-14); the days around it hold none.
    fake, bot, ids = world
    day = dt.date.fromisoformat(typed)
    assert day not in await bot.storage.days(limit=1000)
    reply = await fake.invoke(ids.guild, ids.channel, ids.user, "foryou", {"day": typed})
    assert reply.ephemeral and reply.embeds == [] and reply.components == []
    assert reply.content == (
        f"No papers are stored for {format_day(day)}. Pick a day from the list as you "
        "type, or leave `day` out for the newest."
    )
    # The day that has papers still lists them.
    stored = await fake.invoke(ids.guild, ids.channel, ids.user, "foryou", {"day": "2026-03-14"})
    assert stored.embeds and "For you · Sat 14 Mar 2026" in stored.embeds[0]["title"]


async def test_follow_author_with_autocomplete_over_stored_authors(world) -> None:
    fake, bot, ids = world
    paper = (await with_authors(bot))[0]
    family = paper.authors[0].split()[-1]
    offered = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "follow", {"author": family[:4]}, focused="author"
    )
    assert offered and all("paper" in c["name"] for c in offered)
    name = next(c["value"] for c in offered if c["value"].split()[-1] == family)
    done = await fake.invoke(ids.guild, ids.channel, ids.user, "follow", {"author": name})
    assert done.ephemeral and done.content.startswith("✅ Following author")
    listed = await fake.invoke(ids.guild, ids.channel, ids.user, "following")
    assert f"author {name}" in listed.content or "author" in listed.content
    gone = await fake.invoke(ids.guild, ids.channel, ids.user, "unfollow", {"author": name})
    assert gone.content == "Unfollowed that author."


async def test_quotes_around_a_muted_name_are_not_part_of_it(world) -> None:
    """Quotes typed around a topic's or an author's name (Discord's box keeps them) are
    left out; around a keyword they mark a phrase, and stay."""
    fake, bot, ids = world
    [author] = (await with_authors(bot))[0].authors[:1]
    for option in (
        {"topic": '"Computer vision"'},
        {"author": f"“{author}”"},
        {"keyword": '"state space"'},
    ):
        await fake.invoke(ids.guild, ids.channel, ids.user, "mute", option)
    text = (await fake.invoke(ids.guild, ids.channel, ids.user, "mutes", {})).embeds[0][
        "description"
    ]
    for line in ("topic “Computer vision”", f"author “{author}”", 'keyword “"state space"”'):
        assert line in text, text


async def test_mutes_lists_the_members_own_mutes_privately(world) -> None:
    fake, bot, ids = world
    empty = await fake.invoke(ids.guild, ids.channel, ids.user, "mutes", {})
    assert empty.ephemeral and "haven't muted anything" in empty.content
    [author] = (await with_authors(bot))[0].authors[:1]
    for option in ({"keyword": "diffusion"}, {"topic": "Computer vision"}, {"author": author}):
        await fake.invoke(ids.guild, ids.channel, ids.user, "mute", option)
    await fake.invoke(ids.guild, ids.channel, ids.other, "mute", {"keyword": "robots"})
    listed = await fake.invoke(ids.guild, ids.channel, ids.user, "mutes", {})
    assert listed.ephemeral
    text = listed.embeds[0]["description"]
    assert text.startswith("3 mutes:")
    for line in ("keyword “diffusion”", "topic “Computer vision”", f"author “{author}”"):
        assert line in text, text
    assert "robots" not in text  # someone else's mutes are theirs alone
    # More mutes than one embed holds: those that fit, and how many more there are.
    for n in range(100):
        await bot.services.relevance.mute(ids.user, MuteKind.KEYWORD, f"word{n:02d} " + "x" * 40)
    many = await fake.invoke(ids.guild, ids.channel, ids.user, "mutes", {})
    text = many.embeds[0]["description"]
    assert text.startswith("103 mutes:") and len(text) <= 4096
    shown = text.count("🔇")
    assert 3 < shown < 103 and text.endswith(f"…and {103 - shown} more")
