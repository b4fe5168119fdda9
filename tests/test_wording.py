"""Plain English in every reply: the right plural ("1 paper"), "today" only for today,
names rather than internal keys, and anything a user typed escaped before it is echoed.
Driven through the real bot against the fake Discord and the CLI as a subprocess."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest

from bot.core.markdown import escape_markdown
from bot.core.wording import (
    count_text,
    format_day,
    plural,
    results_header,
    total_text,
    widened_text,
)
from cogs.operate import HELP, fit_lines
from tests.conftest import SAMPLE_DUMP
from tests.discord_harness import bot_against_fake, mention_leaks, settle
from tests.forked_cli import run_cli

ALL_COGS = ("cogs.search", "cogs.digest", "cogs.follow", "cogs.topic_admin", "cogs.operate")


def test_counts_and_days_in_words() -> None:
    assert [plural(n, "paper") for n in (0, 1, 2, 6490)] == [
        "0 papers",
        "1 paper",
        "2 papers",
        "6,490 papers",
    ]
    assert plural(1, "match") == "1 match" and plural(3, "match") == "3 matches"
    assert plural(2, "entry") == "2 entries" and plural(2, "day") == "2 days"
    assert plural(1, "paper matches") == "1 paper matches"
    assert plural(2, "paper matches") == "2 papers match"
    assert count_text(1234567) == "1,234,567"
    assert (total_text(1000, exact=False), total_text(999)) == ("1,000+", "999")
    assert format_day(dt.date(2026, 3, 14)) == "Sat 14 Mar 2026"
    assert results_header(1, 10, 6490, True, "model") == 'Results 1–10 of 6,490 for "model"'
    # A widened search says how many results hold every word, in the right number.
    assert [widened_text(n) for n in (0, 1, 3)] == [
        "no paper holds every word; these hold some of them",
        "1 holds every word, then papers with some of them",
        "3 hold every word, then papers with some of them",
    ]


def test_our_lines_quoting_untrusted_text_keep_their_parentheses() -> None:
    line = "a_b.txt (feed); '[click](http://e.example) **x** _y_ __z__ America/New_York'"
    assert escape_markdown(line, minimal=True) == (
        "a_b.txt (feed); '\\[click\\](http://e.example) \\*\\*x\\*\\* \\_y\\_ "
        "\\_\\_z\\_\\_ America/New_York'"
    )


def test_left_out_notes_count_in_words() -> None:
    head, tail = ["Status"], ["x" * 900, "y" * 900, "z" * 900]
    assert fit_lines(head, tail, "more digest", after="(`/digest list`)").endswith(
        "…and 1 more digest (`/digest list`)"
    )
    assert fit_lines(head, tail, "more digest", limit=1000).endswith("…and 2 more digests")


def test_help_lists_pause_and_resume_and_says_today_only_of_today() -> None:
    assert "`/digest pause` · `/digest resume`" in HELP
    assert "today" not in HELP  # "/topics — today's counts" meant the newest day's


@pytest.fixture
async def world(tmp_path):
    async with bot_against_fake(tmp_path, extensions=ALL_COGS) as running:
        fake, _, _ = running
        yield running
        await settle()
        assert fake.payload_problems == [] and mention_leaks(fake) == []


async def run(fake, ids, command, user, **options):
    return await fake.invoke(ids.guild, ids.channel, user, command, options)


async def test_one_of_a_thing_is_singular(world) -> None:
    fake, _, ids = world
    sub = await run(
        fake,
        ids,
        "digest subscribe",
        ids.admin,
        channel=ids.channel,
        time="8:00",
        timezone="UTC",
        max=1,
    )
    assert f"<#{ids.channel}> gets up to 1 paper (all topics)" in sub.content
    # "cherokee" is in one sample paper.
    added = await run(fake, ids, "topic add", ids.admin, name="Cherokee", keywords="cherokee")
    assert "added: 1 paper matches so far." in added.content
    # A dump with one title missing its abstract: one warning.
    dump = (
        b"Mar 15\n\nA Paper On Sparse Codes\n\nWe study sparse codes. They help a lot.\n\n"
        b"A Title Without Its Abstract\n"
    )
    upload = fake.add_attachment("one-warning.txt", dump)
    report = await run(fake, ids, "ingest", ids.admin, file=upload)
    assert "2 papers — 2 new" in report.content
    status = await run(fake, ids, "status", ids.user)
    assert status.content.splitlines()[1].endswith("2 parsed, 2 new, 0 merged, 1 warning")


async def test_text_people_typed_is_escaped_when_echoed(world) -> None:
    fake, _, ids = world
    bad_time = await run(
        fake, ids, "digest subscribe", ids.admin, channel=ids.channel, time="**8**", timezone="UTC"
    )
    assert bad_time.ephemeral and bad_time.content.startswith("'\\*\\*8\\*\\*' is not a time")
    builtin = await run(fake, ids, "topic add", ids.admin, name="__LLM__", keywords="llm")
    assert builtin.content == "`__LLM__` is a built-in topic already; pick another name."
    added = await run(fake, ids, "topic add", ids.admin, name="*Matrix* methods", keywords="matrix")
    assert "Topic **\\*Matrix\\* methods** (`matrix-methods`) added" in added.content
    removed = await run(fake, ids, "topic remove", ids.admin, name="matrix-methods")
    assert removed.content == "Removed the topic **\\*Matrix\\* methods**."
    followed = await run(fake, ids, "follow", ids.user, keyword="a_b_c")
    assert "Following keyword “a\\_b\\_c”." in followed.content
    listed = await run(fake, ids, "following", ids.user)
    assert "• keyword “a\\_b\\_c”" in listed.content.splitlines()
    # Dump text quoted in an /ingest warning is the dump's, not ours: escaped too.
    dump = b"Mar 15\n\nA Real Paper\n\nWe study things. They work.\n\n**Loud** Orphan Title\n"
    report = await run(fake, ids, "ingest", ids.admin, file=fake.add_attachment("loud.txt", dump))
    assert "no abstract for '\\*\\*Loud\\*\\* Orphan Title'" in report.content


async def test_status_names_commands_that_failed_to_load_not_modules(world) -> None:
    fake, bot, ids = world
    bot.failed_extensions["cogs.follow"] = "boom"  # what setup_hook records on a failure
    status = await run(fake, ids, "status", ids.user)
    assert (
        "⚠️ These commands failed to load: /follow, /unfollow, /following, /delivery"
        in status.content.splitlines()
    )
    assert "cogs." not in status.content


def paperbot(*argv: str) -> subprocess.CompletedProcess:
    return run_cli(argv)


def test_cli_counts_are_singular_when_one(tmp_path) -> None:
    db = str(tmp_path / "cli.db")
    assert paperbot("ingest", str(SAMPLE_DUMP), "--db", db, "--date", "2026-03-14").returncode == 0
    folder = tmp_path / "dumps"
    folder.mkdir()
    shutil.copy(SAMPLE_DUMP, folder / "2026-03-14.txt")
    (folder / "2026-03-15.txt").write_text(
        "Mar 15\n\nA Paper On Sparse Codes\n\nWe study sparse codes. They help.\n"
    )
    done = paperbot("ingest", str(folder), "--db", db, "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "total: 2 dumps, 1 new paper, 0 merged, 0 failed"
    titles_only = tmp_path / "titles.txt"
    titles_only.write_text("Just One Title Line\n")
    refused = paperbot("ingest", str(titles_only), "--db", db)
    assert refused.returncode == 1
    assert "1 title-like line but no abstracts" in refused.stderr
    stats = paperbot("stats", "--db", db).stdout
    assert "Large language models 70" in stats and "llm" not in stats
