"""Every option that takes one topic offers its choices the same way: ranked by the one
topic ranking beside the resolver (bot/core/topic_lookup.py), so a typo still finds the
topic in /unfollow and /topic remove as it does in /search; and an option that takes
one topic never offers a list of them. Through the real client and the fake Discord."""

from __future__ import annotations

import logging

import pytest

from tests.discord_harness import bot_against_fake, mention_leaks, settle


@pytest.fixture
async def world(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    extensions = ("cogs.search", "cogs.follow", "cogs.topic_admin")
    async with bot_against_fake(tmp_path, extensions=extensions) as running:
        fake, _, _ = running
        yield running
        await settle()
        assert fake.payload_problems == []
        assert mention_leaks(fake) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def choices(fake, ids, user, command, option, typed) -> list[dict]:
    return await fake.autocomplete(
        ids.guild, ids.channel, user, command, {option: typed}, focused=option
    )


async def test_a_misspelt_followed_topic_is_still_offered_by_unfollow(world) -> None:
    fake, _, ids = world
    for topic in ("speech-audio", "robotics"):
        await fake.invoke(ids.guild, ids.channel, ids.user, "follow", {"topic": topic})
    offered = await choices(fake, ids, ids.user, "unfollow", "topic", "speach")
    assert offered and offered[0] == {"name": "Speech & audio", "value": "speech-audio"}
    # Every offered value unfollows: it is a key the command resolves.
    gone = await fake.invoke(
        ids.guild, ids.channel, ids.user, "unfollow", {"topic": "speech-audio"}
    )
    assert gone.content == "Unfollowed that topic."


async def test_a_misspelt_server_topic_is_still_offered_by_topic_remove(world) -> None:
    fake, _, ids = world
    added = await fake.invoke(
        ids.guild,
        ids.channel,
        ids.admin,
        "topic add",
        {"name": "Protein design", "keywords": "protein, proteins"},
    )
    assert "added" in added.content
    offered = await choices(fake, ids, ids.admin, "topic remove", "name", "protien")
    assert offered == [{"name": "Protein design", "value": "protein-design"}]
    # What /search offers for the same typo names the same topic.
    searched = await choices(fake, ids, ids.user, "search", "topic", "protien")
    assert f"{ids.guild}:protein-design" in [c["value"] for c in searched]


async def test_follow_offers_one_topic_as_search_does(world) -> None:
    fake, _, ids = world
    await fake.invoke(
        ids.guild,
        ids.channel,
        ids.admin,
        "topic add",
        {"name": "Protein design", "keywords": "protein, proteins"},
    )
    for typed in ("computer-vision, spee", "protein", ""):
        follow = await choices(fake, ids, ids.user, "follow", "topic", typed)
        search = await choices(fake, ids, ids.user, "search", "topic", typed)
        assert follow == search, typed
        assert all("," not in c["value"] for c in follow), typed
    own = await choices(fake, ids, ids.user, "follow", "topic", "protein design")
    assert own[0] == {
        "name": "Protein design (this server)",
        "value": f"{ids.guild}:protein-design",
    }
