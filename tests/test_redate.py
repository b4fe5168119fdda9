"""Re-ingesting a stored dump says the day it is stored under; `--redate` moves it to
another day in one transaction (both backends), and a failed move changes nothing."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess

import asyncpg
import pytest

from bot.core.ingest import ingest_bytes
from bot.core.query import parse_query
from tests.conftest import SAMPLE_DUMP, TODAY, assert_index_matches
from tests.discord_harness import bot_against_fake
from tests.forked_cli import run_cli
from tests.test_ingest import FAULT_DAY, set_fault, snapshot

STORED = dt.date(2026, 3, 14)
MOVED = dt.date(2026, 3, 20)


async def days_of(store) -> dict[int, tuple[dt.date, ...]]:
    papers = await store.get_papers([pid for pid, _ in await store.all_titles()])
    return {p.id: p.days for p in papers}


async def test_redate_moves_a_stored_dump_and_nothing_else(backend_storage, sample_bytes) -> None:
    store = backend_storage
    # An earlier fetch of the same day listed three of the sample's papers: their
    # appearance on that day is recorded for it, and stays when the sample moves.
    head = sample_bytes.split(b"\n\n")
    early = b"\n\n".join([b"Mar 14", *head[5:11]]) + b"\n"
    other = await ingest_bytes(store, early, "early.txt", cli_date=STORED, today=TODAY)
    assert other.new == 3
    first = await ingest_bytes(store, sample_bytes, "sample.txt", cli_date=STORED, today=TODAY)
    assert (first.new, first.known) == (95, 3)

    again = await ingest_bytes(store, sample_bytes, "copy.txt", cli_date=MOVED, today=TODAY)
    assert again.already_ingested and (again.day, again.wanted_day) == (STORED, MOVED)
    assert (await store.days(5)) == [STORED]  # without --redate nothing moved

    moved = await ingest_bytes(
        store, sample_bytes, "copy.txt", cli_date=MOVED, today=TODAY, redate=True
    )
    assert (moved.redated_from, moved.day, moved.moved) == (STORED, MOVED, 98)
    assert await store.days(5) == [MOVED, STORED]
    assert len(await store.papers_on_day(MOVED)) == 98
    # Only the three papers the earlier dump lists are still on the old day.
    left = await store.papers_on_day(STORED)
    assert len(left) == 3
    shared = {p.id for p in left}
    for pid, days in (await days_of(store)).items():
        assert days == ((STORED, MOVED) if pid in shared else (MOVED,)), pid
    papers = await store.get_papers(sorted(shared))
    assert all((p.first_seen, p.last_seen) == (STORED, MOVED) for p in papers)
    # Positions on the new day are the dump's own.
    on_new_day = await store.papers_on_day(MOVED)
    assert [p.position for p in on_new_day] == list(range(1, 99))
    # /status reads the stored report: it follows the dump to its new day.
    [last] = [r for r in await store.last_ingests(5) if r["source"] == "sample.txt"]
    assert (last["day"], last["day_source"]) == (MOVED.isoformat(), "--date")
    # The search index filters on each paper's last day: `since` finds them there.
    await assert_index_matches(store)
    since_new = await store.text_search(
        parse_query("model"), match_all=True, topic=None, since=MOVED, limit=500
    )
    assert len(since_new) > 50

    # Re-dating to the day it already has is a no-op that says so.
    same = await ingest_bytes(
        store, sample_bytes, "x.txt", cli_date=MOVED, today=TODAY, redate=True
    )
    assert same.already_ingested and same.redated_from is None and same.wanted_day is None


async def test_a_failed_redate_changes_nothing(backend_storage, sample_bytes) -> None:
    store = backend_storage
    await ingest_bytes(store, sample_bytes, "sample.txt", cli_date=STORED, today=TODAY)
    before = await snapshot(store)
    # A real database failure on the 50th appearance written on the new day.
    await set_fault(store, True)
    fault_day = dt.date.fromisoformat(FAULT_DAY)
    with pytest.raises((sqlite3.IntegrityError, asyncpg.RaiseError), match="disk on fire"):
        await ingest_bytes(
            store, sample_bytes, "sample.txt", cli_date=fault_day, today=TODAY, redate=True
        )
    await set_fault(store, False)
    assert await snapshot(store) == before
    moved = await ingest_bytes(
        store, sample_bytes, "sample.txt", cli_date=fault_day, today=TODAY, redate=True
    )
    assert moved.moved == 98 and await store.days(5) == [fault_day]


# --- the command line and Discord -----------------------------------------------------------


def paperbot(*argv: str) -> subprocess.CompletedProcess:
    return run_cli(argv)


def test_cli_says_where_a_dump_is_stored_and_redates_only_when_asked(tmp_path) -> None:
    db = str(tmp_path / "cli.db")
    sample = str(SAMPLE_DUMP)
    assert paperbot("ingest", sample, "--db", db, "--date", "2026-03-14").returncode == 0

    again = paperbot("ingest", sample, "--db", db)
    assert again.returncode == 0
    assert again.stdout.strip().endswith(
        "already ingested for 2026-03-14; nothing changed. To store it under another day, "
        "run again with --date YYYY-MM-DD --redate"
    )
    asked = paperbot("ingest", sample, "--db", db, "--date", "2026-03-20")
    assert asked.stdout.strip().endswith(
        "already ingested for 2026-03-14; nothing changed. To store it under 2026-03-20, "
        "run again with --date 2026-03-20 --redate"
    )
    stats = json.loads(paperbot("stats", "--db", db, "--json").stdout)
    assert stats["latest_day"] == "2026-03-14"

    moved = paperbot("ingest", sample, "--db", db, "--date", "2026-03-20", "--redate")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip().endswith(
        "already ingested for 2026-03-14; moved to 2026-03-20 (98 papers moved, nothing else "
        "changed)"
    )
    stats = json.loads(paperbot("stats", "--db", db, "--json").stdout)
    assert (stats["latest_day"], stats["days"], stats["papers"]) == ("2026-03-20", 1, 98)
    digest = json.loads(paperbot("digest", "--db", db, "--date", "2026-03-20", "--json").stdout)
    assert "Fri 20 Mar 2026" in digest[0]["content"]

    usage = paperbot("ingest", sample, "--db", db, "--redate")
    assert usage.returncode == 2 and usage.stderr.strip() == (
        "paperbot: --redate needs --date: the day to move the dump to"
    )


async def test_slash_ingest_names_the_stored_day_not_this_uploads(tmp_path) -> None:
    dump = b"new\n\nA Paper About Sparse Codes\n\nWe study sparse codes. They help.\n"
    async with bot_against_fake(tmp_path, extensions=("cogs.operate",)) as (fake, bot, ids):
        first = fake.add_attachment("2026-03-15.txt", dump)
        reply = await fake.invoke(ids.guild, ids.channel, ids.admin, "ingest", {"file": first})
        assert reply.content.startswith("✅ **2026-03-15** (from the file name), text page:")
        # The same content saved under another day's name is the same dump.
        renamed = fake.add_attachment("2026-03-20.txt", dump)
        reply = await fake.invoke(ids.guild, ids.channel, ids.admin, "ingest", {"file": renamed})
        assert reply.content == "This dump was already ingested for 2026-03-15; nothing changed."
        assert dt.date(2026, 3, 20) not in await bot.storage.days(5)
