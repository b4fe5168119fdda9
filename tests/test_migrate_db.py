"""`paperbot migrate-db`: a whole database copied into another, counted, idempotent, and
refused when it would mix unrelated data. Real databases on both sides."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from bot.core.authors import author_key
from bot.core.ingest import ingest_bytes
from bot.core.models import Topic
from bot.core.subscriptions import ChannelSubscription, Follow
from storage import open_storage
from storage.base import PORTABLE_TABLES
from storage.migrate import MigrationRefused, copy_database
from tests.conftest import SAMPLE_DAY, SAMPLE_DUMP, TODAY

SNOWFLAKE_GUILD = 1_180_000_000_000_000_001  # Discord ids do not fit in 32 bits
SNOWFLAKE_CHANNEL = 1_180_000_000_000_000_777
USER = 1_180_000_000_000_000_042


async def populate(store) -> None:
    report = await ingest_bytes(store, SAMPLE_DUMP.read_bytes(), "sample_dump.txt", today=TODAY)
    assert report.new == 98
    await store.upsert_channel_subscription(
        ChannelSubscription(
            SNOWFLAKE_CHANNEL,
            SNOWFLAKE_GUILD,
            "08:30",
            "Europe/Berlin",
            ("nlp",),
            7,
            created_by=USER,
            thread="paper",
        )
    )
    await store.set_paper_thread(SNOWFLAKE_CHANNEL, 1, SNOWFLAKE_CHANNEL + 5, SNOWFLAKE_GUILD)
    await store.add_follow(USER, Follow("keyword", "protein"))
    await store.add_follow(USER, Follow("topic", "speech-audio"))
    await store.set_user_delivery(USER, "07:15", "America/New_York")
    await store.upsert_guild_topic(
        Topic("robots", "Robots", ("robot*",), ("legged locomotion",), SNOWFLAKE_GUILD)
    )
    await store.claim_delivery(f"channel:{SNOWFLAKE_CHANNEL}", SAMPLE_DAY)
    await store.finish_delivery(f"channel:{SNOWFLAKE_CHANNEL}", SAMPLE_DAY, "sent", 123456789)
    await store.set_meta("commands_hash", "abc")
    await store.remember_dm_channel(USER, SNOWFLAKE_CHANNEL + 9)


async def snapshot(store) -> dict:
    """Everything a user would notice, read back through the interface."""
    user = await store.user_delivery(USER)
    return {
        "stats": {k: v for k, v in (await store.stats()).items() if k != "database"},
        "titles": await store.all_titles(),
        "day": [
            (p.id, p.title, p.position, p.topics) for p in await store.papers_on_day(SAMPLE_DAY)
        ],
        "subs": await store.channel_subscriptions(),
        "user": (user.post_time, user.timezone, sorted(user.follows, key=str)),
        "topics": await store.guild_topics(SNOWFLAKE_GUILD),
        "delivery": await store.delivery(f"channel:{SNOWFLAKE_CHANNEL}", SAMPLE_DAY),
        "meta": await store.get_meta("commands_hash"),
        "paper_thread": await store.paper_thread(SNOWFLAKE_CHANNEL, 1),
        "vocab": len(await store.vocabulary()),
        "dm_channel": await store.dm_channel(USER),
    }


@pytest.fixture
async def source(tmp_path):
    store = await open_storage(tmp_path / "source.db")
    await populate(store)
    yield store
    await store.close()


async def test_copy_keeps_everything_and_is_idempotent(source, backend_storage) -> None:
    target = backend_storage
    first = await copy_database(source, target)
    assert [t.table for t in first.tables] == list(PORTABLE_TABLES)
    counts = {t.table: (t.read, t.new) for t in first.tables}
    assert counts["papers"] == (98, 98)
    assert counts["channel_subscriptions"] == (1, 1)
    assert counts["user_follows"] == (2, 2)
    assert counts["deliveries"] == (1, 1)
    assert counts["paper_threads"] == (1, 1)
    assert counts["dm_channels"] == (1, 1)
    assert await target.dm_channel(USER) == SNOWFLAKE_CHANNEL + 9
    assert (await target.channel_subscription(SNOWFLAKE_CHANNEL)).thread == "paper"
    assert first.new == first.read
    assert await snapshot(target) == await snapshot(source)

    again = await copy_database(source, target)
    assert again.read == first.read and again.new == 0
    assert await snapshot(target) == await snapshot(source)

    # The copy is a working database: new dumps get fresh ids after the copied ones.
    dump = b"Mar 15\n\nA Brand New Paper About Copying Databases\n\nAbstract text here.\n"
    report = await ingest_bytes(target, dump, "2026-03-15.txt", today=TODAY)
    assert report.error is None and report.new == 1
    assert max(pid for pid, _ in await target.all_titles()) > 98


async def test_copied_delivery_ledger_still_prevents_a_second_post(source, backend_storage):
    target = backend_storage
    await copy_database(source, target)
    record = await target.claim_delivery(f"channel:{SNOWFLAKE_CHANNEL}", SAMPLE_DAY)
    assert record.status == "sent" and record.message_id == 123456789


async def test_refuses_to_merge_into_an_unrelated_database(source, tmp_path) -> None:
    async with await open_storage(tmp_path / "other.db") as other:
        await ingest_bytes(other, SAMPLE_DUMP.read_bytes(), "x.txt", today=TODAY)
        before = await other.stats()
        with pytest.raises(MigrationRefused, match=r"98 papers.*empty database"):
            await copy_database(source, other)
        assert await other.stats() == before


async def test_refuses_a_target_holding_only_another_databases_follows(source, tmp_path):
    async with await open_storage(tmp_path / "other.db") as other:
        await other.add_follow(7, Follow("keyword", "robots"))
        with pytest.raises(MigrationRefused, match="1 members"):
            await copy_database(source, other)
        assert (await other.user_delivery(7)).follows == (Follow("keyword", "robots"),)
        assert (await other.stats())["papers"] == 0


@pytest.fixture(params=["sqlite", "postgres"])
def target_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dest.db'}"
    return request.getfixturevalue("postgres_schema")


def test_cli_reports_counts_then_nothing_new(tmp_path, capsys, target_url) -> None:
    src = str(tmp_path / "src.db")
    assert main(["ingest", str(SAMPLE_DUMP), "--db", src, "--quiet"]) == 0
    capsys.readouterr()
    dest = target_url
    assert main(["migrate-db", "--from", src, "--to", dest, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["tables"]["papers"] == {"read": 98, "new": 98}
    assert main(["migrate-db", "--from", src, "--to", dest]) == 0
    out, err = capsys.readouterr()
    assert "0 copied" in out.splitlines()[-1]
    assert "papers: 98 read, 0 new" in err  # progress goes to stderr
    assert main(["search", "protein", "--db", dest, "--json"]) == 0
    titles = [h["title"] for h in json.loads(capsys.readouterr().out)]
    assert "Long-context Protein Language Model" in titles[:2]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "missing.db", "--to", "x.db"], "no database at"),
        (["--from", "same.db", "--to", "same.db"], "same database"),
        (["--from", "mysql://host/db", "--to", "x.db"], "unsupported database URL"),
    ],
)
def test_cli_bad_arguments_are_one_line_errors(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["migrate-db", *argv]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.db").exists()


async def test_copy_carries_feedback_mutes_authors_author_follows_and_vectors(
    tmp_path, backend_storage
) -> None:
    from bot.core.feedback import FeedbackSignal, Mute, MuteKind
    from tests.relevance_dumps import hf_dump, papers_by_day

    papers = papers_by_day()["2024-06-05"]
    async with await open_storage(tmp_path / "source.db") as source:
        report = await ingest_bytes(source, hf_dump(papers), "day.json", today=TODAY)
        assert report.new == len(papers)
        ids = [pid for pid, _ in await source.all_titles()]
        await source.record_feedback(USER, ids[0], FeedbackSignal.LIKE, True, SNOWFLAKE_GUILD)
        await source.record_feedback(USER, ids[1], FeedbackSignal.DISLIKE, False)
        await source.add_mute(USER, Mute(MuteKind.AUTHOR, "alvarez j", "José Álvarez"))
        await source.add_follow(USER, Follow("author", "ustun a", label="Ahmet Üstün"))
        blobs = [(pid, bytes([n % 256]) * 900) for n, pid in enumerate(ids)]
        assert await source.put_vectors(blobs, b"PBDF-stats" * 1000, 0)
        author = papers[0]["authors"][0]

        async def seen(store) -> tuple:
            user = await store.user_delivery(USER)
            return (
                await store.member_ratings(USER),
                await store.member_mutes(USER),
                [(f.kind, f.value, f.label) for f in user.follows],
                await store.paper_vectors(ids),
                await store.vector_stats(),
                await store.papers_by_author(author_key(author)),
                await store.authors_by_key_prefix(author_key(author)),
            )

        report = await copy_database(source, backend_storage)
        copied = {t.table: t.new for t in report.tables}
        assert copied["feedback"] == 2 and copied["mutes"] == 1
        assert copied["paper_vectors"] == len(ids) and copied["corpus_stats"] == 1
        assert copied["paper_authors"] == sum(len(p["authors"]) for p in papers)
        assert await seen(backend_storage) == await seen(source)
