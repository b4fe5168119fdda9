"""A server topic's life, from /topic add to /topic remove, through the real discord.py
client, the fake Discord and a real SQLite file: removing a used topic asks first, then
updates the digests that filtered on it and tells each follower once, by DM; and no
stored `<guild id>:<slug>` key ever reaches a message."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging

import pytest

from bot.core.subscriptions import ChannelSubscription, Follow
from bot.core.topics import load_default_topics
from bot.fakediscord import MANAGE_GUILD
from tests.discord_harness import (
    SAMPLE_DAY,
    bot_against_fake,
    bot_message_bodies,
    mention_leaks,
    settle,
)

EXTENSIONS = ("cogs.search", "cogs.digest", "cogs.follow", "cogs.topic_admin", "cogs.operate")
PROTEIN_RULES = 'protein*, "amino acid"'
ROBOTICS = "Robotics & embodied AI"
# The day after the sample, 08:00 UTC: when a member's DM goes out by default.
MORNING = dt.datetime(2026, 3, 15, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
async def world(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS, scheduler=True) as running:
        fake, _, _ = running
        yield running
        await settle()
        assert fake.payload_problems == []
        assert mention_leaks(fake) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def run(fake, ids, command, user, **options):
    return await fake.invoke(ids.guild, ids.channel, user, command, options)


async def new_channel(fake, bot, guild: int, name: str) -> int:
    channel_id = fake.add_channel(guild, name)
    for _ in range(500):
        if bot.get_channel(channel_id) is not None:
            return channel_id
        await asyncio.sleep(0.01)
    raise TimeoutError(f"the bot never saw channel {name}")


def buttons(reply) -> dict[str, dict]:
    return {c["label"]: c for row in reply.components for c in row["components"]}


def shown_text(body: dict) -> str:
    """Everything of a message a person reads: content, embeds, component labels."""
    labels = [
        c.get("label", "")
        for row in body.get("components") or []
        for c in row.get("components", [])
    ]
    return "\n".join([body.get("content") or "", json.dumps(body.get("embeds") or []), *labels])


def key_leaks(fake, guild: int) -> list[str]:
    """Every message the bot sent or edited that shows a `<guild id>:` topic key."""
    return [
        shown_text(body) for _, body in bot_message_bodies(fake) if f"{guild}:" in shown_text(body)
    ]


async def add_protein_topic(fake, ids) -> str:
    added = await run(
        fake, ids, "topic add", ids.admin, name="Protein stuff", keywords=PROTEIN_RULES
    )
    assert "added" in added.content, added
    return f"{ids.guild}:protein-stuff"


async def test_removing_a_used_topic_asks_updates_digests_and_tells_followers_once(world):
    fake, bot, ids = world
    mixed = await new_channel(fake, bot, ids.guild, "mixed")
    key = await add_protein_topic(fake, ids)

    # Autocomplete offers the topic by name; its value is the key, which the commands take.
    offered = await fake.autocomplete(
        ids.guild,
        ids.channel,
        ids.admin,
        "digest subscribe",
        {"channel": ids.channel, "time": "08:00", "timezone": "UTC", "topics": "robotics, prot"},
        focused="topics",
    )
    assert {"name": f"{ROBOTICS}, Protein stuff", "value": f"robotics,{key}"} in offered
    assert not any(f"{ids.guild}:" in c["name"] for c in offered)

    # One digest filters on the topic alone (picked from autocomplete), one on it and
    # Robotics (typed by name, in any case); two members follow it.
    only = {"channel": ids.channel, "time": "08:00", "timezone": "UTC", "topics": key}
    both = {"channel": mixed, "time": "09:00", "timezone": "UTC"}
    both["topics"] = f"{ROBOTICS}, protein STUFF"
    assert (
        "(Protein stuff)" in (await run(fake, ids, "digest subscribe", ids.admin, **only)).content
    )
    subscribed = await run(fake, ids, "digest subscribe", ids.admin, **both)
    assert f"({ROBOTICS}, Protein stuff)" in subscribed.content
    await run(fake, ids, "follow", ids.user, topic=key)
    await run(fake, ids, "follow", ids.other, topic="Protein Stuff")
    listing = await run(fake, ids, "digest list", ids.admin)
    assert listing.content.count("Protein stuff") == 2
    before = await run(fake, ids, "digest now", ids.admin, channel=ids.channel)
    assert "Posted" in before.content
    dms_before = {u: len(fake.dm_messages(u)) for u in (ids.user, ids.other)}

    # Removing it asks first, saying what each digest and follower would get.
    asked = await run(fake, ids, "topic remove", ids.admin, name="Protein stuff")
    assert asked.ephemeral
    assert asked.content == (
        "**Protein stuff** is used by 2 digests and followed by 2 members. If you remove it:\n"
        f"• <#{ids.channel}> would get every paper: it has no other topic.\n"
        f"• <#{mixed}> would keep only {ROBOTICS}.\n"
        "• each of its 2 followers gets one DM saying it was removed.\n"
        "Remove **Protein stuff**?"
    )
    assert set(buttons(asked)) == {"Remove", "Cancel"}
    assert [t.slug for t in await bot.storage.guild_topics(ids.guild)] == ["protein-stuff"]
    assert len(await bot.storage.topic_followers(ids.guild, "protein-stuff")) == 2

    clicked = await fake.click(asked, ids.admin, buttons(asked)["Remove"]["custom_id"])
    await clicked.wait_for(lambda _: "Removed" in (asked.content or ""), what="the result")
    assert asked.content == (
        "Removed the topic **Protein stuff**.\n"
        f"• <#{ids.channel}> now gets every paper: it has no other topic.\n"
        f"• <#{mixed}> now gets only {ROBOTICS}.\n"
        "Told its 2 followers by DM."
    )
    assert asked.components == []  # nothing left to press twice

    # Stored: the topic, its follows and its place in both filters are gone.
    assert await bot.storage.guild_topics(ids.guild) == []
    subs = {s.channel_id: s.topics for s in await bot.storage.channel_subscriptions(ids.guild)}
    assert subs == {ids.channel: (), mixed: ("robotics",)}
    for member in (ids.user, ids.other):
        assert (await bot.storage.user_delivery(member)).follows == ()
        # Each follower is told once, by DM, in words.
        [notice] = fake.dm_messages(member)[dms_before[member] :]
        assert notice["content"] == (
            "The topic **Protein stuff** was removed by the admins of **Lab**, so you no "
            "longer follow it. `/following` shows what you still follow."
        )

    # Asking again finds nothing to remove, and tells nobody anything again.
    again = await run(fake, ids, "topic remove", ids.admin, name="Protein stuff")
    assert again.ephemeral
    assert again.content.startswith("This server has no topic called “Protein stuff”.")
    await settle()
    for member in (ids.user, ids.other):
        assert len(fake.dm_messages(member)) == dms_before[member] + 1

    # What the digests now receive, everywhere it shows.
    listing = await run(fake, ids, "digest list", ids.admin)
    assert f"<#{ids.channel}> · 08:00 UTC · max 10 · all topics ·" in listing.content
    assert f"<#{mixed}> · 09:00 UTC · max 10 · {ROBOTICS} ·" in listing.content
    preview = await run(fake, ids, "digest preview", ids.admin, channel=mixed)
    assert preview.ephemeral
    await run(fake, ids, "digest now", ids.admin, channel=mixed)
    await run(fake, ids, "following", ids.user)
    await run(fake, ids, "status", ids.admin)

    assert key_leaks(fake, ids.guild) == []


async def test_cancel_keeps_everything(world):
    fake, bot, ids = world
    key = await add_protein_topic(fake, ids)
    await run(fake, ids, "follow", ids.user, topic=key)
    asked = await run(fake, ids, "topic remove", ids.admin, name="protein-stuff")
    clicked = await fake.click(asked, ids.admin, buttons(asked)["Cancel"]["custom_id"])
    await clicked.wait_for(lambda _: "Kept" in (asked.content or ""), what="the answer")
    assert asked.content == "Kept **Protein stuff**: nothing was removed."
    assert asked.components == []
    assert [t.slug for t in await bot.storage.guild_topics(ids.guild)] == ["protein-stuff"]
    assert (await bot.storage.user_delivery(ids.user)).follows == (
        Follow("topic", "protein-stuff", ids.guild),
    )
    assert fake.dm_messages(ids.user) == []


async def test_an_unanswered_question_expires_and_removes_nothing(world, monkeypatch):
    fake, bot, ids = world
    monkeypatch.setattr("bot.discord_app.topic_removal_view.CONFIRM_TIMEOUT", 0.3)
    await add_protein_topic(fake, ids)
    subscribe = {"channel": ids.channel, "time": "08:00", "timezone": "UTC"}
    await run(fake, ids, "digest subscribe", ids.admin, topics="protein stuff", **subscribe)
    asked = await run(fake, ids, "topic remove", ids.admin, name="Protein stuff")
    assert asked.content.startswith("**Protein stuff** is used by 1 digest. If you remove it:")
    await asked.wait_for(lambda r: "expired" in (r.content or ""), timeout=5, what="expiry")
    assert asked.content == (
        "Nothing was removed: the question expired. Run `/topic remove` again."
    )
    assert asked.components == []
    assert [t.slug for t in await bot.storage.guild_topics(ids.guild)] == ["protein-stuff"]


async def test_an_unused_topic_goes_at_once_and_builtins_cannot_be_removed(world):
    fake, bot, ids = world
    await add_protein_topic(fake, ids)
    gone = await run(fake, ids, "topic remove", ids.admin, name="PROTEIN STUFF")
    assert gone.content == "Removed the topic **Protein stuff**."
    assert gone.components == []
    assert await bot.storage.guild_topics(ids.guild) == []
    builtin = await run(fake, ids, "topic remove", ids.admin, name="robotics")
    assert builtin.ephemeral
    assert builtin.content == (
        f"**{ROBOTICS}** is a built-in topic; only this server's own topics can be removed."
    )


async def test_a_digest_still_filtering_on_a_removed_topic_never_shows_its_key(world):
    """A database written before removals cleaned up filters still holds the dead key:
    it reads as "a removed topic", in /digest list and in the post's empty-day line."""
    fake, bot, ids = world
    stale = f"{ids.guild}:protein-stuff"
    await bot.storage.upsert_channel_subscription(
        ChannelSubscription(ids.channel, ids.guild, "08:00", "UTC", (stale,), 10)
    )
    await bot.services.schedules.rebuild()
    listing = await run(fake, ids, "digest list", ids.admin)
    assert "· a removed topic ·" in listing.content
    await run(fake, ids, "digest now", ids.admin, channel=ids.channel)
    [post] = fake.channel_messages(ids.channel, include_interaction_responses=False)
    assert post["content"].startswith("**paperbot daily digest — Sat 14 Mar 2026**\n")
    # The digest is for Sat 14 Mar, not today: the empty-digest line no longer says
    # "today" about another day.
    assert "No papers this day on a removed topic (98 papers on other topics)." in (post["content"])
    assert key_leaks(fake, ids.guild) == []


async def test_another_servers_topics_never_show_in_this_one(world):
    fake, bot, ids = world
    other = fake.add_guild("Elsewhere")
    other_admin = fake.add_member(other, "else-admin", permissions=MANAGE_GUILD)
    other_channel = fake.add_channel(other, "else-papers")
    for _ in range(500):
        if bot.get_channel(other_channel) is not None:
            break
        await asyncio.sleep(0.01)
    added = await fake.invoke(
        other,
        other_channel,
        other_admin,
        "topic add",
        {"name": "Secret proteins", "keywords": PROTEIN_RULES},
    )
    assert "added" in added.content
    tagged = [
        p
        for p in await bot.storage.papers_on_day(SAMPLE_DAY)
        if any(h.topic == f"{other}:secret-proteins" for h in p.topics)
    ]
    assert tagged  # papers this server will see carry the other server's tag
    found = await run(fake, ids, "search", ids.user, query="protein language model")
    assert {p.title for p in tagged} & {e["title"] for e in found.embeds}
    assert key_leaks(fake, other) == []
    assert "Secret proteins" not in shown_text(found.message)  # nor, here, its name
    # This server cannot use it either: the key names nothing here, and is not echoed.
    refused = await run(fake, ids, "search", ids.user, topic=f"{other}:secret-proteins")
    assert refused.ephemeral
    assert refused.content.startswith("There is no topic called “secret-proteins”.")
    assert key_leaks(fake, other) == []


def topics_lines(dm: dict) -> dict[str, str]:
    """Each embed's title and its "Topics:" line, as the member reads them."""
    found = {}
    for embed in dm["embeds"]:
        line = next(
            (x for x in embed.get("description", "").splitlines() if x.startswith("**Topics:**")),
            "",
        )
        found[embed["title"]] = line
    return found


async def test_a_members_dm_names_only_topics_of_servers_they_follow_topics_in(world):
    """Two servers tag the same papers with their own topics. Each member's DM names the
    topics of the server they follow a topic in, and never the other server's."""
    fake, bot, ids = world
    await add_protein_topic(fake, ids)  # "Lab"'s own topic
    other = fake.add_guild("Elsewhere")
    other_admin = fake.add_member(other, "else-admin", permissions=MANAGE_GUILD)
    outsider = fake.add_member(other, "dave")  # in "Elsewhere" only
    other_channel = await new_channel(fake, bot, other, "else-papers")
    added = await fake.invoke(
        other,
        other_channel,
        other_admin,
        "topic add",
        {"name": "Proteins here", "keywords": PROTEIN_RULES},
    )
    assert "added" in added.content
    await run(fake, ids, "follow", ids.user, topic="Protein stuff")
    await fake.invoke(other, other_channel, outsider, "follow", {"topic": "Proteins here"})
    builtin = {t.slug: t.name for t in load_default_topics()}
    both = {f"{ids.guild}:protein-stuff", f"{other}:proteins-here"}
    # The papers both servers' topics tag, each with its best built-in topic's name.
    tagged = {
        p.title: next(
            builtin[h.topic] for h in sorted(p.topics, key=lambda h: -h.score) if h.topic in builtin
        )
        for p in await bot.storage.papers_on_day(SAMPLE_DAY)
        if {h.topic for h in p.topics} >= both
    }
    assert tagged

    for member in (ids.user, outsider):
        await bot.services.schedules.fire(f"user:{member}", MORNING)
    [lab_dm] = fake.dm_messages(ids.user)
    [elsewhere_dm] = fake.dm_messages(outsider)
    lab_lines, elsewhere_lines = topics_lines(lab_dm), topics_lines(elsewhere_dm)
    assert set(lab_lines) == set(elsewhere_lines) == set(tagged)
    for title, builtin_name in tagged.items():
        assert "Protein stuff" in lab_lines[title] and "Proteins here" not in lab_lines[title]
        assert "Proteins here" in elsewhere_lines[title]
        assert "Protein stuff" not in elsewhere_lines[title]
        # Built-in topics are named for everyone.
        assert builtin_name in lab_lines[title] and builtin_name in elsewhere_lines[title]
    assert key_leaks(fake, ids.guild) == [] and key_leaks(fake, other) == []


async def test_a_server_topic_is_listed_and_unfollowed_by_name_anywhere(world):
    """/following and /unfollow name a followed server topic from any server or a DM,
    and unfollowing one server's topic leaves another server's of the same slug."""
    fake, bot, ids = world
    key = await add_protein_topic(fake, ids)
    other = fake.add_guild("Elsewhere")
    fake.add_member(other, "alice-too", user_id=ids.user)
    other_admin = fake.add_member(other, "else-admin", permissions=MANAGE_GUILD)
    other_channel = await new_channel(fake, bot, other, "else-papers")
    added = await fake.invoke(
        other,
        other_channel,
        other_admin,
        "topic add",
        {"name": "Protein stuff", "keywords": "protein"},
    )
    assert "added" in added.content
    await run(fake, ids, "follow", ids.user, topic=key)
    await fake.invoke(other, other_channel, ids.user, "follow", {"topic": "protein stuff"})

    listing = await fake.invoke_dm(ids.user, "following")
    assert listing.content.startswith("• topic Protein stuff\n• topic Protein stuff\n")
    offered = await fake.autocomplete(
        None, None, ids.user, "unfollow", {"topic": "prot"}, focused="topic"
    )
    assert offered == [
        {"name": "Protein stuff", "value": key},
        {"name": "Protein stuff", "value": f"{other}:protein-stuff"},
    ]
    gone = await fake.invoke_dm(ids.user, "unfollow", {"topic": key})
    assert gone.content == "Unfollowed that topic."
    assert (await bot.storage.user_delivery(ids.user)).follows == (
        Follow("topic", "protein-stuff", other),
    )
    # By name, in the server whose topic it is.
    by_name = await fake.invoke(
        other, other_channel, ids.user, "unfollow", {"topic": "PROTEIN STUFF"}
    )
    assert by_name.content == "Unfollowed that topic."
    assert (await bot.storage.user_delivery(ids.user)).follows == ()
    assert key_leaks(fake, ids.guild) == [] and key_leaks(fake, other) == []
