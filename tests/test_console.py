"""The offline console, `paperbot run` without a token, and command-sync hashing."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

from bot.cli.console import run_console
from bot.cli.settings import Settings
from bot.discord_app.wiring import make_bot
from bot.fakediscord import FakeDiscord, running_bot
from storage import open_storage
from tests.forked_cli import run_cli

COMMAND_PUT = "PUT /applications/{app_id}/commands"


async def console_output(*lines: str) -> str:
    out = io.StringIO()
    code = await run_console(stdin=io.StringIO("\n".join(lines) + "\n"), out=out)
    assert code == 0
    return out.getvalue()


async def test_console_answers_search_preview_and_topics() -> None:
    text = await console_output(
        "/search query:protein", "/digest preview", "/topics", "next", "/nonsense"
    )
    assert "sample dump: 98 papers" in text
    assert "Long-context Protein Language Model" in text
    assert "Why:** title: protein" in text
    assert "page 1/2" in text  # the preview is the paged digest
    assert "Speech & audio" in text and "speech-audio" in text  # /topics
    assert "! no command /nonsense" in text


async def test_console_keeps_quotes_so_a_phrase_is_searched_as_a_phrase() -> None:
    """What is typed is the value, quotes included, as in Discord's box: `/help`
    tells members to quote a phrase, and the console took the quotes off (a shell's
    split), searching the words instead. The sample's papers hold `model` and
    `language` often, never in that order."""
    text = await console_output(
        "/search query:model language",
        '/search query:"model language"',
        '/search query:"language model" since:3650d',
    )
    assert "for `model language`" in text and "Results 1–5 of" in text
    assert 'No papers found for `"model language"`' in text
    assert 'for `"language model" · since' in text  # an option after it leaves them be


async def test_console_pages_and_opens_a_paper() -> None:
    text = await console_output("/search query:language model", "next", "open 1")
    assert "Results 1–5 of" in text and "Results 6–10 of" in text
    assert text.count("(only you can see this)") >= 1  # the abstract opens ephemerally


async def test_console_channel_options_and_posting() -> None:
    text = await console_output(
        "/digest subscribe channel:#papers time:08:00 timezone:Europe/Berlin",
        "/digest now channel:#papers",
        "/digest now channel:#papers",
        "/digest now channel:#nowhere",
    )
    assert "every day at 08:00 Europe/Berlin" in text
    assert text.count("── posted in #papers ──") == 1  # once per day, however often asked
    assert "already" in text.split("── posted in #papers ──")[1] or "Nothing new" in text
    assert "! no channel #nowhere" in text


async def test_console_presses_any_button_by_its_label() -> None:
    """`/topic remove` of a followed topic asks with Remove / Cancel buttons: the console
    lists them, refuses a label that is not there, and presses one in any case."""
    text = await console_output(
        "/topic add name:Protein stuff keywords:protein*",
        "/follow topic:Protein stuff",
        "/topic remove name:Protein stuff",
        "press Keep",
        "press remove",
        "press Remove",
        "/topics",
    )
    asked, _, after = text.partition("Remove **Protein stuff**?")
    assert "followed by 1 member" in asked
    actions, _, rest = after.partition("! no button “Keep” here; buttons: Remove, Cancel\n")
    assert "→ press Remove · press Cancel" in actions
    assert "Removed the topic **Protein stuff**." in rest
    assert "── DM to you ──" in rest and "Protein stuff** was removed" in rest
    assert "! no button “Remove” here; this reply has no buttons" in rest
    # /topics no longer lists it: the built-ins only.
    topics = rest.rpartition("**Built-in topics**")[2]
    assert "Speech & audio" in topics and "Protein stuff" not in topics
    assert "This server's topics" not in topics


async def test_console_picks_a_menu_option_by_number_or_text() -> None:
    text = await console_output(
        "/search query:protein",
        "pick 7",
        "pick long-context protein language model",  # an option's text, in any case
        "next",  # one page of results: no pager buttons
        "pick 3",  # the results stay pickable after an abstract opened
        "pick crystal transformer",  # the start of a title the menu cut short
    )
    assert "→ pick 1–3 (" in text  # the menu's options, listed under the results
    assert "! no option 7; pick 1–3" in text
    # The opened paper now carries its feedback buttons: those are what `press` offers.
    assert "! no button “next” here; buttons: 👍 Like, 👎 Less like this" in text
    abstracts = text.split("(only you can see this)")[:-1]
    assert len(abstracts) == 3
    # Each abstract is one embed, its title a link: the last title before each marker.
    opened = [re.findall(r"^│ \*\*(.+?)\*\* <http", chunk, re.M)[-1] for chunk in abstracts]
    assert opened[0] == "Long-context Protein Language Model"
    assert opened[1] == opened[2] and opened[1].startswith("Crystal Transformer")


def _run(args: list[str], stdin: str, tmp_path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "PAPERBOT"))}
    environ.update(env)
    return run_cli(args, input=stdin, cwd=tmp_path, env=environ)  # no .env in tmp_path


def test_scripted_console_as_a_subprocess(tmp_path) -> None:
    done = _run(["console"], "/search query:protein\n", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Long-context Protein Language Model" in done.stdout


def test_run_without_a_token_explains_and_falls_back_to_the_console(tmp_path) -> None:
    done = _run(["run"], "/search query:loramoe\n", tmp_path, DISCORD_TOKEN="")
    assert done.returncode == 0, done.stderr
    assert "no DISCORD_TOKEN" in done.stderr and "offline console" in done.stderr
    assert "LoRAMoE" in done.stdout
    assert not (tmp_path / "data").exists()  # the console's database is temporary


async def test_commands_sync_only_when_the_tree_changes(tmp_path) -> None:
    db = tmp_path / "sync.db"

    async def start(fake: FakeDiscord, extensions: tuple[str, ...]) -> None:
        storage = await open_storage(db)
        bot = make_bot(
            settings=Settings(token="x", db=str(db)),
            storage=storage,
            extensions=extensions,
            start_scheduler=False,
        )
        try:
            async with running_bot(fake, bot):
                pass
        finally:
            await storage.close()

    async with FakeDiscord() as fake:
        await start(fake, ("cogs.search",))
        assert len(fake.requests_matching(COMMAND_PUT)) == 1
        await start(fake, ("cogs.search",))  # a restart: same tree, no sync
        assert len(fake.requests_matching(COMMAND_PUT)) == 1
        await start(fake, ("cogs.search", "cogs.operate"))  # new commands: sync
        puts = fake.requests_matching(COMMAND_PUT)
        assert len(puts) == 2
        assert {"search", "help", "status"} <= {c["name"] for c in puts[-1].json}


async def test_paperbot_sync_forces_a_sync_against_the_configured_discord(tmp_path) -> None:
    import asyncio

    async with FakeDiscord(token="sync-token") as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "PAPERBOT"))}
        env.update(
            DISCORD_TOKEN="sync-token",
            DISCORD_API_BASE=fake.api_base,
            DISCORD_GATEWAY_URL=fake.gateway_url,
            PAPERBOT_DB=str(tmp_path / "s.db"),
        )
        for expected_puts in (1, 2):  # forced: a second run syncs again, unchanged or not
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "sync",
                env=env,
                cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0, err.decode()
            assert "slash commands synced" in out.decode()
            puts = fake.requests_matching(COMMAND_PUT)
            assert len(puts) == expected_puts
        names = {c["name"] for c in puts[-1].json}
        assert {"search", "paper", "topics", "digest", "follow", "topic", "ingest"} <= names


async def test_console_shows_threads_under_their_channel() -> None:
    text = await console_output(
        "threads",
        "/digest subscribe channel:#papers time:08:00 timezone:Europe/Berlin thread:digest max:2",
        "/digest now channel:#papers",
        "/discuss paper:protein",
        "threads",
    )
    assert "No threads yet." in text
    assert "a thread per digest" in text
    listed = text.rsplit("No threads yet.", 1)[1]
    assert "#papers › paperbot daily digest · Sat 14 Mar 2026 (open, auto-archive after" in listed
    assert "#general › Long-context Protein Language Model" in listed
    assert "Started the discussion of" in text


async def test_console_rates_a_paper_from_a_posted_digests_menu() -> None:
    """A posted digest lists its paper menu; `pick` opens a paper with its buttons,
    `press` rates it, and `pick` goes back to the digest's menu afterwards."""
    text = await console_output(
        "/digest subscribe channel:#papers time:08:00 timezone:UTC",
        "/digest now channel:#papers",
        "pick 2",
        "press 👍 like",
        "pick 1",
        "press 🔖 save",
    )
    posted = text.partition("── posted in #papers ──")[2]
    assert "→ press Next ▶ · pick 1–5 (Open a paper to rate" in posted
    assert "You like *" in posted and "Now: 👍 liked." in posted
    assert "! no menu to pick from here" not in posted
    assert "🔖 Saved *" in posted


async def test_console_mistyped_commands_are_one_plain_line() -> None:
    """An option without its colon, an unknown option or subcommand, or a missing
    subcommand: one line saying what to type, the command's own names listed plainly
    (never a Python list, never "no subcommand 'query' in ['query', …]")."""
    text = await console_output(
        "/search query protein",
        "/search limit:5",
        "/digest subscribe channel",
        "/digest nosuch",
        "/digest",
        "/topics x:1",
        "/search query:protein",  # and the console still answers after them
    )
    errors = [line for line in text.splitlines() if line.startswith("! ")]
    # The names listed are the commands' own (other options may be added later).
    expected = [
        "! give query a value: /search query:VALUE",
        "! /search has no option limit; try: query, topic, since, source, author",
        "! give channel a value: /digest subscribe channel:VALUE",
        "! /digest has no subcommand nosuch; try: subscribe, unsubscribe, list, preview, now",
        "! /digest needs a subcommand; try: subscribe, unsubscribe, list, preview, now",
        "! /topics has no option x; it takes none",
    ]
    assert len(errors) == len(expected), errors
    for line, start in zip(errors, expected, strict=True):
        assert line.startswith(start), line
        assert not any(c in line for c in "[]'"), line
    assert "Long-context Protein Language Model" in text
