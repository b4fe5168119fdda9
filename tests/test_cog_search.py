"""/search, /paper and /topics through the real discord.py client and the fake Discord."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re

import pytest

from bot.core.ingest import ingest_bytes
from bot.core.limits import message_problems
from bot.core.models import Topic
from bot.core.topics import match_topics
from bot.discord_app import search_view
from bot.discord_app.client import HTTP_CONNECTIONS
from bot.discord_app.errors import UserError
from cogs.search import parse_since, query_label, resolve_topic, topic_choices
from tests.discord_harness import (
    SAMPLE_DAY,
    add_members,
    bot_against_fake,
    bot_message_bodies,
    mention_leaks,
    settle,
)
from tests.real_papers import api_dump, real_titles

PROTEIN_TITLES = {
    "Long-context Protein Language Model",
    "InstructProtein: Aligning Human and Protein Language via Knowledge Instruction",
}
# "protein" matches only 3 papers in the sample; this query has 50+ hits, so 10 pages.
MANY = "language model"


@pytest.fixture
async def world(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    async with bot_against_fake(tmp_path, extensions=("cogs.search",)) as running:
        fake, _, _ = running
        yield running
        await settle()
        # Every payload the bot sent in the test was valid and pinged nobody...
        assert fake.payload_problems == []
        assert mention_leaks(fake) == []
    # ...and no callback failed quietly (discord.py only logs errors in views and trees).
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def components_of(message_components: list[dict]) -> list[dict]:
    return [c for row in message_components for c in row.get("components", [])]


def button(reply, label_start: str) -> dict:
    found = [
        c
        for c in components_of(reply.components)
        if c["type"] == 2 and c.get("label", "").startswith(label_start)
    ]
    assert found, f"no button {label_start!r} in {reply.components}"
    return found[0]


def paper_menu(reply) -> dict:
    menus = [c for c in components_of(reply.components) if c["type"] == 3]
    assert len(menus) == 1, reply.components
    return menus[0]


def last_body(fake) -> dict:
    """The body of the last message the bot sent (what Discord validates)."""
    return list(bot_message_bodies(fake))[-1][1]


async def search(fake, ids, user=None, **options):
    return await fake.invoke(ids.guild, ids.channel, user or ids.user, "search", options)


# --- /search ------------------------------------------------------------------------------


async def test_protein_search_is_public_with_the_protein_papers_first(world) -> None:
    fake, _, ids = world
    reply = await search(fake, ids, query="protein")
    assert not reply.ephemeral
    assert reply.embeds[0]["title"] in PROTEIN_TITLES
    assert {e["title"] for e in reply.embeds[:2]} == PROTEIN_TITLES
    assert all(e.get("url", "").startswith("https://") for e in reply.embeds)
    assert "`protein`" in reply.content
    # Three hits fit one page: no pager, but the menu lists them all.
    assert not any(c["type"] == 2 for c in components_of(reply.components))
    menu = paper_menu(reply)
    assert len(menu["options"]) == len(reply.embeds) == 3


async def test_the_bot_is_sent_no_message_events(world) -> None:
    """Its replies' creates and edits, and members' messages, are not sent to the bot:
    it asks for no message intents, so a burst's replies cost it no gateway events."""
    fake, bot, ids = world
    reply = await search(fake, ids, query=MANY)
    await fake.click(reply, ids.user, button(reply, "Next ▶")["custom_id"])
    await fake.send_user_message(ids.channel, ids.user, "hello")
    await settle()
    sent = [f["t"] for s in fake.gateway.sessions.values() for f in s.history]
    assert "INTERACTION_CREATE" in sent
    assert not [event for event in sent if event.startswith("MESSAGE_")]
    assert bot.intents.guilds and not bot.cached_messages


async def test_the_bot_reuses_a_bounded_pool_of_connections(world) -> None:
    """discord.py would open a connection per request under way (a burst's defers, one
    each); the bot's pool has a limit, so requests past it wait and reuse one."""
    fake, bot, ids = world
    assert bot.http.connector.limit == HTTP_CONNECTIONS + 1  # and the gateway's
    # More searches at once than connections (each member once: no cooldown applies).
    members = [fake.add_member(ids.guild, f"reader-{i}") for i in range(HTTP_CONNECTIONS + 6)]
    replies = await asyncio.gather(*(search(fake, ids, user=m, query="protein") for m in members))
    assert all(reply.embeds and not reply.ephemeral for reply in replies)


async def test_next_and_previous_edit_the_one_message(world) -> None:
    fake, _, ids = world
    reply = await search(fake, ids, query=MANY)
    assert len(reply.embeds) == 5
    assert reply.content.startswith("Results 1–5 of")
    first_page = [e["title"] for e in reply.embeds]
    assert button(reply, "◀ Previous").get("disabled") is True
    assert button(reply, "Page 1/").get("disabled") is True
    next_id = button(reply, "Next ▶")["custom_id"]

    click = await fake.click(reply, ids.user, next_id)
    assert click.callback_type == 7  # update message, not a new one
    assert click.message_id == reply.message_id
    assert reply.content.startswith("Results 6–10 of")
    second_page = [e["title"] for e in reply.embeds]
    assert len(second_page) == 5 and not set(second_page) & set(first_page)
    assert button(reply, "Page 2/")
    labels = [o["label"] for o in paper_menu(reply)["options"]]
    assert len(labels) == 5
    assert all(t.startswith(lbl.rstrip("…")) for t, lbl in zip(second_page, labels, strict=True))

    back = await fake.click(reply, ids.user, button(reply, "◀ Previous")["custom_id"])
    assert back.callback_type == 7
    assert [e["title"] for e in reply.embeds] == first_page
    assert len(fake.channel_messages(ids.channel)) == 1


async def test_only_the_searcher_may_page(world) -> None:
    fake, _, ids = world
    reply = await search(fake, ids, query=MANY)
    before = reply.content
    refusal = await fake.click(reply, ids.other, button(reply, "Next ▶")["custom_id"])
    assert refusal.ephemeral
    assert refusal.content == "Run /search yourself to page through results."
    assert reply.content == before


async def test_two_searches_page_independently(world) -> None:
    fake, _, ids = world
    mine = await search(fake, ids, query=MANY)
    theirs = await search(fake, ids, user=ids.other, query="speech")
    assert button(mine, "Next ▶")["custom_id"] != button(theirs, "Next ▶")["custom_id"]
    await fake.click(theirs, ids.other, button(theirs, "Next ▶")["custom_id"])
    assert theirs.content.startswith("Results 6–7 of 7")
    assert button(theirs, "Next ▶").get("disabled") is True
    assert mine.content.startswith("Results 1–5")


async def test_search_works_in_dms(world) -> None:
    fake, _, ids = world
    reply = await fake.invoke_dm(ids.user, "search", {"topic": "Speech & audio"})
    assert not reply.ephemeral
    assert len(reply.embeds) == 5


async def test_menu_opens_the_full_abstract_ephemerally(world) -> None:
    fake, bot, ids = world
    reply = await search(fake, ids, query="protein")
    menu = paper_menu(reply)
    option = menu["options"][0]
    # Anyone may read an abstract: the answer is only for them.
    opened = await fake.select(reply, ids.other, menu["custom_id"], [option["value"]])
    assert opened.ephemeral
    assert opened.message_id != reply.message_id
    [embed] = opened.embeds
    paper = (await bot.storage.get_papers([int(option["value"])]))[0]
    assert embed["title"] == option["label"] == paper.title
    assert len(embed["description"]) > 300  # the whole abstract, not the teaser


async def test_topic_autocomplete_and_topic_only_search(world) -> None:
    fake, _, ids = world
    choices = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "search", {"topic": "spe"}, focused="topic"
    )
    assert 0 < len(choices) <= 25
    assert "speech-audio" in [c["value"] for c in choices]
    everything = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "search", {"topic": ""}, focused="topic"
    )
    assert len(everything) == 22
    assert all(1 <= len(c["name"]) <= 100 for c in everything)

    reply = await search(fake, ids, topic="speech-audio")
    assert not reply.ephemeral
    assert len(reply.embeds) == 5
    assert "Speech & audio" in reply.content
    assert all("Speech" in e["description"] for e in reply.embeds)


async def test_typed_topic_is_matched_exactly_or_questioned(world) -> None:
    fake, _, ids = world
    # A name or slug in any case is the topic...
    for typed in ("SPEECH & audio", "Speech-Audio"):
        reply = await search(fake, ids, query="model", topic=typed)
        assert not reply.ephemeral
        assert "topic: Speech & audio" in reply.content
    # ...but something merely close is a question, not a silent guess (both of these
    # used to search "Speech & audio" without a word).
    for typed in ("speech and audio", "speach"):
        reply = await search(fake, ids, query="model", topic=typed)
        assert reply.ephemeral and reply.embeds == []
        assert reply.content == (
            f"There is no topic called “{typed}”. Did you mean **Speech & audio**? "
            "`/topics` lists them all."
        )


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({}, "Give a query, a topic, a source, an author, or several of them."),
        ({"query": "   "}, "Give a query, a topic, a source, an author, or several of them."),
        ({"query": "protein", "since": "last tuesday"}, "as a date"),
        ({"query": "protein", "since": "2026-02-30"}, "not a real date"),
        ({"query": "protein", "since": "2099-01-01"}, "in the future"),
        ({"query": "protein", "topic": "underwater basket weaving"}, "/topics"),
    ],
)
async def test_bad_input_gets_an_ephemeral_error(world, options, error) -> None:
    fake, _, ids = world
    reply = await search(fake, ids, **options)
    assert reply.ephemeral
    assert reply.kind == "message"  # answered directly, never a public "thinking…"
    assert error in reply.content
    assert reply.embeds == []


async def test_since_filters(world) -> None:
    fake, _, ids = world
    # The clock is 2026-03-15: 7d reaches back past the sample day, 2026-03-15 does not.
    recent = await search(fake, ids, query="protein", since="7d")
    assert len(recent.embeds) == 3
    later = await search(fake, ids, query="protein", since="2026-03-15")
    assert not later.ephemeral
    assert later.embeds == [] and later.content.startswith("No papers found")
    # The words are right, the date is not: the reply says how many older papers
    # match (all the sample's, a day earlier) rather than to reword the search.
    # (Each search from another member: one member's searches are rate limited.)
    members = add_members(fake, ids, 4)
    every = await search(fake, ids, user=members[0], query="protein")
    total = re.search(r" of (\d+) for", every.content)
    assert total is not None, every.content
    assert f"but {total[1]} older papers match: try an earlier date." in later.content
    for user, options in (
        (members[1], {"query": "zzzqqq"}),
        (members[2], {"query": "protein", "author": "Nobody Atall"}),
    ):
        nothing = await search(fake, ids, user=user, since="2026-03-15", **options)
        assert "Try fewer or different words" in nothing.content, options
        assert "older" not in nothing.content, options
    topic = await search(fake, ids, user=members[3], topic="robotics", since="2026-03-15")
    assert "but 1 older paper matches: try an earlier date." in topic.content


# A query with no words at all (`*`) is refused in one ephemeral line instead:
# tests/test_search_wordless_query.py.
@pytest.mark.parametrize("query", ["c++", '"unterminated', "x" * 5000, "@everyone <@1>"])
async def test_hostile_queries_reply_without_error(world, query) -> None:
    fake, _, ids = world
    reply = await search(fake, ids, query=query)
    assert not reply.ephemeral
    assert reply.content.startswith(("Results", "No papers found"))
    assert "went wrong" not in reply.content
    assert len(reply.content) <= 2000


async def test_pager_buttons_are_disabled_when_it_times_out(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(search_view, "PAGER_TIMEOUT", 0.3)
    async with bot_against_fake(tmp_path) as (fake, _, ids):
        reply = await search(fake, ids, query=MANY)
        updates = reply.record.updates
        await reply.wait_for_update(updates, timeout=5)
        assert all(c.get("disabled") for c in components_of(reply.components))
        assert reply.content.startswith("Results 1–5")
        assert fake.payload_problems == []
        assert mention_leaks(fake) == []


# --- /paper -------------------------------------------------------------------------------


async def test_paper_autocomplete_then_submit(world) -> None:
    fake, _, ids = world
    choices = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "paper", {"title": "protein lang"}, focused="title"
    )
    assert 0 < len(choices) <= 25
    assert choices[0]["name"] in PROTEIN_TITLES
    # `#12`: a bare number is part of a title (`... for 23 African Languages`).
    assert all(c["value"].startswith("#") and c["value"][1:].isdigit() for c in choices)
    assert all(len(c["name"]) <= 100 for c in choices)
    newest = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "paper", {"title": ""}, focused="title"
    )
    assert len(newest) == 25

    reply = await fake.invoke(
        ids.guild, ids.channel, ids.user, "paper", {"title": choices[0]["value"]}
    )
    assert not reply.ephemeral
    [embed] = reply.embeds
    assert embed["title"] == choices[0]["name"]
    assert embed["url"].startswith("https://")


async def test_paper_by_typed_title(world) -> None:
    fake, _, ids = world
    reply = await fake.invoke(
        ids.guild, ids.channel, ids.user, "paper", {"title": "long context protein language"}
    )
    assert reply.embeds[0]["title"] == "Long-context Protein Language Model"


async def test_paper_not_found_is_ephemeral(world) -> None:
    fake, _, ids = world
    reply = await fake.invoke(
        ids.guild, ids.channel, ids.user, "paper", {"title": "zzqx vvbn qqqq"}
    )
    assert reply.ephemeral
    assert reply.content.startswith("No paper matches")
    # No words at all names no paper (it used to open the newest one).
    reply = await fake.invoke(ids.guild, ids.channel, ids.user, "paper", {"title": "?!"})
    assert reply.ephemeral and reply.content.startswith("No paper matches")


async def test_paper_by_a_fragment_from_the_middle_of_a_title(world) -> None:
    """`super` begins `supervised` in a dozen titles; the one holding `Super Mario` as
    written is the paper meant, both in autocomplete and when the text is submitted."""
    fake, _, ids = world
    mario = "Language Models are Super Mario: Absorbing Abilities from Homologous Models"
    choices = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "paper", {"title": "Super Mario"}, focused="title"
    )
    assert choices[0]["name"].startswith(mario)
    reply = await fake.invoke(ids.guild, ids.channel, ids.user, "paper", {"title": "Super Mario"})
    assert reply.embeds[0]["title"].startswith(mario)
    # A bare number is part of a title, not a paper's internal id.
    reply = await fake.invoke(ids.guild, ids.channel, ids.user, "paper", {"title": "23"})
    assert "for 23 African Languages" in reply.embeds[0]["title"]


async def test_an_arxiv_link_opens_its_paper_in_paper_and_search(world) -> None:
    fake, bot, ids = world
    report = await ingest_bytes(
        bot.storage, api_dump(real_titles()[:40]), "api.json", today=dt.date(2026, 11, 26)
    )
    assert report.error is None
    arxiv_id, title = real_titles()[7]
    pasted = f"https://arxiv.org/pdf/{arxiv_id}v2.pdf"
    choices = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "paper", {"title": pasted}, focused="title"
    )
    assert [c["name"] for c in choices] == [title]
    for command, option, text in [
        ("paper", "title", pasted),
        ("paper", "title", choices[0]["value"]),
        ("search", "query", f"arXiv:{arxiv_id}"),
        ("search", "query", f"https://huggingface.co/papers/{arxiv_id}"),
    ]:
        reply = await fake.invoke(ids.guild, ids.channel, ids.user, command, {option: text})
        assert not reply.ephemeral
        [embed] = reply.embeds
        assert embed["title"] == title
        # The title links to the paper's best page: its HF page, with the discussion.
        assert embed["url"] == f"https://huggingface.co/papers/{arxiv_id}"


async def test_an_arxiv_id_not_stored_is_said_so(world) -> None:
    fake, _, ids = world
    for command, option in [("paper", "title"), ("search", "query")]:
        reply = await fake.invoke(
            ids.guild, ids.channel, ids.user, command, {option: "arXiv:2403.15447v2"}
        )
        assert reply.ephemeral
        assert reply.content.startswith("No paper with arXiv id `2403.15447` is stored.")
        assert not reply.embeds


# --- /topics ------------------------------------------------------------------------------


async def test_topics_lists_every_topic_with_counts(world) -> None:
    fake, bot, ids = world
    reply = await fake.invoke(ids.guild, ids.channel, ids.user, "topics")
    assert reply.ephemeral  # a reference listing: no need to post it to the channel
    [embed] = reply.embeds
    assert message_problems(last_body(fake)) == []
    for topic in bot.services.topics.defaults:
        assert f"`{topic.slug}`" in embed["description"]
    assert "**Speech & audio** `speech-audio` — 9 that day · 9 total" in embed["description"]
    assert "Sat 14 Mar 2026" in embed["description"]


async def test_topics_include_this_guilds_own(world) -> None:
    fake, bot, ids = world
    own = Topic("proteins", "Proteins *and* folding", ("protein",), (), ids.guild)
    await bot.storage.upsert_guild_topic(own)
    elsewhere = Topic("secret", "Other guild's topic", ("secret",), (), ids.guild + 1)
    await bot.storage.upsert_guild_topic(elsewhere)
    reply = await fake.invoke(ids.guild, ids.channel, ids.user, "topics")
    description = reply.embeds[0]["description"]
    assert "This server's topics" in description
    assert r"Proteins \*and\* folding" in description
    assert "secret" not in description
    # Tag the papers the way the topic admin commands do, then search the topic.
    key = f"{ids.guild}:proteins"
    tagged = [
        (pid, hit)
        async for batch in bot.storage.paper_texts()
        for pid, title, abstract in batch
        for hit in match_topics(title, abstract, [Topic(key, own.name, own.keywords)])
    ]
    await bot.storage.replace_topic_assignments(key, tagged)
    found = await search(fake, ids, topic=key)
    assert {e["title"] for e in found.embeds[:2]} == PROTEIN_TITLES
    assert r"topic: Proteins \*and\* folding" in found.embeds[0]["description"]

    choices = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "search", {"topic": "prot"}, focused="topic"
    )
    assert {"name": "Proteins *and* folding (this server)", "value": f"{ids.guild}:proteins"} in [
        {"name": c["name"], "value": c["value"]} for c in choices
    ]


async def test_topics_listing_fits_with_many_long_guild_topics(world) -> None:
    fake, bot, ids = world
    for i in range(120):
        name = f"Topic number {i} " + "w" * 80
        await bot.storage.upsert_guild_topic(Topic(f"t{i}", name, ("word",), (), ids.guild))
    reply = await fake.invoke(ids.guild, ids.channel, ids.user, "topics")
    assert message_problems(last_body(fake)) == []
    assert "more topics" in reply.embeds[0]["description"]


# --- pure helpers ---------------------------------------------------------------------------

TODAY = dt.date(2026, 3, 15)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("  ", None),
        ("2026-03-01", dt.date(2026, 3, 1)),
        (" 2026-03-14 ", SAMPLE_DAY),
        ("7d", dt.date(2026, 3, 8)),
        ("30d", dt.date(2026, 2, 13)),
        ("0d", TODAY),
        ("7 days", dt.date(2026, 3, 8)),
        ("7", dt.date(2026, 3, 8)),  # a bare number, as people type it, is days back
        (" 30 ", dt.date(2026, 2, 13)),
        ("2025", dt.date(2025, 1, 1)),  # four digits are a year, from its first day
        ("2026", dt.date(2026, 1, 1)),
    ],
)
def test_parse_since(text, expected) -> None:
    assert parse_since(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    ["yesterday", "2026-3-1", "20260301", "2026-13-01", "-7d", "12345d", "1234", "2027", "-7"],
)
def test_parse_since_rejects(text) -> None:
    with pytest.raises(UserError):
        parse_since(text, TODAY)


def test_topic_helpers() -> None:
    topics = [
        Topic("speech-audio", "Speech & audio", ("speech",)),
        Topic("speech-audio", "Our speech", ("speech",), (), 42),
    ]
    assert [c.value for c in topic_choices(topics, "")] == ["speech-audio", "42:speech-audio"]
    assert resolve_topic(topics, "42:speech-audio").guild_id == 42
    assert resolve_topic(topics, "Speech & audio").guild_id is None
    with pytest.raises(UserError):
        resolve_topic(topics, "underwater basket weaving")
    long = "y" * 300
    assert len(query_label(long, topics[0], TODAY)) < 120
    assert query_label(long, topics[0], TODAY).endswith("topic: Speech & audio · since 2026-03-15")
