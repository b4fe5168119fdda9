"""The operating commands (/topic add|remove, /ingest, /status, /help) through the real
discord.py client, the fake Discord and a real SQLite file."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

import pytest

from bot.core.limits import message_problems
from bot.core.subscriptions import ChannelSubscription, Follow
from bot.discord_app.client import EXTENSIONS
from bot.fakediscord import InvocationRefused
from tests.discord_harness import (
    SAMPLE_DAY,
    bot_against_fake,
    bot_message_bodies,
    mention_leaks,
    settle,
)

MORNING = dt.datetime(2026, 3, 15, 8, 0, tzinfo=dt.UTC)
PROTEIN_RULES = 'protein*, "amino acid"'
PROTEIN_TITLES = {
    "Long-context Protein Language Model",
    "InstructProtein: Aligning Human and Protein Language via Knowledge Instruction",
}
PROTEIN_RE = re.compile(r"\bprotein\w*|\bamino acids?\b", re.I)

# A small text dump as copied from the daily-papers page: chrome, a date line, then
# three title/abstract pairs that are not in the bundled sample.
SMALL_DUMP = """new

Get trending papers in your email inbox!

Subscribe

Mar 15

Folding Proteins with Tiny Transformers

We train a small transformer to predict protein contact maps from amino acid sequences. \
The model matches far larger baselines on two benchmarks while using a tenth of the \
compute, and we release code and weights.

Quantum Error Correction for Sparse Codes

Sparse codes promise cheap fault tolerance. We present a decoder for sparse quantum codes \
that runs in linear time and improves the threshold by a third over prior decoders on \
standard noise models.

Rethinking Curriculum Learning for Robot Grasping

Curriculum learning is often said to help robots learn to grasp. We revisit the claim \
with a thousand real-world trials and find that a random order of tasks is as good as a \
curriculum once data augmentation is used.
"""


@pytest.fixture
async def world(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    extensions = ("cogs.search", "cogs.follow", "cogs.topic_admin", "cogs.operate")
    async with bot_against_fake(tmp_path, extensions=extensions) as running:
        fake, bot, _ = running
        bot.services.schedules.scheduler.start(paused=True)  # real next-run times, no firing
        yield running
        await settle()
        assert fake.payload_problems == []
        assert mention_leaks(fake) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def run(fake, ids, command, user, **options):
    return await fake.invoke(ids.guild, ids.channel, user, command, options)


def let_everyone_use(fake, command: str) -> None:
    """What a server admin does in Server Settings → Integrations: show a Manage Server
    command to every member. The bot must still refuse them itself."""
    for registered in fake.state.commands[None]:
        if registered["name"] == command:
            registered["default_member_permissions"] = None


def last_body(fake) -> dict:
    return list(bot_message_bodies(fake))[-1][1]


# --- /topic add|remove ----------------------------------------------------------------------


async def test_guild_topic_add_search_follow_list_remove(world) -> None:
    fake, bot, ids = world
    key = f"{ids.guild}:protein-design"
    added = await run(
        fake, ids, "topic add", ids.admin, name="Protein design", keywords=PROTEIN_RULES
    )
    assert added.ephemeral
    assert "Topic **Protein design** (`protein-design`) added: " in added.content
    # The count is the papers now tagged with the topic: the two protein language model
    # papers (a lone "proteins" deep in an abstract is below the topic threshold).
    papers = await bot.storage.papers_on_day(SAMPLE_DAY)
    expected = {p.title for p in papers if any(h.topic == key for h in p.topics)}
    assert expected >= PROTEIN_TITLES
    assert all(PROTEIN_RE.search(f"{p.title}\n{p.abstract}") for p in papers if p.title in expected)
    assert f"added: {len(expected)} papers match so far" in added.content

    # Anyone in the server can search it, pick it from autocomplete and follow it.
    choices = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "search", {"topic": "protein"}, focused="topic"
    )
    assert key in [c["value"] for c in choices]
    found = await run(fake, ids, "search", ids.user, topic=key)
    assert not found.ephemeral
    assert {e["title"] for e in found.embeds} == expected
    assert "Protein design" in found.content

    followed = await run(fake, ids, "follow", ids.user, topic=key)
    assert followed.content.startswith("✅ Following topic Protein design")
    listing = await run(fake, ids, "following", ids.user)
    assert "• topic Protein design" in listing.content
    assert (await bot.storage.user_delivery(ids.user)).follows == (
        Follow("topic", "protein-design", ids.guild),
    )
    # The member's DM carries the guild topic's papers, each saying why (ranked by the
    # member's model: papers close to the topic may join them, saying why too).
    await bot.services.schedules.fire(f"user:{ids.user}", MORNING)
    [dm] = fake.dm_messages(ids.user)
    assert {e["title"] for e in dm["embeds"]} >= expected
    for embed in dm["embeds"]:
        if embed["title"] in expected:
            assert "**Why:** topic: Protein design \\(" in embed["description"]
        else:
            assert "**Why:** " in embed["description"]

    topics = await run(fake, ids, "topics", ids.user)
    assert "This server's topics" in topics.embeds[0]["description"]
    assert "Protein design" in topics.embeds[0]["description"]

    # Removing it: choices offer it, and it takes its follows and paper tags along.
    own = await fake.autocomplete(
        ids.guild, ids.channel, ids.admin, "topic remove", {"name": ""}, focused="name"
    )
    assert own == [{"name": "Protein design", "value": "protein-design"}]
    # A followed topic is removed only once the admin confirms (see test_topic_lifecycle).
    asked = await run(fake, ids, "topic remove", ids.admin, name="protein-design")
    assert asked.ephemeral
    assert asked.content.startswith("**Protein design** is followed by 1 member.")
    [confirm] = [c for row in asked.components for c in row["components"] if c["label"] == "Remove"]
    removed = await fake.click(asked, ids.admin, confirm["custom_id"])
    await removed.wait_for(lambda r: "Removed" in (asked.content or ""), what="the result")
    assert asked.content == "Removed the topic **Protein design**.\nTold its follower by DM."
    assert await bot.storage.guild_topics(ids.guild) == []
    assert (await bot.storage.user_delivery(ids.user)).follows == ()
    assert bot.services.schedules.next_run(f"user:{ids.user}") is None
    assert (await bot.storage.stats())["topics"].get(key) is None
    gone = await run(fake, ids, "search", ids.user, topic=key)
    assert gone.ephemeral and gone.content.startswith("There is no topic")
    again = await run(fake, ids, "topic remove", ids.admin, name="protein-design")
    assert again.ephemeral
    assert again.content.startswith("This server has no topic called “protein-design”.")


async def test_new_dumps_are_tagged_with_guild_topics(world) -> None:
    fake, bot, ids = world
    await run(fake, ids, "topic add", ids.admin, name="Protein design", keywords=PROTEIN_RULES)
    attachment = fake.add_attachment("2026-03-15.txt", SMALL_DUMP.encode())
    await run(fake, ids, "ingest", ids.admin, file=attachment)
    key = f"{ids.guild}:protein-design"
    papers = await bot.storage.papers_on_day(dt.date(2026, 3, 15))
    assert len(papers) == 3
    tagged = [p.title for p in papers if any(h.topic == key for h in p.topics)]
    assert tagged == ["Folding Proteins with Tiny Transformers"]


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"name": "Empty", "keywords": "   "}, "at least one keyword"),
        ({"name": "Empty", "keywords": ", ,"}, "at least one keyword"),
        ({"name": "Long", "keywords": "a" + "b" * 59}, "longer than 50 characters"),
        ({"name": "Unbalanced", "keywords": '"amino acid'}, "Unbalanced quote"),
        ({"name": "Speech & audio", "keywords": "speech"}, "built-in topic already"),
        ({"name": "!!!", "keywords": "speech"}, "Topic id"),
    ],
)
async def test_bad_topic_add_is_an_ephemeral_error(world, options, error) -> None:
    fake, bot, ids = world
    reply = await run(fake, ids, "topic add", ids.admin, **options)
    assert reply.ephemeral
    assert reply.kind == "message"
    assert error in reply.content
    assert await bot.storage.guild_topics(ids.guild) == []


@pytest.mark.parametrize("typed", ['"Protein design"', "“Protein design”", " 'Protein design' "])
async def test_quotes_typed_around_a_topic_name_are_not_part_of_it(world, typed) -> None:
    """Quotes typed out of habit around a name (Discord's box keeps them) are left out:
    the topic is the one named without them, and a quote inside a name stays."""
    fake, bot, ids = world
    added = await run(fake, ids, "topic add", ids.admin, name=typed, keywords=PROTEIN_RULES)
    assert "Topic **Protein design** (`protein-design`) added: " in added.content
    assert [t.name for t in await bot.storage.guild_topics(ids.guild)] == ["Protein design"]
    kept = await run(fake, ids, "topic add", ids.admin, name='The "X" files', keywords="protein")
    assert 'The "X" files' in kept.content
    # Named with quotes wherever a topic is named: followed, then removed.
    followed = await run(fake, ids, "follow", ids.user, topic=typed)
    assert followed.content.startswith("✅ Following topic Protein design")
    author = await run(
        fake, ids, "follow", ids.user, author=typed.replace("Protein design", "Ada Lovelace")
    )
    assert author.content.startswith("✅ Following author Ada Lovelace.")
    asked = await run(fake, ids, "topic remove", ids.admin, name=typed)
    assert asked.content.startswith("**Protein design** is followed by 1 member.")


async def test_topic_admin_needs_manage_server(world) -> None:
    fake, bot, ids = world
    # Discord hides the commands from members without Manage Server...
    with pytest.raises(InvocationRefused):
        await run(fake, ids, "topic add", ids.user, name="Mine", keywords="protein")
    with pytest.raises(InvocationRefused):
        await fake.invoke_dm(ids.user, "topic add", {"name": "Mine", "keywords": "protein"})
    # ...and when a server shows them to everyone, the bot refuses by itself.
    let_everyone_use(fake, "topic")
    refused = await run(fake, ids, "topic add", ids.user, name="Mine", keywords="protein")
    assert refused.ephemeral
    assert refused.content == "You need the **Manage Server** permission to do that."
    assert await bot.storage.guild_topics(ids.guild) == []
    await run(fake, ids, "topic add", ids.admin, name="Mine", keywords="protein")
    not_removed = await run(fake, ids, "topic remove", ids.user, name="mine")
    assert not_removed.content == "You need the **Manage Server** permission to do that."
    assert len(await bot.storage.guild_topics(ids.guild)) == 1


# --- topic choices -----------------------------------------------------------------------
# Every option that takes one topic offers its choices the same way: ranked by the one
# topic ranking beside the resolver (bot/core/topic_lookup.py), so a typo still finds the
# topic in /unfollow and /topic remove as in /search; and an option that takes one topic
# never offers a list of them.


async def choices(fake, ids, user, command, option, typed) -> list[dict]:
    return await fake.autocomplete(
        ids.guild, ids.channel, user, command, {option: typed}, focused=option
    )


async def add_protein_design(fake, ids) -> None:
    options = {"name": "Protein design", "keywords": "protein, proteins"}
    added = await run(fake, ids, "topic add", ids.admin, **options)
    assert "added" in added.content


async def test_a_misspelt_followed_topic_is_still_offered_by_unfollow(world) -> None:
    fake, _, ids = world
    for topic in ("speech-audio", "robotics"):
        await run(fake, ids, "follow", ids.user, topic=topic)
    offered = await choices(fake, ids, ids.user, "unfollow", "topic", "speach")
    assert offered and offered[0] == {"name": "Speech & audio", "value": "speech-audio"}
    # Every offered value unfollows: it is a key the command resolves.
    gone = await run(fake, ids, "unfollow", ids.user, topic="speech-audio")
    assert gone.content == "Unfollowed that topic."


async def test_a_misspelt_server_topic_is_still_offered_by_topic_remove(world) -> None:
    fake, _, ids = world
    await add_protein_design(fake, ids)
    offered = await choices(fake, ids, ids.admin, "topic remove", "name", "protien")
    assert offered == [{"name": "Protein design", "value": "protein-design"}]
    # What /search offers for the same typo names the same topic.
    searched = await choices(fake, ids, ids.user, "search", "topic", "protien")
    assert f"{ids.guild}:protein-design" in [c["value"] for c in searched]


async def test_follow_offers_one_topic_as_search_does(world) -> None:
    fake, _, ids = world
    await add_protein_design(fake, ids)
    for typed in ("computer-vision, spee", "protein", ""):
        follow = await choices(fake, ids, ids.user, "follow", "topic", typed)
        search = await choices(fake, ids, ids.user, "search", "topic", typed)
        assert follow == search, typed
        assert all("," not in c["value"] for c in follow), typed
    own = await choices(fake, ids, ids.user, "follow", "topic", "protein design")
    mine = {"name": "Protein design (this server)", "value": f"{ids.guild}:protein-design"}
    assert own[0] == mine


# --- /ingest --------------------------------------------------------------------------------


async def papers_count(bot) -> int:
    return (await bot.storage.stats())["papers"]


async def test_ingest_an_uploaded_dump_once(world) -> None:
    fake, bot, ids = world
    before = await papers_count(bot)
    upload = fake.add_attachment("my-dump.txt", SMALL_DUMP.encode())
    reply = await run(fake, ids, "ingest", ids.admin, file=upload)
    assert reply.ephemeral
    [line] = reply.messages[-1]["content"].splitlines()
    assert line.startswith("✅ **2026-03-15**")
    assert "3 papers — 3 new, 0 already known, 0 merged" in line
    assert await papers_count(bot) == before + 3
    titles = {p.title for p in await bot.storage.papers_on_day(dt.date(2026, 3, 15))}
    assert "Quantum Error Correction for Sparse Codes" in titles

    copy = fake.add_attachment("copy.txt", SMALL_DUMP.encode())
    again = await run(fake, ids, "ingest", ids.admin, file=copy)
    # It names the day the dump is stored under (the old text showed the day resolved
    # for this upload, which is not always the stored one).
    assert again.messages[-1]["content"] == (
        "This dump was already ingested for 2026-03-15; nothing changed."
    )
    assert await papers_count(bot) == before + 3


async def test_ingest_report_lists_real_problems_and_counts_the_rest(world) -> None:
    fake, _, ids = world
    good = [
        {"paper": {"id": f"2603.0000{i}", "title": f"A paper number {i}", "summary": "Text."}}
        for i in range(3)
    ]
    untitled = [{"paper": {"id": f"2603.1000{i}", "summary": "No title."}} for i in range(8)]
    data = json.dumps(good + untitled).encode()
    reply = await run(fake, ids, "ingest", ids.admin, file=fake.add_attachment("d.json", data))
    lines = reply.content.splitlines()
    assert "3 papers — 3 new" in lines[0]
    assert lines[1:6] == [f"• skipped line {i}: JSON item has no title" for i in range(4, 9)]
    assert lines[6:] == ["• …and 3 more"]


@pytest.mark.parametrize(
    ("filename", "data", "error"),
    [
        ("latin1.txt", SMALL_DUMP.replace("Proteins", "Protéines").encode("latin-1"), "not UTF-8"),
        ("empty.txt", b"", "the file is empty"),
        ("broken.json", b'[{"title": "x"', "invalid JSON"),
    ],
)
async def test_a_bad_upload_gets_one_line_and_changes_nothing(world, filename, data, error) -> None:
    fake, bot, ids = world
    before = await bot.storage.stats()
    reply = await run(fake, ids, "ingest", ids.admin, file=fake.add_attachment(filename, data))
    assert reply.ephemeral
    [text] = [m["content"] for m in reply.messages if m["content"]]
    assert text.startswith(f"❌ {filename}: ")
    assert error in text
    assert "\n" not in text
    after = await bot.storage.stats()
    assert (after["papers"], after["days"], after["dumps"]) == (
        before["papers"],
        before["days"],
        before["dumps"],
    )


async def test_ingest_needs_manage_server(world) -> None:
    fake, bot, ids = world
    upload = fake.add_attachment("my-dump.txt", SMALL_DUMP.encode())
    with pytest.raises(InvocationRefused):
        await run(fake, ids, "ingest", ids.user, file=upload)
    let_everyone_use(fake, "ingest")
    before = await papers_count(bot)
    refused = await run(fake, ids, "ingest", ids.user, file=upload)
    assert refused.ephemeral
    assert refused.content == "You need the **Manage Server** permission to do that."
    assert await papers_count(bot) == before
    # The bot never downloaded the file.
    assert fake.requests_matching("GET /attachments/{channel_id}/{attachment_id}/{filename}") == []


# --- /status and /help ------------------------------------------------------------------------


async def test_status_shows_ingest_subscriptions_papers_and_version(world) -> None:
    fake, bot, ids = world
    upload = fake.add_attachment("d.txt", SMALL_DUMP.encode())
    await run(fake, ids, "ingest", ids.admin, file=upload)
    other = fake.add_channel(ids.guild, "audio")
    await bot.storage.upsert_channel_subscription(
        ChannelSubscription(ids.channel, ids.guild, "09:30", "Europe/Berlin")
    )
    await bot.storage.upsert_channel_subscription(
        ChannelSubscription(other, ids.guild, "18:00", "UTC", ("speech-audio",))
    )
    for _ in range(3):
        await bot.storage.record_channel_failure(other, "403 Missing Access (code 50001)", 3)
    elsewhere = ChannelSubscription(ids.channel + 999, ids.guild + 999, "07:00", "UTC")
    await bot.storage.upsert_channel_subscription(elsewhere)
    await bot.services.schedules.rebuild()

    reply = await run(fake, ids, "status", ids.user)
    assert reply.ephemeral
    assert message_problems(last_body(fake)) == []
    lines = reply.content.splitlines()
    stats = await bot.storage.stats()
    assert lines[0] == f"**paperbot {bot.version}** · {stats['papers']} papers over 2 days"
    assert stats["papers"] == 101
    assert lines[1].startswith("Last ingest: **2026-03-15** from `d.txt` — 3 parsed, 3 new")
    next_run = bot.services.schedules.next_run(f"channel:{ids.channel}")
    assert next_run is not None
    # The zone as /digest list shows it: with its country.
    next_post = f"next <t:{int(next_run.timestamp())}:f>"
    assert f"<#{ids.channel}> at 09:30 Europe/Berlin (Germany): {next_post}" in reply.content
    assert f"<#{other}> at 18:00 UTC: ⏸️ paused after 3 failures: 403 Missing Access" in (
        reply.content
    )
    assert f"<#{elsewhere.channel_id}>" not in reply.content


async def test_status_before_anything(tmp_path) -> None:
    async with bot_against_fake(tmp_path, extensions=("cogs.operate",), ingest_sample=False) as (
        fake,
        bot,
        ids,
    ):
        reply = await run(fake, ids, "status", ids.user)
        assert reply.content.splitlines() == [
            f"**paperbot {bot.version}** · 0 papers over 0 days",
            "No dump ingested yet.",
            "No digests in this server (`/digest subscribe`).",
        ]
        dm = await fake.invoke_dm(ids.user, "status")
        assert "No digests" not in dm.content
        assert fake.payload_problems == [] and mention_leaks(fake) == []


async def test_status_with_many_digests_stays_within_limits(world) -> None:
    fake, bot, ids = world
    for i in range(80):
        channel = fake.add_channel(ids.guild, f"c{i}")
        await bot.storage.upsert_channel_subscription(
            ChannelSubscription(channel, ids.guild, "09:30", "America/Argentina/ComodRivadavia")
        )
    await bot.services.schedules.rebuild()
    reply = await run(fake, ids, "status", ids.admin)
    assert message_problems(last_body(fake)) == []
    assert len(reply.content) <= 2000
    # Cut at a line, with a note of what was left out, never mid-mention.
    assert re.search(r"<#\d*$", reply.content) is None
    lines = reply.content.splitlines()
    shown = [line for line in lines if line.startswith("<#")]
    assert 5 < len(shown) < 80
    assert lines[-1] == f"…and {80 - len(shown)} more digests (`/digest list`)"


async def test_help_lists_every_command(tmp_path) -> None:
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS) as (fake, _, ids):
        reply = await run(fake, ids, "help", ids.user)
        assert reply.ephemeral
        assert message_problems(last_body(fake)) == []
        registered = fake.registered_commands()
        assert len(registered) >= 12
        for command in registered:
            if command["name"] == "help":
                continue
            assert f"`/{command['name']}" in reply.content, command["name"]
            subcommands = [o["name"] for o in command.get("options", []) if o["type"] == 1]
            for sub in subcommands:
                assert f"`/{command['name']} {sub}" in reply.content, (command["name"], sub)
        dm = await fake.invoke_dm(ids.user, "help")
        assert dm.content == reply.content
        assert fake.payload_problems == [] and mention_leaks(fake) == []


async def test_status_names_a_job_ingested_dump_without_its_folder(tmp_path) -> None:
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / "2026-03-15.txt").write_text(SMALL_DUMP, encoding="utf-8")
    settings = {"dumps_dir": dumps}
    async with bot_against_fake(tmp_path, extensions=("cogs.operate",), settings=settings) as (
        fake,
        bot,
        ids,
    ):
        [report] = await bot.services.ingest_job.run(dt.date(2026, 3, 16))
        assert report.new == 3
        reply = await run(fake, ids, "status", ids.admin)
        assert "Last ingest: **2026-03-15** from `2026-03-15.txt` — 3 parsed, 3 new" in (
            reply.content
        )
        assert str(tmp_path) not in reply.content
        assert fake.payload_problems == [] and mention_leaks(fake) == []
