"""/digest (and the other Manage Server commands) through the real discord.py client, the
fake Discord and a real SQLite file: what an admin sees, what gets stored, what gets
posted, and who is refused."""

from __future__ import annotations

import asyncio
import logging
from zoneinfo import ZoneInfo

import pytest

from bot.core.delivery_plan import digest_marker
from bot.fakediscord import MANAGE_GUILD, InvocationRefused
from tests.discord_harness import (
    SAMPLE_DAY,
    bot_against_fake,
    mention_leaks,
    settle,
)

EXTENSIONS = ("cogs.digest", "cogs.operate", "cogs.topic_admin")
BERLIN = "Europe/Berlin"
MANAGE_SERVER_LINE = "You need the **Manage Server** permission to do that."
SAMPLE_MARKER = digest_marker(SAMPLE_DAY)


@pytest.fixture
async def world(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    async with bot_against_fake(tmp_path, extensions=EXTENSIONS, scheduler=True) as running:
        fake, _, _ = running
        yield running
        await settle()
        # Every payload the bot sent in the test was valid and pinged nobody...
        assert fake.payload_problems == []
        assert mention_leaks(fake) == []
    # ...and no command or button failed quietly (discord.py only logs those).
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


# --- helpers ----------------------------------------------------------------------------


def posts(fake, channel_id: int) -> list[dict]:
    """Messages the bot posted in a channel itself (not interaction responses)."""
    return fake.channel_messages(channel_id, include_interaction_responses=False)


def channel_posts_sent(fake, channel_id: int) -> int:
    """How many times the bot asked Discord to post in the channel (successful or not)."""
    route = "POST /channels/{channel_id}/messages"
    return len(fake.requests_matching(route, channel_id=channel_id))


async def subscribe(fake, ids, *, channel=None, user=None, **options):
    opts = {"channel": channel or ids.channel, "time": "08:00", "timezone": BERLIN, **options}
    return await fake.invoke(ids.guild, ids.channel, user or ids.admin, "digest subscribe", opts)


async def digest(fake, ids, sub: str, user=None, **options):
    return await fake.invoke(ids.guild, ids.channel, user or ids.admin, f"digest {sub}", options)


async def new_channel(fake, bot, guild: int, name: str) -> int:
    """Add a text channel and wait until the running bot has it in its cache (a channel
    option is only understood for channels the bot knows)."""
    channel_id = fake.add_channel(guild, name)
    for _ in range(500):
        if bot.get_channel(channel_id) is not None:
            return channel_id
        await asyncio.sleep(0.01)
    raise TimeoutError(f"the bot never saw channel {name}")


async def new_guild(fake, bot, name: str) -> tuple[int, int, int, int]:
    """(guild, channel, admin, member) of another server the bot is in."""
    guild = fake.add_guild(name)
    admin = fake.add_member(guild, f"{name}-admin", permissions=MANAGE_GUILD)
    member = fake.add_member(guild, f"{name}-member")
    for _ in range(500):
        if bot.get_guild(guild) is not None:
            break
        await asyncio.sleep(0.01)
    channel = await new_channel(fake, bot, guild, f"{name}-papers")
    return guild, channel, admin, member


def labels(components: list[dict]) -> list[tuple[str, bool]]:
    return [
        (c.get("label", ""), bool(c.get("disabled")))
        for row in components
        for c in row["components"]
    ]


def one_ephemeral_line(reply) -> str:
    assert reply.ephemeral, reply
    text = reply.content or ""
    assert text and "\n" not in text, text
    return text


# --- autocomplete -------------------------------------------------------------------------


async def test_timezone_and_topic_autocomplete_stay_within_25_choices(world) -> None:
    fake, _, ids = world
    base = {"channel": ids.channel, "time": "08:00", "timezone": ""}

    async def zones(typed: str) -> list[str]:
        options = {**base, "timezone": typed}
        found = await fake.autocomplete(
            ids.guild, ids.channel, ids.admin, "digest subscribe", options, focused="timezone"
        )
        assert 0 < len(found) <= 25, (typed, len(found))
        return [c["value"] for c in found]

    assert (await zones(""))[0] == "UTC"
    assert len(await zones("Europe")) == 25  # ~60 zones match: capped, not an API error
    assert (await zones("berlin"))[0] == BERLIN
    assert "America/New_York" in await zones("new_y")

    async def topics(typed: str) -> list[dict]:
        options = {**base, "timezone": BERLIN, "topics": typed}
        found = await fake.autocomplete(
            ids.guild, ids.channel, ids.admin, "digest subscribe", options, focused="topics"
        )
        assert len(found) <= 25, (typed, len(found))
        return found

    assert (await topics("vis"))[0]["value"] == "computer-vision"
    # A comma-separated list completes its last item and keeps the earlier ones.
    listed = await topics("computer-vision, spee")
    assert listed and all(c["value"].startswith("computer-vision,") for c in listed)
    assert "computer-vision,speech-audio" in [c["value"] for c in listed]
    # 22 built-ins plus this server's own topics would be more than Discord accepts.
    for n in range(4):
        added = await fake.invoke(
            ids.guild,
            ids.channel,
            ids.admin,
            "topic add",
            {"name": f"Lab topic {n}", "keywords": f"protein, word{n}"},
        )
        assert "added" in (added.content or ""), added
    everything = await topics("")
    assert len(everything) == 25
    assert any(c["value"].startswith(f"{ids.guild}:") for c in await topics("lab topic"))


# --- the happy path ----------------------------------------------------------------------


async def test_subscribe_list_preview_now_unsubscribe(world) -> None:
    fake, bot, ids = world
    target = f"channel:{ids.channel}"

    done = await subscribe(fake, ids)
    text = done.content
    assert done.ephemeral
    assert f"<#{ids.channel}>" in text and "08:00 Europe/Berlin" in text
    assert "Next: <t:" in text  # a real next run, not "not scheduled"
    sub = await bot.storage.channel_subscription(ids.channel)
    assert sub is not None
    assert (sub.guild_id, sub.post_time, sub.timezone, sub.topics, sub.max_items) == (
        ids.guild,
        "08:00",
        BERLIN,
        (),
        10,
    )
    assert sub.created_by == ids.admin
    assert bot.services.schedules.next_run(target) is not None
    assert posts(fake, ids.channel) == []  # subscribing posts nothing by itself

    listed = await digest(fake, ids, "list")
    line = one_ephemeral_line(listed)
    assert line.startswith(
        f"<#{ids.channel}> · 08:00 Europe/Berlin (Germany) · max 10 · all topics · "
    )
    assert "next <t:" in line

    preview = await digest(fake, ids, "preview")
    assert preview.ephemeral and preview.kind == "message"
    assert preview.content.startswith("**paperbot daily digest — Sat 14 Mar 2026**")
    assert "page 1/2" in preview.content and SAMPLE_MARKER in preview.content
    assert len(preview.embeds) == 5
    assert posts(fake, ids.channel) == []  # a preview is only for the admin

    now = await digest(fake, ids, "now", channel=ids.channel)
    assert now.ephemeral
    assert now.content == f"Posted the digest for {SAMPLE_DAY} in <#{ids.channel}>."
    [posted] = posts(fake, ids.channel)
    # The preview showed exactly what went out.
    assert posted["content"] == preview.content
    assert posted["embeds"] == preview.embeds
    assert labels(posted["components"]) == labels(preview.components)
    assert int(posted["author"]["id"]) == fake.bot_user_id
    record = await bot.storage.delivery(target, SAMPLE_DAY)
    assert (record.status, record.message_id) == ("sent", int(posted["id"]))

    again = await digest(fake, ids, "now", channel=ids.channel)
    assert "already" in again.content, again.content
    assert len(posts(fake, ids.channel)) == 1
    assert channel_posts_sent(fake, ids.channel) == 1

    gone = await digest(fake, ids, "unsubscribe", channel=ids.channel)
    assert one_ephemeral_line(gone) == f"🛑 <#{ids.channel}> will get no more digests."
    assert await bot.storage.channel_subscription(ids.channel) is None
    assert bot.services.schedules.next_run(target) is None  # the cron job went with it
    assert "No digests yet" in (await digest(fake, ids, "list")).content
    after = await digest(fake, ids, "now", channel=ids.channel)
    assert "has no digest" in after.content
    twice = await digest(fake, ids, "unsubscribe", channel=ids.channel)
    assert one_ephemeral_line(twice) == f"<#{ids.channel}> has no digest here."
    assert len(posts(fake, ids.channel)) == 1


async def test_topics_and_max_shape_what_is_posted(world) -> None:
    fake, bot, ids = world
    done = await subscribe(fake, ids, topics="Computer vision, speech-audio", max=3)
    assert "(Computer vision, Speech & audio)" in done.content, done.content
    sub = await bot.storage.channel_subscription(ids.channel)
    assert sub.topics == ("computer-vision", "speech-audio") and sub.max_items == 3
    assert "Computer vision, Speech & audio · next" in (await digest(fake, ids, "list")).content

    await digest(fake, ids, "now", channel=ids.channel)
    [posted] = posts(fake, ids.channel)
    assert (
        "top 3 of" in posted["content"]
        and "topics: Computer vision, Speech & audio" in (posted["content"])
    )
    # One page: no pager buttons, only the menu that opens a paper to rate it.
    [[menu]] = [row["components"] for row in posted["components"]]
    assert len(posted["embeds"]) == 3 and menu["custom_id"] == "pb:pm:digest"
    assert len(menu["options"]) == 3
    wanted = {"computer-vision", "speech-audio"}
    by_title = {p.title: p for p in await bot.storage.papers_on_day(SAMPLE_DAY)}
    for embed in posted["embeds"]:
        paper = next(p for t, p in by_title.items() if embed["title"].startswith(t[:40]))
        assert wanted & {hit.topic for hit in paper.topics}, embed["title"]


async def test_bad_options_get_one_ephemeral_line_and_store_nothing(world) -> None:
    fake, bot, ids = world
    cases = [
        ({"time": "25:00"}, "25:00"),
        ({"time": "half past eight"}, "not a time"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"topics": "quantum-knitting"}, "no topic called “quantum-knitting”"),
        ({"topics": "computer-vision, quantum-knitting"}, "quantum-knitting"),
    ]
    for options, expected in cases:
        reply = await subscribe(fake, ids, **options)
        assert expected.casefold() in one_ephemeral_line(reply).casefold(), (options, reply)
    # Discord itself refuses a max outside the declared range; the bot never sees it.
    with pytest.raises(ValueError, match="outside"):
        await subscribe(fake, ids, max=51)
    assert await bot.storage.channel_subscriptions() == []
    assert bot.services.schedules.scheduler.get_jobs() == []
    assert posts(fake, ids.channel) == []
    # And the good request after all that works.
    assert "every day at 08:00" in (await subscribe(fake, ids, time="8am")).content


async def test_timezone_error_keeps_the_spelling_of_zone_names(world) -> None:
    fake, _, ids = world
    text = one_ephemeral_line(await subscribe(fake, ids, timezone="Mars/Olympus"))
    assert "Mars/Olympus" in text and "Europe/Berlin" in text


async def test_subscribe_understands_places_and_shows_the_zone(world) -> None:
    fake, bot, ids = world
    done = await subscribe(fake, ids, timezone="new york")
    assert "every day at 08:00 America/New_York (United States). Next: <t:" in done.content
    sub = await bot.storage.channel_subscription(ids.channel)
    assert sub.timezone == "America/New_York"
    local = bot.services.schedules.next_run(sub.target).astimezone(ZoneInfo("America/New_York"))
    assert (local.hour, local.minute) == (8, 0)
    listed = one_ephemeral_line(await digest(fake, ids, "list"))
    assert "· 08:00 America/New_York (United States) · max 10 ·" in listed

    done = await subscribe(fake, ids, timezone="CET")
    assert "every day at 08:00 Europe/Berlin (Germany)." in done.content
    # A whole-hour offset is kept as the fixed zone it is, with a warning.
    done = await subscribe(fake, ids, timezone="UTC+2")
    assert "every day at 08:00 Etc/GMT-2 (UTC+2 all year)." in done.content
    assert "daylight saving" in done.content
    assert (await bot.storage.channel_subscription(ids.channel)).timezone == "Etc/GMT-2"


async def test_subscribe_with_a_misspelt_zone_suggests_and_stores_nothing(world) -> None:
    fake, bot, ids = world
    text = one_ephemeral_line(await subscribe(fake, ids, timezone="Germny"))
    assert text.startswith("Unknown timezone “Germny”. Did you mean ")
    assert "Europe/Berlin" in text
    assert await bot.storage.channel_subscriptions() == []


async def test_timezone_autocomplete_puts_the_country_or_city_first(world) -> None:
    fake, _, ids = world
    base = {"channel": ids.channel, "time": "08:00"}

    async def first(typed: str) -> dict:
        options = {**base, "timezone": typed}
        found = await fake.autocomplete(
            ids.guild, ids.channel, ids.admin, "digest subscribe", options, focused="timezone"
        )
        return found[0]

    assert (await first("germany"))["value"] == BERLIN
    assert (await first("india"))["value"] == "Asia/Kolkata"
    assert (await first("bangalore"))["value"] == "Asia/Kolkata"
    cet = await first("cet")
    assert cet["value"] == BERLIN and cet["name"].startswith("CET (Central European Time)")


# --- who may run what -----------------------------------------------------------------------

ADMIN_COMMANDS = ("digest", "topic", "ingest")


def admin_invocations(fake, ids) -> list[tuple[str, dict]]:
    upload = fake.add_attachment("dump.txt", b"Mar 16\n\nA title\n\nAn abstract.\n")
    return [
        ("digest subscribe", {"channel": ids.channel, "time": "09:00", "timezone": "UTC"}),
        ("digest unsubscribe", {"channel": ids.channel}),
        ("digest list", {}),
        ("digest preview", {}),
        ("digest now", {"channel": ids.channel}),
        ("topic add", {"name": "Proteins", "keywords": "protein"}),
        ("topic remove", {"name": "lab-topic"}),
        ("ingest", {"file": upload}),
    ]


async def snapshot(bot, ids) -> tuple:
    storage = bot.storage
    return (
        await storage.channel_subscriptions(),
        await storage.guild_topics(),
        await storage.stats(),
        await storage.last_ingests(5),
        await storage.deliveries_in_state("sent"),
        await storage.deliveries_in_state("sending"),
    )


async def admin_setup(fake, bot, ids) -> None:
    """Something to unsubscribe, post and remove, made by the real admin."""
    await subscribe(fake, ids)
    added = await fake.invoke(
        ids.guild, ids.channel, ids.admin, "topic add", {"name": "Lab topic", "keywords": "protein"}
    )
    assert "added" in added.content


async def test_members_are_not_offered_the_admin_commands(world) -> None:
    fake, bot, ids = world
    registered = {c["name"]: c for c in fake.registered_commands()}
    for name in ADMIN_COMMANDS:
        assert int(registered[name]["default_member_permissions"]) == MANAGE_GUILD, name
        assert registered[name]["contexts"] == [0], name  # guild only
    await admin_setup(fake, bot, ids)
    before = await snapshot(bot, ids)
    for name, options in admin_invocations(fake, ids):
        with pytest.raises(InvocationRefused, match="default_member_permissions"):
            await fake.invoke(ids.guild, ids.channel, ids.user, name, options)
    assert await snapshot(bot, ids) == before
    assert posts(fake, ids.channel) == []


async def test_manage_server_is_enforced_when_an_admin_overrides_the_default(world) -> None:
    """default_member_permissions is only a default: a server admin can grant a command to
    any role or member in Server Settings → Integrations. The fake has no switch for those
    overrides, so we make the same thing happen by clearing default_member_permissions on
    the fake's registered copy of the commands: Discord then lets a member in whose role
    grants nothing, and the interaction carries that member's real permissions (no
    Manage Server). The cogs' own checks must refuse every subcommand."""
    fake, bot, ids = world
    await admin_setup(fake, bot, ids)
    for command in fake.state.commands[None]:
        if command["name"] in ADMIN_COMMANDS:
            command["default_member_permissions"] = None
    helper_role = fake.add_role(ids.guild, "helpers", 0)
    helper = fake.add_member(ids.guild, "eve")
    fake.state.guilds[ids.guild].members[helper].roles.append(helper_role)
    before = await snapshot(bot, ids)
    for user in (ids.user, helper):
        for name, options in admin_invocations(fake, ids):
            reply = await fake.invoke(ids.guild, ids.channel, user, name, options)
            assert one_ephemeral_line(reply) == MANAGE_SERVER_LINE, (name, reply)
    assert await snapshot(bot, ids) == before
    assert posts(fake, ids.channel) == []
    assert channel_posts_sent(fake, ids.channel) == 0
    # The same override for someone who does have Manage Server changes nothing.
    assert "No digests" not in (await digest(fake, ids, "list")).content


async def test_another_server_cannot_see_or_touch_this_servers_digests(world) -> None:
    fake, bot, ids = world
    await subscribe(fake, ids, topics="computer-vision")
    mine = await bot.storage.channel_subscription(ids.channel)
    b_guild, b_channel, b_admin, _ = await new_guild(fake, bot, "Other")

    async def as_b(name: str, **options):
        return await fake.invoke(b_guild, b_channel, b_admin, name, options)

    listed = await as_b("digest list")
    assert listed.content == "No digests yet. Add one with `/digest subscribe`."
    status = await as_b("status")
    assert str(ids.channel) not in status.content and "No digests in this server" in status.content
    # B's preview of its own channel is B's (unsubscribed) digest, not A's filtered one.
    preview = await as_b("digest preview")
    assert preview.ephemeral and "topics:" not in preview.content

    # On Discord a channel option only offers the server's own channels. Whether the
    # fake refuses A's channel outright or lets it through, nothing of A's may change.
    cross = [
        ("digest now", {"channel": ids.channel}),
        ("digest unsubscribe", {"channel": ids.channel}),
        ("digest preview", {"channel": ids.channel}),
        ("digest subscribe", {"channel": ids.channel, "time": "01:00", "timezone": "UTC"}),
    ]
    for name, options in cross:
        try:
            reply = await as_b(name, **options)
        except (ValueError, InvocationRefused):
            continue
        assert reply.ephemeral and not reply.embeds, (name, reply)
        assert SAMPLE_MARKER not in (reply.content or ""), (name, reply)
    assert await bot.storage.channel_subscription(ids.channel) == mine
    assert await bot.storage.channel_subscriptions(b_guild) == []
    assert posts(fake, ids.channel) == [] and channel_posts_sent(fake, ids.channel) == 0

    # The storage guard under the cogs: deleting needs the owning guild.
    assert await bot.storage.delete_channel_subscription(b_guild, ids.channel) is False
    assert await bot.storage.channel_subscription(ids.channel) == mine
    assert await bot.storage.delete_channel_subscription(ids.guild, ids.channel) is True


async def test_the_fake_refuses_another_servers_channel_as_an_option(world) -> None:
    fake, bot, ids = world
    b_guild, b_channel, b_admin, _ = await new_guild(fake, bot, "Other")
    with pytest.raises((ValueError, InvocationRefused)):
        await fake.invoke(b_guild, b_channel, b_admin, "digest now", {"channel": ids.channel})


# --- the preview's pager --------------------------------------------------------------------


async def test_preview_pager_pages_the_previewed_channels_digest(world) -> None:
    """/digest preview channel:#vision run from #papers: Next must show page 2 of
    #vision's digest (its topics and max), not of whatever #papers would get."""
    fake, bot, ids = world
    vision = await new_channel(fake, bot, ids.guild, "vision")
    await subscribe(fake, ids, channel=vision, topics="computer-vision", max=7)
    expected = await bot.services.delivery.channel_pages(
        ("computer-vision",), 7, ids.guild, SAMPLE_DAY
    )
    assert len(expected) == 2

    preview = await digest(fake, ids, "preview", channel=vision)
    assert preview.content == expected[0]["content"]
    next_id = next(
        c["custom_id"]
        for row in preview.components
        for c in row["components"]
        if c.get("label") == "Next ▶"
    )
    click = await fake.click(preview, ids.admin, next_id)
    assert click.callback_type == 7 and click.message_id == preview.message_id
    assert preview.content == expected[1]["content"]
    assert "page 2/2" in preview.content and "topics: Computer vision" in preview.content
    assert [e["title"] for e in preview.embeds] == [e["title"] for e in expected[1]["embeds"]]
    assert posts(fake, vision) == [] and posts(fake, ids.channel) == []
