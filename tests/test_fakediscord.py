"""The loopback fake Discord, exercised with the *real* discord.py client."""

from __future__ import annotations

import asyncio
import contextlib
import io
import selectors
import socket
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.fakediscord import (
    MANAGE_GUILD,
    FakeDiscord,
    InvocationRefused,
    ValidatorUnavailable,
    render_message_text,
    running_bot,
)


class CounterView(discord.ui.View):
    """A button whose callback edits the message it sits on."""

    def __init__(self) -> None:
        super().__init__(timeout=None)
        self.count = 0

    @discord.ui.button(label="+1", custom_id="counter:inc")
    async def inc(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.count += 1
        await interaction.response.edit_message(content=f"count {self.count}", view=self)

    @discord.ui.select(
        custom_id="counter:pick",
        options=[discord.SelectOption(label=f"Set {n}", value=str(n)) for n in (5, 10)],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        self.count = int(select.values[0])
        await interaction.response.edit_message(content=f"count {self.count}", view=self)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    """A modal whose submit answers with an uploaded file."""

    text = discord.ui.TextInput(label="Your feedback", custom_id="feedback:text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        receipt = discord.File(io.BytesIO(b"receipt"), "receipt.txt")
        await interaction.response.send_message(f"thanks: {self.text.value}", file=receipt)


class ProbeBot(commands.Bot):
    """Tiny bot covering every interaction shape the fake must support."""

    def __init__(self, **options: Any) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default(), **options)
        self.outcomes: list[str] = []

    async def setup_hook(self) -> None:
        tree = self.tree

        async def topics(_: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            names = ["speech", "spectroscopy", "vision", "language"]
            return [app_commands.Choice(name=n, value=n) for n in names if n.startswith(current)]

        @tree.command(description="Search papers")
        @app_commands.autocomplete(topic=topics)
        async def search(interaction: discord.Interaction, query: str, topic: str = "any") -> None:
            await interaction.response.send_message(f"searching {query!r} in {topic}")

        digest = app_commands.Group(
            name="digest",
            description="Digest settings",
            default_permissions=discord.Permissions(manage_guild=True),
        )

        @digest.command(description="Subscribe a channel")
        async def subscribe(
            interaction: discord.Interaction, channel: discord.TextChannel, time: str
        ) -> None:
            await interaction.response.send_message(
                f"subscribed {channel.mention} at {time}", ephemeral=True
            )

        tree.add_command(digest)

        @tree.command(description="A counter with a button")
        async def counter(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("count 0", view=CounterView())

        @tree.command(description="Defer, then follow up")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await asyncio.sleep(0.05)  # the work a defer is for: real time passing
            await interaction.followup.send("done thinking")
            await interaction.followup.send("and one more")

        @tree.command(description="Answer, edit the answer, then delete it")
        async def temp(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("temporary")
            original = await interaction.original_response()
            await original.edit(content="edited")
            await interaction.delete_original_response()

        @tree.command(description="Post to a channel")
        async def announce(
            interaction: discord.Interaction, channel: discord.TextChannel, text: str
        ) -> None:
            target = self.get_channel(channel.id)
            assert isinstance(target, discord.TextChannel)
            try:
                msg = await target.send(text)
            except discord.Forbidden as exc:
                self.outcomes.append(f"forbidden {exc.code}")
                await interaction.response.send_message(f"forbidden {exc.code}", ephemeral=True)
            else:
                self.outcomes.append(f"sent {msg.id}")
                await interaction.response.send_message("sent", ephemeral=True)

        @tree.command(description="DM someone")
        async def poke(interaction: discord.Interaction, user: discord.User) -> None:
            await interaction.response.defer(ephemeral=True)
            try:
                await user.send("poke!")
            except discord.Forbidden as exc:
                await interaction.edit_original_response(content=f"forbidden {exc.code}")
            else:
                await interaction.edit_original_response(content="poked")

        @tree.command(description="Leave feedback")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(FeedbackModal())

        @tree.command(description="Read an upload")
        async def upload(interaction: discord.Interaction, file: discord.Attachment) -> None:
            data = await file.read()
            await interaction.response.send_message(f"{file.filename}: {data.decode()}")

        await tree.sync()


@contextlib.asynccontextmanager
async def world(**fake_options: Any) -> AsyncIterator[tuple[FakeDiscord, ProbeBot, dict[str, int]]]:
    """A fake with one guild, two channels, an admin and a plain member, plus a running bot."""
    async with FakeDiscord(heartbeat_interval_ms=500, **fake_options) as fake:
        ids = {"guild": fake.add_guild("Lab")}
        ids["papers"] = fake.add_channel(ids["guild"], "papers")
        ids["other"] = fake.add_channel(ids["guild"], "other")
        ids["admin"] = fake.add_member(ids["guild"], "alice", permissions=MANAGE_GUILD)
        ids["member"] = fake.add_member(ids["guild"], "bob")
        bot = ProbeBot()
        async with running_bot(fake, bot):
            await fake.wait_for_ready()
            yield fake, bot, ids


async def test_slash_command_autocomplete_and_group() -> None:
    async with world() as (fake, _, ids):
        g, chan, alice = ids["guild"], ids["papers"], ids["admin"]
        names = {c["name"] for c in fake.registered_commands()}
        assert {"search", "digest", "counter", "slow"} <= names

        reply = await fake.invoke(g, chan, alice, "search", {"query": "asr", "topic": "speech"})
        assert reply.kind == "message"
        assert reply.content == "searching 'asr' in speech"
        assert not reply.ephemeral
        assert reply.message_id in {int(m["id"]) for m in fake.channel_messages(chan)}

        choices = await fake.autocomplete(
            g, chan, alice, "search", {"query": "x", "topic": "spe"}, focused="topic"
        )
        assert [c["value"] for c in choices] == ["speech", "spectroscopy"]

        reply = await fake.invoke(
            g, chan, alice, "digest subscribe", {"channel": ids["other"], "time": "08:00"}
        )
        assert reply.content == f"subscribed <#{ids['other']}> at 08:00"
        assert reply.ephemeral
        # Ephemeral responses are not part of the channel's visible history.
        assert reply.message_id not in {int(m["id"]) for m in fake.channel_messages(chan)}

        with pytest.raises(InvocationRefused):  # the group's manage_guild default hides it
            await fake.invoke(
                g, chan, ids["member"], "digest subscribe", {"channel": chan, "time": "9"}
            )
        with pytest.raises(LookupError):
            await fake.invoke(g, chan, alice, "nope")
        with pytest.raises(ValueError, match="missing required"):
            await fake.invoke(g, chan, alice, "search", {"topic": "x"})

        callbacks = fake.requests_matching("POST /interactions/{id}/{token}/callback")
        assert [r.json["type"] for r in callbacks] == [4, 8, 4]
        assert all(r.status == 200 and r.query.get("with_response") for r in callbacks)


async def test_button_and_select_edit_the_original_message() -> None:
    async with world() as (fake, _, ids):
        g, chan, bob = ids["guild"], ids["papers"], ids["member"]
        reply = await fake.invoke(g, chan, bob, "counter")
        assert "[+1]" in render_message_text(reply)

        click = await fake.click(reply, bob, "counter:inc")
        assert click.kind == "update"
        assert click.content == "count 1"
        await fake.click(reply.message, bob, "counter:inc")
        assert reply.content == "count 2"  # the original reply shows the latest state

        picked = await fake.select(reply, bob, "counter:pick", ["10"])
        assert picked.content == reply.content == "count 10"
        with pytest.raises(ValueError):
            await fake.select(reply, bob, "counter:pick", ["7"])
        with pytest.raises(LookupError):
            await fake.click(reply, bob, "missing")


async def test_defer_then_followups_and_channel_send() -> None:
    async with world() as (fake, bot, ids):
        g, chan, other, alice = ids["guild"], ids["papers"], ids["other"], ids["admin"]
        reply = await fake.invoke(g, chan, alice, "slow")
        assert reply.kind == "deferred"
        await reply.wait_for_followups(1)
        # The first followup after a 'thinking' defer replaces the loading message.
        assert reply.content == "done thinking" and not reply.loading
        assert [m["content"] for m in reply.followups] == ["and one more"]

        temp = await fake.invoke(g, chan, alice, "temp")
        await temp.wait_for(lambda r: r.deleted)
        assert temp.content == "edited"
        assert [
            r.route.split()[0]
            for r in fake.requests_matching("GET /webhooks/{}/{}/messages/@original")
        ] == ["GET"]

        sent = await fake.invoke(g, chan, alice, "announce", {"channel": other, "text": "hello"})
        assert sent.content == "sent"
        posted = fake.channel_messages(other)
        assert [m["content"] for m in posted] == ["hello"]
        assert posted[0]["author"]["id"] == str(fake.bot_user_id)
        history = [m async for m in bot.get_channel(other).history(limit=10)]  # GET messages
        assert [m.content for m in history] == ["hello"]
        assert fake.requests_matching("POST /channels/{channel_id}/messages", channel_id=other)


async def test_gateway_drop_resumes_and_commands_still_work() -> None:
    async with world() as (fake, bot, ids):
        resumed = asyncio.Event()

        async def on_resumed() -> None:
            resumed.set()

        bot.add_listener(on_resumed)
        await fake.drop_gateway(code=4000)
        await asyncio.wait_for(resumed.wait(), 10)
        events = [e["event"] for e in fake.gateway_log]
        assert "resume" in events and fake.stats["identify"] == 1
        resume = next(e for e in fake.gateway_log if e["event"] == "resume")
        assert resume["ok"]
        reply = await fake.invoke(
            ids["guild"], ids["papers"], ids["admin"], "search", {"query": "q"}
        )
        assert reply.content == "searching 'q' in any"

        # A non-resumable INVALID_SESSION makes the client IDENTIFY again.
        await fake.invalidate_sessions(resumable=False)
        await fake.gateway.changed.wait_for(lambda: fake.stats["identify"] == 2, 10, "re-identify")
        await fake.wait_for_ready()
        reply = await fake.invoke(
            ids["guild"], ids["papers"], ids["admin"], "search", {"query": "r"}
        )
        assert reply.content == "searching 'r' in any"

        # Periodic drops: every drop is resumed and nothing breaks.
        fake.drop_gateway_every(0.15)
        await fake.gateway.changed.wait_for(
            lambda: fake.stats["gateway_drops"] >= 2, 10, "two periodic drops"
        )
        fake.drop_gateway_every(None)
        assert fake.stats["gateway_drops"] >= 2
        await fake.wait_for_ready()
        reply = await fake.invoke(
            ids["guild"], ids["papers"], ids["admin"], "search", {"query": "s"}
        )
        assert reply.content == "searching 's' in any"


async def test_missed_dispatches_are_replayed_on_resume() -> None:
    async with world() as (fake, bot, ids):
        await fake.drop_gateway(code=1001)
        # Created while the bot is disconnected: delivered by the RESUME replay.
        new_channel = fake.add_channel(ids["guild"], "late")
        # Registered before the loop runs again, so the replayed event cannot slip past.
        created = bot.wait_for("guild_channel_create", check=lambda c: c.id == new_channel)
        await asyncio.wait_for(created, 10)
        assert bot.get_channel(new_channel) is not None
        assert any(e.get("replayed") for e in fake.gateway_log if e["event"] == "resume")


async def test_rate_limits_are_retried_and_deliver_once() -> None:
    async with world(seed=3) as (fake, bot, ids):
        route = "POST /channels/{channel_id}/messages"
        fake.faults.inject_next(route, status=429, count=2)
        channel = bot.get_channel(ids["papers"])
        await channel.send("once")
        fake.faults.configure(rate_limit_fraction=0.4, routes={route})
        for n in range(5):
            await channel.send(f"msg {n}")
        contents = [m["content"] for m in fake.channel_messages(ids["papers"])]
        assert contents == ["once"] + [f"msg {n}" for n in range(5)]
        assert fake.stats["429"] >= 3
        limited = [r for r in fake.requests_matching(route) if r.status == 429]
        assert len(limited) == fake.stats["429"]


async def test_realistic_rate_limits() -> None:
    async with world() as (fake, bot, ids):
        fake.faults.enable_rate_limits(global_per_second=3, bucket_limit=2, bucket_window=0.2)
        papers, other = bot.get_channel(ids["papers"]), bot.get_channel(ids["other"])
        sends = [ch.send(f"burst {n}") for n in range(3) for ch in (papers, other)]
        await asyncio.gather(*sends)
        assert len(fake.channel_messages(ids["papers"])) == 3
        assert len(fake.channel_messages(ids["other"])) == 3
        posts = fake.requests_matching("POST /channels/{}/messages")
        assert all("X-RateLimit-Remaining" in r.response_headers for r in posts if r.status == 200)
        # discord.py pre-empts bucket limits from the headers but not the global one.
        assert fake.stats["rate_limited_global"] >= 1
        assert fake.stats["resume"] == 0 and bot.latency < 1  # heartbeats were ACKed


async def test_channel_forbidden_and_dm_refusal() -> None:
    async with world() as (fake, bot, ids):
        g, chan, alice, bob = ids["guild"], ids["papers"], ids["admin"], ids["member"]
        fake.fail_channel(ids["other"], status=403)
        reply = await fake.invoke(
            g, chan, alice, "announce", {"channel": ids["other"], "text": "x"}
        )
        assert reply.content == "forbidden 50001"
        assert bot.outcomes == ["forbidden 50001"]

        reply = await fake.invoke(g, chan, alice, "poke", {"user": bob})
        assert reply.content == "poked" and reply.ephemeral
        assert [m["content"] for m in fake.dm_messages(bob)] == ["poke!"]

        fake.refuse_dms(alice)
        reply = await fake.invoke(g, chan, bob, "poke", {"user": alice})
        assert reply.content == "forbidden 50007"
        assert fake.dm_messages(alice) == []


async def test_dm_invocation_attachment_and_validation_hook() -> None:
    async with world() as (fake, _, ids):
        fake.validator = lambda payload: (
            ["too long"] if len(payload.get("content") or "") > 20 else []
        )
        reply = await fake.invoke_dm(ids["member"], "search", {"query": "dm"})
        assert reply.content == "searching 'dm' in any"
        assert reply.record.payload["context"] == 1 and "user" in reply.record.payload

        att = fake.add_attachment("notes.txt", b"hello file")
        reply = await fake.invoke(
            ids["guild"], ids["papers"], ids["admin"], "upload", {"file": att}
        )
        assert reply.content == "notes.txt: hello file"
        assert fake.requests_matching("GET /attachments/{}/{}/{}")[0].status == 200

        reply = await fake.invoke(
            ids["guild"], ids["papers"], ids["admin"], "search", {"query": "a long query here"}
        )
        assert reply.problems == ["too long"]
        assert fake.payload_problems[-1] == (
            "POST /interactions/{interaction_id}/{token}/callback",
            ["too long"],
        )


async def test_modal_upload_server_error_and_deleted_channel() -> None:
    async with world() as (fake, bot, ids):
        g, chan, bob = ids["guild"], ids["papers"], ids["member"]
        opened = await fake.invoke(g, chan, bob, "feedback")
        assert opened.kind == "modal" and opened.modal["title"] == "Feedback"
        done = await fake.submit_modal(opened, bob, {"feedback:text": "great"})
        assert done.content == "thanks: great"
        [receipt] = done.attachments
        assert receipt["filename"] == "receipt.txt" and receipt["content_type"] == "text/plain"
        callback = fake.requests_matching("POST /interactions/{}/{}/callback")[-1]
        assert callback.files == [("receipt.txt", 7)]  # multipart: payload_json + files[0]

        fake.faults.inject_next("POST /channels/{channel_id}/messages", status=500)
        await bot.get_channel(chan).send("after a 500")  # discord.py retries after ~1 s
        assert [
            m["content"] for m in fake.channel_messages(chan, include_interaction_responses=False)
        ] == ["after a 500"]
        assert fake.stats["server_error"] == 1

        fake.delete_channel(ids["other"])
        with pytest.raises(discord.NotFound) as excinfo:
            await bot.get_partial_messageable(ids["other"]).send("gone")
        assert excinfo.value.code == 10003


async def test_unknown_route_and_render() -> None:
    async with world() as (fake, bot, _):
        with pytest.raises(discord.NotFound):
            await bot.http.request(discord.http.Route("GET", "/nothing/here"))
        assert fake.requests[-1].route == "GET UNKNOWN" and fake.requests[-1].status == 404
    text = render_message_text(
        {
            "content": "Today",
            "embeds": [
                {
                    "title": "Paper",
                    "url": "https://example.org/p",
                    "description": "Abstract",
                    "fields": [{"name": "Authors", "value": "A, B"}],
                    "footer": {"text": "page 1/2"},
                }
            ],
            "components": [
                {"type": 1, "components": [{"type": 2, "label": "Next", "custom_id": "n"}]},
                {
                    "type": 1,
                    "components": [
                        {"type": 3, "custom_id": "s", "options": [{"label": "A", "value": "a"}]}
                    ],
                },
            ],
        }
    )
    for part in ("Today", "**Paper** <https://example.org/p>", "Authors:", "— page 1/2", "[Next]"):
        assert part in text
    assert "- A = a" in text


async def test_sharded_identify_receives_only_its_guilds() -> None:
    async with FakeDiscord() as fake:
        guilds = [fake.add_guild(f"g{n}") for n in range(4)]
        mine = {g for g in guilds if (g >> 22) % 2 == 1}
        assert mine and mine != set(guilds)
        client = discord.Client(intents=discord.Intents.default(), shard_id=1, shard_count=2)
        async with running_bot(fake, client):
            assert {g.id for g in client.guilds} == mine
        identify = next(e for e in fake.gateway_log if e["event"] == "identify")
        assert identify["shard"] == (1, 2)


async def test_enforced_nonce_returns_the_first_message() -> None:
    """discord.py sends `enforce_nonce` with every nonce; like Discord, the fake then
    answers a repeat (same channel, author and nonce) with the message it already made."""
    async with world() as (fake, bot, ids):
        channel = bot.get_channel(ids["other"])
        first = await channel.send("hello", nonce="pb-same")
        again = await channel.send("hello", nonce="pb-same")
        other = await channel.send("hello", nonce="pb-other")
        plain = await channel.send("hello")
        assert again.id == first.id
        assert len({first.id, other.id, plain.id}) == 3
        assert [m["content"] for m in fake.channel_messages(ids["other"])] == ["hello"] * 3
        assert fake.stats["nonce_duplicates"] == 1


@pytest.mark.parametrize("breakage", ["module missing", "function missing"])
def test_a_fake_that_cannot_load_the_limits_refuses_to_start(monkeypatch, breakage) -> None:
    """Without the limits every payload would pass unchecked, and every test with it."""
    import bot.core.limits

    if breakage == "module missing":
        monkeypatch.setitem(sys.modules, "bot.core.limits", None)  # the import now fails
    else:
        monkeypatch.delattr(bot.core.limits, "message_problems")
    with pytest.raises(ValidatorUnavailable, match=r"cannot check message payloads"):
        FakeDiscord()


async def test_a_fake_checks_payloads_against_the_limits_by_default() -> None:
    async with world() as (fake, bot, ids):
        await bot.get_channel(ids["other"]).send("x" * 2001)  # the fake accepts, but notes it
        [(route, problems)] = fake.payload_problems
        assert route == "POST /channels/{channel_id}/messages"
        assert any("2001" in p for p in problems), problems


async def test_wait_for_request_returns_once_the_bot_made_it() -> None:
    async with world() as (fake, bot, ids):
        route = "POST /channels/{channel_id}/messages"
        fake.faults.delay_request(route, seconds=0.3)  # arrives now, answered later
        send = asyncio.create_task(bot.get_channel(ids["other"]).send("slow"))
        [arrived] = await fake.wait_for_request(route, channel_id=ids["other"])
        assert arrived.status == 0 and not send.done()
        [answered] = await fake.wait_for_request(route, answered=True)
        assert answered is arrived and answered.status == 200
        await send
        with pytest.raises(TimeoutError, match="2 request"):
            await fake.wait_for_request(route, count=2, timeout=0.2)
        landed = await fake.wait_for_request(route, lambda r: r.json["content"] == "slow")
        assert len(landed) == 1


async def test_interaction_routes_are_outside_the_global_rate_limit() -> None:
    # Discord keeps interaction callbacks and the interaction webhook (follow-ups and
    # edits of the answer) out of the bot's global 50/s: a fan-out holding that limit
    # must not turn a burst of final replies into 429s.
    async with world() as (fake, bot, ids):
        fake.faults.enable_rate_limits(global_per_second=50, bucket_limit=5, bucket_window=1.0)
        targets = [fake.add_channel(ids["guild"], f"fan-{n}") for n in range(16)]
        await asyncio.sleep(0.2)  # the CHANNEL_CREATE events reach the bot's cache

        async def fan_out(channel_id: int) -> None:
            channel = bot.get_channel(channel_id)
            assert isinstance(channel, discord.TextChannel)
            for n in range(15):
                await channel.send(f"post {n}")

        fanning = asyncio.gather(*(fan_out(c) for c in targets))
        await fake.wait_for_request("POST /channels/{}/messages", count=60, timeout=10)
        replies = await asyncio.gather(
            *(
                fake.invoke(ids["guild"], ids["papers"], ids["member"], "slow", timeout=15)
                for _ in range(300)
            )
        )
        await fanning
        assert fake.stats["rate_limited_global"] >= 1  # the fan-out did hold the limit
        interaction_routes = [
            r for r in fake.requests if r.path.startswith(("/interactions/", "/webhooks/"))
        ]
        assert len(interaction_routes) >= 900  # a defer and two follow-ups each
        assert [r.route for r in interaction_routes if r.status == 429] == []
        assert all(r.resolved for r in replies)
        assert fake.stats["expired_interactions"] == 0


def _connect_all(port: int, count: int, wait: float) -> int:
    """Open ``count`` TCP connections at once without letting the event loop run (so
    none is accepted yet); how many the kernel completed within ``wait`` seconds."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
        connected = 0
        with selectors.DefaultSelector() as waiting:  # epoll: no FD_SETSIZE ceiling
            for s in socks:
                waiting.register(s, selectors.EVENT_WRITE)
            deadline = time.monotonic() + wait
            while waiting.get_map() and time.monotonic() < deadline:
                for key, _ in waiting.select(0.05):
                    waiting.unregister(key.fileobj)
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    connected += not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        return connected
    finally:
        for s in socks:
            s.close()


async def test_a_burst_of_connections_is_not_dropped() -> None:
    # A burst of pending defers opens hundreds of connections before the fake's loop
    # accepts any; a short listen backlog would drop them (clients retry seconds later).
    async with FakeDiscord() as fake:
        assert _connect_all(fake.port, 600, wait=1.0) == 600
