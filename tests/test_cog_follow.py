"""/follow, /unfollow, /following, /delivery and the member DM they lead to, through the
real discord.py client, the fake Discord and a real SQLite file."""

from __future__ import annotations

import datetime as dt
import logging
import re
from zoneinfo import ZoneInfo

import pytest

from bot.core.subscriptions import Follow
from tests.discord_harness import SAMPLE_DAY, bot_against_fake, mention_leaks, settle

# The day after the sample, 08:00 UTC: the default delivery time of a member.
MORNING = dt.datetime(2026, 3, 15, 8, 0, tzinfo=dt.UTC)
CLOSED_NOTICE = "your DMs are closed to me"
DM_ROUTE = "POST /channels/{channel_id}/messages"


@pytest.fixture
async def world(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    async with bot_against_fake(tmp_path, extensions=("cogs.follow", "cogs.operate")) as running:
        fake, bot, _ = running
        # Started paused: jobs get real next-run times (shown by /following, /delivery)
        # but never fire on their own; the tests fire them with a controlled clock.
        bot.services.schedules.scheduler.start(paused=True)
        yield running
        await settle()
        assert fake.payload_problems == []
        assert mention_leaks(fake) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def run(fake, ids, name, user=None, **options):
    return await fake.invoke(ids.guild, ids.channel, user or ids.user, name, options)


def components_of(message: dict) -> list[dict]:
    return [c for row in message.get("components", []) for c in row.get("components", [])]


def paper_text(paper) -> str:
    return f"{paper.title}\n{paper.abstract}"


async def sample_papers(bot):
    return await bot.storage.papers_on_day(SAMPLE_DAY)


# --- /follow ------------------------------------------------------------------------------


async def test_topic_autocomplete_offers_at_most_25(world) -> None:
    fake, bot, ids = world
    every = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "follow", {"topic": ""}, focused="topic"
    )
    assert 0 < len(every) <= 25
    assert len(every) == len(bot.services.topics.defaults)
    typed = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "follow", {"topic": "speech"}, focused="topic"
    )
    assert typed[0]["value"] == "speech-audio"
    assert all(1 <= len(c["name"]) <= 100 for c in every + typed)


async def test_follow_a_topic_and_a_keyword_then_list_them(world) -> None:
    fake, bot, ids = world
    topic = await run(fake, ids, "follow", topic="speech-audio")
    assert topic.ephemeral
    assert topic.content.startswith("✅ Following topic Speech & audio")
    assert "08:00 UTC" in topic.content
    keyword = await run(fake, ids, "follow", keyword='"Self-Supervised"')
    assert keyword.ephemeral
    assert "keyword “self-supervised”" in keyword.content

    user = await bot.storage.user_delivery(ids.user)
    assert set(user.follows) == {
        Follow("topic", "speech-audio"),
        Follow("keyword", "self-supervised"),
    }
    # Following schedules the member's DM.
    assert bot.services.schedules.next_run(f"user:{ids.user}") is not None

    listing = await run(fake, ids, "following")
    assert listing.ephemeral
    assert "• topic Speech & audio" in listing.content
    assert "• keyword “self-supervised”" in listing.content
    assert "DM daily at 08:00 UTC; next <t:" in listing.content


async def test_following_nothing(world) -> None:
    fake, _, ids = world
    reply = await run(fake, ids, "following")
    assert reply.ephemeral
    assert reply.content.startswith("You follow nothing yet.")


async def test_following_twice_says_so_and_stores_one(world) -> None:
    fake, bot, ids = world
    await run(fake, ids, "follow", topic="speech-audio")
    again = await run(fake, ids, "follow", topic="Speech & audio")
    assert again.ephemeral
    assert again.content == "You already follow topic Speech & audio."
    await run(fake, ids, "follow", keyword="protein")
    same = await run(fake, ids, "follow", keyword="  PROTEIN ")
    assert same.content == "You already follow keyword “protein”."
    await run(fake, ids, "follow", keyword="self-supervised")
    quoted = await run(fake, ids, "follow", keyword="“Self-Supervised”")
    assert quoted.content == "You already follow keyword “self-supervised”."
    user = await bot.storage.user_delivery(ids.user)
    assert len(user.follows) == 3


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({}, "Give one of `topic`, `keyword` or `author` (just one of them)."),
        ({"topic": "speech-audio", "keyword": "protein"}, "one of them"),
        ({"topic": "underwater basket weaving"}, "`/topics` lists them all"),
        ({"keyword": "x" * 101}, "A keyword must be 1–100 characters."),
        ({"keyword": '"unbalanced'}, "Unbalanced quote"),
        ({"keyword": "***"}, "no letters or digits"),
        # Keyword follows obey the rules of a server topic's keywords.
        ({"keyword": "a"}, "too short"),
        ({"keyword": "tr*"}, "too short"),
        ({"keyword": "foo*bar"}, "* only works on single keywords"),
    ],
)
async def test_bad_follow_gets_an_ephemeral_error(world, options, error) -> None:
    fake, bot, ids = world
    reply = await run(fake, ids, "follow", **options)
    assert reply.ephemeral
    assert reply.kind == "message"
    assert error in reply.content
    assert await bot.storage.user_delivery(ids.user) is None


async def test_follow_limit(world) -> None:
    fake, bot, ids = world
    for i in range(25):
        await bot.storage.add_follow(ids.user, Follow("keyword", f"word{i}"))
    reply = await run(fake, ids, "follow", keyword="protein")
    assert reply.ephemeral
    assert "25 things already" in reply.content
    assert len((await bot.storage.user_delivery(ids.user)).follows) == 25


# --- /unfollow ------------------------------------------------------------------------------


async def test_unfollow_autocomplete_lists_only_my_follows(world) -> None:
    fake, _, ids = world
    await run(fake, ids, "follow", topic="speech-audio")
    await run(fake, ids, "follow", keyword="protein")
    await run(fake, ids, "follow", keyword="diffusion")
    await run(fake, ids, "follow", user=ids.other, topic="robotics")
    await run(fake, ids, "follow", user=ids.other, keyword="graph")

    topics = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "unfollow", {"topic": ""}, focused="topic"
    )
    assert [c["value"] for c in topics] == ["speech-audio"]
    keywords = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "unfollow", {"keyword": ""}, focused="keyword"
    )
    assert sorted(c["value"] for c in keywords) == ["diffusion", "protein"]
    typed = await fake.autocomplete(
        ids.guild, ids.channel, ids.user, "unfollow", {"keyword": "PRO"}, focused="keyword"
    )
    assert [c["value"] for c in typed] == ["protein"]
    theirs = await fake.autocomplete(
        ids.guild, ids.channel, ids.other, "unfollow", {"topic": ""}, focused="topic"
    )
    assert [c["value"] for c in theirs] == ["robotics"]


async def test_unfollow(world) -> None:
    fake, bot, ids = world
    await run(fake, ids, "follow", topic="speech-audio")
    await run(fake, ids, "follow", keyword="protein")
    await run(fake, ids, "follow", keyword="state space model")
    gone = await run(fake, ids, "unfollow", keyword="Protein")
    assert gone.ephemeral and gone.content == "Unfollowed that keyword."
    quoted = await run(fake, ids, "unfollow", keyword='"State  Space Model"')
    assert quoted.content == "Unfollowed that keyword."
    # A typed topic name works as well as the autocompleted slug.
    by_name = await run(fake, ids, "unfollow", topic="Speech & audio")
    assert by_name.content == "Unfollowed that topic."
    user = await bot.storage.user_delivery(ids.user)
    assert user.follows == ()
    # Following nothing: no scheduled DM any more.
    assert bot.services.schedules.next_run(f"user:{ids.user}") is None


@pytest.mark.parametrize(
    "options",
    [{"topic": "robotics"}, {"keyword": "graph"}, {}, {"topic": "robotics", "keyword": "x"}],
)
async def test_unfollowing_what_you_dont_follow_is_an_ephemeral_error(world, options) -> None:
    fake, bot, ids = world
    await run(fake, ids, "follow", topic="speech-audio")
    reply = await run(fake, ids, "unfollow", **options)
    assert reply.ephemeral
    assert reply.kind == "message"
    assert "`/following`" in reply.content or "one of them" in reply.content
    assert len((await bot.storage.user_delivery(ids.user)).follows) == 1


# --- /delivery ------------------------------------------------------------------------------


async def test_delivery_time_and_zone(world) -> None:
    fake, bot, ids = world
    await run(fake, ids, "follow", topic="speech-audio")
    reply = await run(fake, ids, "delivery", time="7pm", timezone="America/New_York")
    assert reply.ephemeral
    assert reply.content.startswith("🕗 Your papers arrive daily at 19:00 America/New_York")
    user = await bot.storage.user_delivery(ids.user)
    assert (user.post_time, user.timezone) == ("19:00", "America/New_York")
    next_run = bot.services.schedules.next_run(user.target)
    ny = next_run.astimezone(ZoneInfo("America/New_York"))
    assert (ny.hour, ny.minute) == (19, 0)
    assert f"<t:{int(next_run.timestamp())}:f>" in reply.content

    listing = await run(fake, ids, "following")
    assert "DM daily at 19:00 America/New_York" in listing.content


async def test_delivery_timezone_autocomplete(world) -> None:
    fake, _, ids = world
    choices = await fake.autocomplete(
        ids.guild,
        ids.channel,
        ids.user,
        "delivery",
        {"time": "8", "timezone": "new_y"},
        focused="timezone",
    )
    assert 0 < len(choices) <= 25
    assert choices[0]["value"] == "America/New_York"


async def test_delivery_understands_countries_cities_and_abbreviations(world) -> None:
    fake, bot, ids = world
    await run(fake, ids, "follow", topic="speech-audio")
    cases = [
        ("india", "Asia/Kolkata", "Asia/Kolkata (India)"),
        ("mumbai", "Asia/Kolkata", "Asia/Kolkata (India)"),
        ("PST", "America/Los_Angeles", "America/Los_Angeles (United States)"),
        ("new york", "America/New_York", "America/New_York (United States)"),
        ("berlin", "Europe/Berlin", "Europe/Berlin (Germany)"),
        ("São Paulo", "America/Sao_Paulo", "America/Sao_Paulo (Brazil)"),
    ]
    for typed, zone, shown in cases:
        reply = await run(fake, ids, "delivery", time="8", timezone=typed)
        assert reply.ephemeral
        assert reply.content.startswith(f"🕗 Your papers arrive daily at 08:00 {shown}; next ")
        user = await bot.storage.user_delivery(ids.user)
        assert (user.post_time, user.timezone) == ("08:00", zone), typed
        local = bot.services.schedules.next_run(user.target).astimezone(ZoneInfo(zone))
        assert (local.hour, local.minute) == (8, 0), typed
    listing = await run(fake, ids, "following")
    assert "DM daily at 08:00 America/Sao_Paulo (Brazil); next <t:" in listing.content


async def test_delivery_in_a_country_of_several_zones_says_which_it_took(world) -> None:
    fake, bot, ids = world
    reply = await run(fake, ids, "delivery", time="21:30", timezone="usa")
    assert "daily at 21:30 America/New_York (United States); next " in reply.content
    assert "United States has" in reply.content and "Give a city" in reply.content
    user = await bot.storage.user_delivery(ids.user)
    assert user.timezone == "America/New_York"


async def test_a_misspelt_zone_is_refused_with_the_closest_zones(world) -> None:
    fake, bot, ids = world
    await run(fake, ids, "follow", topic="speech-audio")
    reply = await run(fake, ids, "delivery", time="8", timezone="Bostn")
    assert reply.ephemeral and "\n" not in reply.content
    assert reply.content.startswith("Unknown timezone “Bostn”. Did you mean ")
    assert "America/New_York" in reply.content
    user = await bot.storage.user_delivery(ids.user)
    assert (user.post_time, user.timezone) == ("08:00", "UTC")


async def test_delivery_autocomplete_offers_the_place_first(world) -> None:
    fake, _, ids = world

    async def offered(typed: str) -> list[dict]:
        options = {"time": "8", "timezone": typed}
        found = await fake.autocomplete(
            ids.guild, ids.channel, ids.user, "delivery", options, focused="timezone"
        )
        assert 0 < len(found) <= 25, typed
        return found

    india = await offered("india")
    assert india[0]["value"] == "Asia/Kolkata" and "India" in india[0]["name"]
    est = [c["value"] for c in await offered("est")]
    assert est[0] == "America/New_York" and "EST" not in est
    mst = [c["value"] for c in await offered("MST")]
    assert mst[:2] == ["America/Denver", "America/Phoenix"]
    fixed = [c["value"] for c in await offered("utc-5")]
    assert fixed.index("America/New_York") < fixed.index("Etc/GMT+5")


async def test_delivery_before_following_anything(world) -> None:
    fake, _, ids = world
    reply = await run(fake, ids, "delivery", time="06:30", timezone="utc")
    assert "06:30 UTC" in reply.content
    assert "You don't follow anything yet" in reply.content


@pytest.mark.parametrize(
    ("time", "zone", "error"),
    [
        ("25:00", "UTC", "not a time of day"),
        ("noon", "UTC", "is not a time"),
        ("13pm", "UTC", "am/pm"),
        ("08:00", "Mars/Olympus_Mons", "Unknown timezone"),
        ("08:00", "", "Unknown timezone"),
    ],
)
async def test_bad_delivery_gets_an_ephemeral_error(world, time, zone, error) -> None:
    fake, bot, ids = world
    await run(fake, ids, "follow", topic="speech-audio")
    reply = await run(fake, ids, "delivery", time=time, timezone=zone)
    assert reply.ephemeral
    assert reply.kind == "message"
    assert error in reply.content
    user = await bot.storage.user_delivery(ids.user)
    assert (user.post_time, user.timezone) == ("08:00", "UTC")


# --- in DMs -------------------------------------------------------------------------------


async def test_member_commands_work_in_dms(world) -> None:
    fake, bot, ids = world
    followed = await fake.invoke_dm(ids.user, "follow", {"topic": "speech-audio"})
    assert followed.content.startswith("✅ Following topic Speech & audio")
    choices = await fake.autocomplete(
        None, None, ids.user, "follow", {"topic": "robo"}, focused="topic"
    )
    assert "robotics" in [c["value"] for c in choices]
    await fake.invoke_dm(ids.user, "follow", {"keyword": "protein"})
    listing = await fake.invoke_dm(ids.user, "following")
    assert "• topic Speech & audio" in listing.content
    assert "• keyword “protein”" in listing.content
    timed = await fake.invoke_dm(ids.user, "delivery", {"time": "9", "timezone": "Europe/Berlin"})
    assert "09:00 Europe/Berlin" in timed.content
    gone = await fake.invoke_dm(ids.user, "unfollow", {"keyword": "protein"})
    assert gone.content == "Unfollowed that keyword."
    user = await bot.storage.user_delivery(ids.user)
    assert user.follows == (Follow("topic", "speech-audio"),)


# --- the member DM --------------------------------------------------------------------------


async def test_member_dm_lists_only_matching_papers_with_reasons(world) -> None:
    fake, bot, ids = world
    await run(fake, ids, "follow", topic="speech-audio")
    await run(fake, ids, "follow", keyword="protein")
    papers = await sample_papers(bot)
    speech = {p.title for p in papers if any(h.topic == "speech-audio" for h in p.topics)}
    protein = {p.title for p in papers if re.search(r"\bproteins?\b", paper_text(p), re.I)}
    assert len(speech) == 9 and len(protein) == 3

    await bot.services.schedules.fire(f"user:{ids.user}", MORNING)
    [dm] = fake.dm_messages(ids.user)
    assert "**Your papers — " in dm["content"]
    assert "12 papers picked for you from what you rate and follow" in dm["content"]
    assert "page 1/3" in dm["content"]
    assert len(dm["embeds"]) == 5

    # Page through the whole DM: every matching paper exactly once, nothing else.
    seen: list[dict] = list(dm["embeds"])
    for page in (2, 3):
        [next_button] = [c for c in components_of(dm) if c.get("label") == "Next ▶"]
        click = await fake.click(int(dm["id"]), ids.user, next_button["custom_id"])
        assert click.callback_type == 7
        [dm] = fake.dm_messages(ids.user)
        assert f"page {page}/3" in dm["content"]
        seen += dm["embeds"]
        # The paper menu follows the page: it offers the papers this page shows.
        [menu] = [c for c in components_of(dm) if c["type"] == 3]
        assert len(menu["options"]) == len(dm["embeds"])
    buttons = [c for c in components_of(dm) if c["type"] == 2]
    assert [c.get("disabled") for c in buttons] == [False, True, True]
    titles = [e["title"] for e in seen]
    assert len(titles) == len(set(titles)) == 12
    assert set(titles) == speech | protein
    for embed in seen:
        description = embed["description"]
        if embed["title"] in speech:
            assert "**Why:** topic: Speech & audio \\(" in description
        if embed["title"] in protein:
            assert "**Why:** keyword: “protein” \\(" in description
    # Back to page 1.
    [previous] = [c for c in components_of(dm) if c.get("label") == "◀ Previous"]
    await fake.click(int(dm["id"]), ids.user, previous["custom_id"])
    [dm] = fake.dm_messages(ids.user)
    assert "page 2/3" in dm["content"]

    record = await bot.storage.delivery(f"user:{ids.user}", SAMPLE_DAY)
    assert record.status == "sent" and record.message_id == int(dm["id"])

    # A second fire the same day (a retry, the sweeper) sends nothing more.
    await bot.services.schedules.fire(f"user:{ids.user}", MORNING + dt.timedelta(minutes=5))
    await bot.services.schedules.fire(f"user:{ids.user}", MORNING + dt.timedelta(days=1))
    assert len(fake.dm_messages(ids.user)) == 1


async def test_member_dm_fits_on_one_page_without_buttons(world) -> None:
    fake, bot, ids = world
    await run(fake, ids, "follow", keyword="protein")
    await bot.services.schedules.fire(f"user:{ids.user}", MORNING)
    [dm] = fake.dm_messages(ids.user)
    assert len(dm["embeds"]) == 3
    # No pager buttons, only the menu that opens a paper to rate it.
    [menu] = components_of(dm)
    assert menu["type"] == 3 and len(menu["options"]) == 3
    assert all("keyword: “protein” \\(" in e["description"] for e in dm["embeds"])


async def test_member_whose_follows_match_nothing_gets_no_dm(world) -> None:
    fake, bot, ids = world
    await run(fake, ids, "follow", keyword="zymurgy")
    await bot.services.schedules.fire(f"user:{ids.user}", MORNING)
    assert fake.dm_messages(ids.user) == []
    assert fake.requests_matching("POST /users/@me/channels") == []
    record = await bot.storage.delivery(f"user:{ids.user}", SAMPLE_DAY)
    assert record.status == "empty"
    user = await bot.storage.user_delivery(ids.user)
    assert user.last_run_day == MORNING.date()


async def test_member_dm_waits_for_the_members_local_day(world) -> None:
    fake, bot, ids = world
    await run(fake, ids, "follow", keyword="protein")
    await run(fake, ids, "delivery", time="07:00", timezone="Pacific/Kiritimati")
    # Kiritimati is UTC+14: 09:00 UTC on the 13th is still the 13th there (no papers
    # dated that day yet); 11:00 UTC is already the 14th, the sample's day.
    await bot.services.schedules.fire(
        f"user:{ids.user}", dt.datetime(2026, 3, 13, 9, tzinfo=dt.UTC)
    )
    assert fake.dm_messages(ids.user) == []
    await bot.services.schedules.fire(
        f"user:{ids.user}", dt.datetime(2026, 3, 13, 11, tzinfo=dt.UTC)
    )
    assert len(fake.dm_messages(ids.user)) == 1


# --- closed DMs -------------------------------------------------------------------------------


async def test_closed_dms_are_recorded_told_once_and_reset_by_delivery(world) -> None:
    fake, bot, ids = world
    target = f"user:{ids.user}"
    await run(fake, ids, "follow", keyword="protein")
    fake.refuse_dms(ids.user)

    await bot.services.schedules.fire(target, MORNING)
    assert fake.dm_messages(ids.user) == []
    user = await bot.storage.user_delivery(ids.user)
    assert user.dm_closed is True and user.dm_closed_told is False
    dm_channel = fake.state.dm_channels[ids.user]
    attempts = fake.requests_matching(DM_ROUTE, channel_id=dm_channel)
    assert len(attempts) == 1 and attempts[0].status == 403
    # Neither later cron fires nor the catch-up sweep try again.
    await bot.services.schedules.fire(target, MORNING + dt.timedelta(days=1))
    assert await bot.services.schedules.sweep(MORNING + dt.timedelta(days=1, minutes=5)) == []
    assert len(fake.requests_matching(DM_ROUTE, channel_id=dm_channel)) == 1

    # Their next command gets one extra ephemeral followup...
    listing = await run(fake, ids, "following")
    assert "⚠️ Your DMs are closed to me" in listing.content
    await listing.wait_for_followups(1)
    [notice] = listing.followups
    assert CLOSED_NOTICE in notice["content"]
    assert notice["flags"] & 64
    assert (await bot.storage.user_delivery(ids.user)).dm_closed_told is True
    # ...which the command after that does not repeat.
    helped = await run(fake, ids, "help")
    await settle()
    assert helped.followups == []

    # /delivery re-enables DMs; with DMs open again the next fire delivers.
    fake.refuse_dms(ids.user, False)
    reply = await run(fake, ids, "delivery", time="08:00", timezone="UTC")
    await settle()
    assert reply.followups == []
    user = await bot.storage.user_delivery(ids.user)
    assert user.dm_closed is False and user.dm_closed_told is False
    assert bot.services.schedules.next_run(target) is not None
    await bot.services.schedules.fire(target, MORNING + dt.timedelta(days=1, minutes=10))
    [dm] = fake.dm_messages(ids.user)
    assert len(dm["embeds"]) == 3


async def test_closed_dm_notice_also_follows_a_dm_command(world) -> None:
    fake, bot, ids = world
    await run(fake, ids, "follow", keyword="protein")
    fake.refuse_dms(ids.user)
    await bot.services.schedules.fire(f"user:{ids.user}", MORNING)
    other = await run(fake, ids, "help", user=ids.other)
    await settle()
    assert other.followups == []  # only the member whose DMs are closed is told
    reply = await fake.invoke_dm(ids.user, "help")
    await reply.wait_for_followups(1)
    assert CLOSED_NOTICE in reply.followups[0]["content"]
