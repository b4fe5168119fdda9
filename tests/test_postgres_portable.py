"""Row-level export/import between backends: SQLite -> PostgreSQL -> SQLite keeps every
row of every portable table, importing twice adds nothing, and after finish_import the
PostgreSQL copy ingests, searches and claims like the original."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.core.feedback import FeedbackSignal, Mute, MuteKind
from bot.core.ingest import ingest_bytes
from bot.core.models import ParsedQuery, Topic
from bot.core.subscriptions import ChannelSubscription, Follow
from storage import Storage, open_storage
from storage.base import PORTABLE_TABLES
from tests.conftest import TODAY
from tests.relevance_dumps import hf_dump, papers_by_day

ARXIV = Path(__file__).resolve().parent / "data" / "arxiv"
DAY = dt.date(2026, 3, 14)
SNOWFLAKE = 1_234_567_890_123_456_789  # Discord ids need 64 bits
OLD_TITLE = "Long-context Protein Language Model"
NEW_TITLE = "Long-Context Protein Language Modelling for Sequence Design"


async def export_all(store: Storage) -> dict[str, list[dict]]:
    """Every exported row per table, in a canonical order (the backends agree on rows,
    not on which index a table scan happens to follow)."""
    found = {}
    for table in PORTABLE_TABLES:
        rows = [row async for batch in store.export_rows(table, batch=40) for row in batch]
        found[table] = sorted(rows, key=repr)
    return found


async def copy(source: Storage, target: Storage) -> dict[str, int]:
    counts = {}
    for table in PORTABLE_TABLES:
        counts[table] = 0
        async for batch in source.export_rows(table, batch=40):
            counts[table] += await target.import_rows(table, batch)
    await target.finish_import()
    return counts


@pytest.fixture
async def filled_sqlite(sample_storage, sample_bytes):
    """Every portable table holds rows, ids and message ids beyond 32 bits included."""
    store = sample_storage
    await store.upsert_channel_subscription(
        ChannelSubscription(SNOWFLAKE, SNOWFLAKE + 1, "08:00", "UTC", ("llm",), 5, created_by=7)
    )
    await store.record_channel_failure(SNOWFLAKE, "403 Missing Access", 3)
    await store.add_follow(SNOWFLAKE + 2, Follow("topic", "proteins", SNOWFLAKE + 1))
    await store.set_user_delivery(SNOWFLAKE + 2, "21:30", "Europe/Berlin")
    await store.set_last_run(f"user:{SNOWFLAKE + 2}", DAY)
    await store.upsert_guild_topic(Topic("proteins", "Proteins", ("protein*",), (), SNOWFLAKE + 1))
    await store.claim_delivery(f"channel:{SNOWFLAKE}", DAY)
    await store.finish_delivery(f"channel:{SNOWFLAKE}", DAY, "sent", SNOWFLAKE + 3)
    await store.claim_delivery(f"user:{SNOWFLAKE + 2}", DAY, owner="shard-1", lease=dt.timedelta(1))
    await store.set_meta("schedule.version", "3")
    await store.remember_dm_channel(SNOWFLAKE + 2, SNOWFLAKE + 6)
    again = sample_bytes.replace(b"\n", b"\r\n")
    assert (await ingest_bytes(store, again, "2026-03-15.txt", today=TODAY)).known == 98
    # One paper retitled on a later day: its first title becomes a title variant.
    retitled = sample_bytes.replace(OLD_TITLE.encode(), NEW_TITLE.encode())
    report = await ingest_bytes(store, retitled, "2026-03-16.txt", today=TODAY)
    assert report.merges == [(NEW_TITLE, OLD_TITLE)]
    # An arXiv feed: papers with categories, listed by a second source.
    feed = (ARXIV / "rss_cs.CL_2026-04-27.xml").read_bytes()
    assert (await ingest_bytes(store, feed, "cs.CL.xml", today=TODAY)).new == 3
    await store.upsert_channel_subscription(
        ChannelSubscription(
            SNOWFLAKE + 4, SNOWFLAKE + 1, "09:00", "UTC", source="arxiv:cs.CL", thread="paper"
        )
    )
    # A paper's discussion thread in a channel.
    await store.set_paper_thread(SNOWFLAKE + 4, 1, SNOWFLAKE + 5, SNOWFLAKE + 1)
    # Personal relevance: feedback, a mute, an author follow, vectors, and authors (a
    # JSON dump has them; the text sample does not).
    await store.record_feedback(SNOWFLAKE + 2, 1, FeedbackSignal.LIKE, True, SNOWFLAKE + 1)
    await store.add_mute(SNOWFLAKE + 2, Mute(MuteKind.AUTHOR, "alvarez j", "José Álvarez"))
    await store.add_follow(SNOWFLAKE + 2, Follow("author", "ustun a", label="Ahmet Üstün"))
    assert await store.put_vectors([(1, bytes(range(256)) * 3)], b"PBDF" + bytes(300), 0)
    # Three stored papers listed again by a JSON dump that names real authors.
    real = papers_by_day()["2024-06-05"][:3]
    titles = [title for _, title in (await store.all_titles())[:3]]
    listed = [dict(p, id=None, title=t, abstract="") for p, t in zip(real, titles, strict=True)]
    report = await ingest_bytes(store, hf_dump(listed), "2026-03-16.json", cli_date=DAY)
    assert report.known == 3 and report.new == 0
    return store


async def test_round_trip_sqlite_postgres_sqlite(filled_sqlite, postgres_storage, tmp_path):
    original = await export_all(filled_sqlite)
    assert all(original[t] for t in PORTABLE_TABLES), "every table should hold rows"

    counts = await copy(filled_sqlite, postgres_storage)
    assert counts == {t: len(rows) for t, rows in original.items()}
    assert await export_all(postgres_storage) == original

    async with await open_storage(tmp_path / "back.db") as back:
        assert await copy(postgres_storage, back) == counts
        assert await export_all(back) == original


async def test_import_is_idempotent(filled_sqlite, postgres_storage):
    await copy(filled_sqlite, postgres_storage)
    before = await export_all(postgres_storage)
    again = await copy(filled_sqlite, postgres_storage)
    assert again == {t: 0 for t in PORTABLE_TABLES}
    assert await export_all(postgres_storage) == before
    # A batch mixing old and new rows counts only the new ones.
    rows = [{"key": "schedule.version", "value": "changed"}, {"key": "fresh", "value": "1"}]
    assert await postgres_storage.import_rows("meta", rows) == 1
    assert await postgres_storage.get_meta("schedule.version") == "3"


async def test_imported_database_works_like_the_original(filled_sqlite, postgres_storage):
    await copy(filled_sqlite, postgres_storage)
    pg = postgres_storage
    assert (await pg.stats())["papers"] == (await filled_sqlite.stats())["papers"] == 98 + 3
    # Search columns are derived on import: words and short names are found.
    hits = await pg.text_search(
        ParsedQuery(terms=("protein",)), match_all=True, topic=None, since=None, limit=3
    )
    assert hits
    assert len(await pg.papers_by_name(["loramoe"])) == 1
    # The id sequences moved past the imported ids: a new paper gets a fresh id.
    max_id = max(pid for pid, _ in await pg.all_titles())
    dump = b"Mar 20\n\nZyxwvut: A Paper With a Strange Name\n\nWe present something odd.\n"
    report = await ingest_bytes(pg, dump, "z.txt", today=TODAY)
    assert report.error is None and report.new == 1
    assert max(pid for pid, _ in await pg.all_titles()) == max_id + 1
    # Ledger and settings came along: a sent day stays sent, a live lease stays held.
    sent = await pg.claim_delivery(f"channel:{SNOWFLAKE}", DAY)
    assert (sent.status, sent.message_id) == ("sent", SNOWFLAKE + 3)
    held = await pg.claim_delivery(
        f"user:{SNOWFLAKE + 2}", DAY, owner="shard-2", lease=dt.timedelta(minutes=5)
    )
    assert (held.status, held.owner) == ("held", "shard-1")
    assert (await pg.channel_subscription(SNOWFLAKE)).failures == 1


async def test_title_variants_stay_searchable_after_a_copy(
    filled_sqlite, postgres_storage, tmp_path
):
    """The variants table is copied, and each backend derives its search text from it:
    PostgreSQL's tsvector (by trigger on import), SQLite's index (from the change log)."""
    query = ParsedQuery(phrases=(("long", "context", "protein", "language", "model"),))
    [(paper_id, _)] = await filled_sqlite.text_search(
        query, match_all=True, topic=None, since=None, limit=5
    )
    await copy(filled_sqlite, postgres_storage)
    async with await open_storage(tmp_path / "back.db") as back:
        await copy(postgres_storage, back)
        for store in (postgres_storage, back):
            hits = await store.text_search(query, match_all=True, topic=None, since=None, limit=5)
            assert [pid for pid, _ in hits] == [paper_id]
            assert await store.titles([paper_id]) == [(paper_id, NEW_TITLE)]


async def test_export_is_in_primary_key_order(filled_sqlite, postgres_storage):
    await copy(filled_sqlite, postgres_storage)
    keys = [
        r["key"] for b in [b async for b in postgres_storage.export_rows("paper_keys")] for r in b
    ]
    assert keys == sorted(keys) and len(keys) >= 98
    ids = [r["id"] for b in [b async for b in postgres_storage.export_rows("papers", 7)] for r in b]
    assert ids == sorted(ids) and len(ids) == 98 + 3  # the sample and the arXiv feed


async def test_unknown_tables_and_columns_are_refused(postgres_storage):
    with pytest.raises(ValueError, match="not a portable table"):
        await postgres_storage.import_rows("papers; DROP TABLE meta", [{"key": "x"}])
    with pytest.raises(ValueError, match="no column"):
        await postgres_storage.import_rows("meta", [{"key": "x", "value) --": "y"}])
    with pytest.raises(ValueError, match="not a portable table"):
        [b async for b in postgres_storage.export_rows("paperbot_migrations")]
    assert await postgres_storage.import_rows("meta", []) == 0
