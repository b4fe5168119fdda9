"""Feedback, mutes, authors and paper vectors in storage, on both backends: idempotent
and undoable feedback, one transaction to forget a member, author rows at ingest and
for papers stored before, and vectors written only against the statistics read."""

from __future__ import annotations

import datetime as dt

import aiosqlite

from bot.core.authors import author_key
from bot.core.feedback import FeedbackSignal, Mute, MuteKind
from bot.core.ingest import ingest_bytes
from bot.core.subscriptions import Follow
from storage import Storage, open_storage
from tests.conftest import SAMPLE_DAY, TODAY
from tests.relevance_dumps import hf_dump, papers_by_day

LIKE, DISLIKE, NONE = FeedbackSignal.LIKE, FeedbackSignal.DISLIKE, FeedbackSignal.NONE
ALICE, BOB = 1_180_000_000_000_000_042, 1_180_000_000_000_000_043
GUILD = 1_180_000_000_000_000_001


async def sample_ids(store: Storage, sample_bytes: bytes) -> list[int]:
    report = await ingest_bytes(store, sample_bytes, "sample_dump.txt", today=TODAY)
    assert report.new == 98
    return [p.id for p in await store.papers_on_day(SAMPLE_DAY)]


async def test_feedback_is_one_row_per_member_and_paper_and_undoable(
    backend_storage, sample_bytes
) -> None:
    store = backend_storage
    a, b, c = (await sample_ids(store, sample_bytes))[:3]
    first = await store.record_feedback(ALICE, a, LIKE, False, GUILD)
    again = await store.record_feedback(ALICE, a, LIKE, False, GUILD)
    assert first is not None and again is not None
    assert (again.signal, again.saved, again.guild_id) == (LIKE, False, GUILD)
    assert again.updated_at == first.updated_at  # the same click twice changes nothing
    await store.record_feedback(ALICE, b, DISLIKE, False)
    await store.record_feedback(ALICE, c, NONE, True, GUILD)
    assert [(r.paper_id, r.signal, r.saved) for r in await store.member_ratings(ALICE)] == [
        (a, LIKE, False),
        (b, DISLIKE, False),
        (c, NONE, True),
    ]
    # Re-rating moves a paper to the end of the member's history; a save keeps the signal.
    await store.record_feedback(ALICE, a, LIKE, True)
    ratings = await store.member_ratings(ALICE)
    assert [(r.paper_id, r.signal, r.saved, r.guild_id) for r in ratings][-1] == (
        a,
        LIKE,
        True,
        GUILD,
    )
    assert ratings[-1].saved_at is not None
    page = await store.saved_papers(ALICE, limit=1)
    assert page.total == 2 and len(page.paper_ids) == 1
    rest = await store.saved_papers(ALICE, offset=1, limit=5)
    assert sorted(page.paper_ids + rest.paper_ids) == sorted([a, c])
    # Neither a signal nor a save: the row goes.
    assert await store.record_feedback(ALICE, c, NONE, False) is None
    assert await store.clear_feedback(ALICE, b) is True
    assert await store.clear_feedback(ALICE, b) is False
    assert [r.paper_id for r in await store.member_ratings(ALICE)] == [a]
    assert (await store.feedback_on(ALICE, [a, b, c])).keys() == {a}
    assert await store.feedback_on(BOB, [a]) == {}


async def test_community_likes_count_a_servers_members(backend_storage, sample_bytes) -> None:
    store = backend_storage
    a, b = (await sample_ids(store, sample_bytes))[:2]
    await store.record_feedback(ALICE, a, LIKE, False, GUILD)
    await store.record_feedback(BOB, a, LIKE, False, GUILD)
    await store.record_feedback(BOB, b, DISLIKE, False, GUILD)
    await store.record_feedback(ALICE, b, LIKE, False, GUILD + 1)
    assert await store.community_likes(GUILD, [a, b]) == {a: 2}
    assert await store.community_likes(GUILD + 1, [a, b]) == {b: 1}


async def test_forget_member_deletes_everything_of_that_member_only(
    backend_storage, sample_bytes
) -> None:
    store = backend_storage
    a, b, c = (await sample_ids(store, sample_bytes))[:3]
    for user in (ALICE, BOB):
        await store.record_feedback(user, a, LIKE, True, GUILD)
        await store.record_feedback(user, b, DISLIKE, False)
        await store.record_feedback(user, c, NONE, True)
        await store.add_follow(user, Follow("keyword", "protein"))
        await store.add_follow(user, Follow("author", "alvarez j", label="José Álvarez"))
        await store.add_mute(user, Mute(MuteKind.KEYWORD, "benchmark", "benchmark"))
        await store.set_user_delivery(user, "07:15", "Europe/Berlin")
        await store.claim_delivery(f"user:{user}", SAMPLE_DAY)
        await store.remember_dm_channel(user, user + 100)
    assert await store.member_known(ALICE)
    counts = await store.forget_member(ALICE)
    assert dict(counts.items()) == {
        "follows": 2,
        "ratings": 2,
        "saves": 2,
        "mutes": 1,
        "delivery settings": 1,
        "delivery records": 1,
    }
    assert not await store.member_known(ALICE)
    assert await store.member_ratings(ALICE) == []
    assert await store.member_mutes(ALICE) == []
    assert await store.user_delivery(ALICE) is None
    assert await store.delivery(f"user:{ALICE}", SAMPLE_DAY) is None
    assert (await store.saved_papers(ALICE)).total == 0
    assert await store.dm_channel(ALICE) is None
    # Bob keeps everything.
    assert await store.dm_channel(BOB) == BOB + 100
    assert len(await store.member_ratings(BOB)) == 3
    bob = await store.user_delivery(BOB)
    assert bob is not None and {f.kind for f in bob.follows} == {"keyword", "author"}
    assert [f.label for f in bob.follows if f.kind == "author"] == ["José Álvarez"]
    assert await store.forget_member(ALICE) == type(counts)()


async def test_a_members_dm_channel_is_remembered_and_replaced(backend_storage) -> None:
    store = backend_storage
    assert await store.dm_channel(ALICE) is None
    await store.remember_dm_channel(ALICE, GUILD + 1)
    await store.remember_dm_channel(BOB, GUILD + 2)
    assert await store.dm_channel(ALICE) == GUILD + 1  # snowflakes beyond 32 bits
    await store.remember_dm_channel(ALICE, GUILD + 3)  # reopened after a 404
    assert (await store.dm_channel(ALICE), await store.dm_channel(BOB)) == (GUILD + 3, GUILD + 2)


async def test_mutes_are_idempotent_and_undoable(backend_storage) -> None:
    store = backend_storage
    mute = Mute(MuteKind.AUTHOR, "alvarez j", "J. Álvarez")
    assert await store.add_mute(ALICE, mute) is True
    assert await store.add_mute(ALICE, mute) is False
    assert await store.add_mute(ALICE, Mute(MuteKind.TOPIC, "robotics", "Robotics")) is True
    assert await store.member_mutes(ALICE) == [
        Mute(MuteKind.AUTHOR, "alvarez j"),
        Mute(MuteKind.TOPIC, "robotics"),
    ]
    assert (await store.member_mutes(ALICE))[0].label == "J. Álvarez"
    assert await store.remove_mute(ALICE, MuteKind.AUTHOR, "alvarez j") is True
    assert await store.remove_mute(ALICE, MuteKind.AUTHOR, "alvarez j") is False
    assert [m.kind for m in await store.member_mutes(ALICE)] == [MuteKind.TOPIC]


async def test_authors_are_stored_at_ingest_by_name_key(backend_storage) -> None:
    store = backend_storage
    days = papers_by_day()
    listed = [p for papers in list(days.values())[:40] for p in papers]
    report = await ingest_bytes(store, hf_dump(listed), "day.json", cli_date=dt.date(2025, 1, 6))
    assert report.error is None and report.new == len(listed)
    # A real author with several papers: every one is found by the key, newest first.
    by_author: dict[str, set[str]] = {}
    for paper in listed:
        for name in paper["authors"]:
            by_author.setdefault(name, set()).add(paper["title"])
    name, titles = max(by_author.items(), key=lambda item: (len(item[1]), item[0]))
    assert len(titles) >= 3
    found = await store.papers_by_author(author_key(name))
    found_titles = {title for _, title in await store.titles(found)}
    assert titles <= found_titles
    family = author_key(name).split()[0]
    choices = await store.authors_by_key_prefix(family[:3])
    assert author_key(name) in [c.key for c in choices]
    assert all(c.key.startswith(family[:3]) for c in choices)
    assert await store.authors_by_key_prefix("") == []


async def test_a_re_listed_paper_with_new_authors_replaces_its_author_rows(
    backend_storage,
) -> None:
    store = backend_storage
    paper = dict(papers_by_day()["2024-06-05"][0])
    await ingest_bytes(store, hf_dump([paper]), "a.json", cli_date=dt.date(2025, 1, 6))
    renamed = dict(paper, authors=["Samuel Horváth"])
    await ingest_bytes(store, hf_dump([renamed]), "b.json", cli_date=dt.date(2025, 1, 7))
    (pid,) = [p for p, _ in await store.all_titles()]
    assert await store.papers_by_author("horvath s") == [pid]
    for name in paper["authors"]:
        assert await store.papers_by_author(author_key(name)) == [], name


async def test_papers_stored_before_get_their_authors_when_the_database_opens(
    tmp_path,
) -> None:
    path = tmp_path / "old.db"
    papers = papers_by_day()["2024-06-05"]
    store = await open_storage(path)
    await ingest_bytes(store, hf_dump(papers), "day.json", cli_date=dt.date(2025, 1, 6))
    await store.close()
    # As a database of the version before: no author rows, and the migration's marker.
    async with aiosqlite.connect(path) as conn:
        await conn.execute("DELETE FROM paper_authors")
        await conn.execute(
            "INSERT INTO meta VALUES ('paper_authors_todo', (SELECT MAX(id) FROM papers))"
        )
        await conn.commit()
    store = await open_storage(path)
    try:
        name = papers[0]["authors"][0]
        assert await store.papers_by_author(author_key(name))
        assert await store.get_meta("paper_authors_todo") is None
    finally:
        await store.close()


async def test_vectors_are_written_only_against_the_statistics_read(
    backend_storage, sample_bytes
) -> None:
    store = backend_storage
    a, b = (await sample_ids(store, sample_bytes))[:2]
    assert await store.vector_stats() is None
    assert len(await store.papers_without_vectors(limit=1000)) == 98
    assert await store.put_vectors([(a, b"va")], b"stats-1", 0) is True
    # A second writer that read "no statistics" lost the race: nothing of it is written.
    assert await store.put_vectors([(b, b"vb")], b"stats-x", 0) is False
    stats = await store.vector_stats()
    assert stats is not None and (stats.version, stats.blob) == (1, b"stats-1")
    assert await store.paper_vectors([a, b]) == {a: b"va"}
    assert await store.put_vectors([(b, b"vb")], b"stats-2", 1) is True
    assert await store.put_vectors([(a, b"v2")], b"stats-3", 1) is False
    assert await store.paper_vectors([a, b]) == {a: b"va", b: b"vb"}
    assert b not in await store.papers_without_vectors(limit=1000)
    assert await store.clear_vectors() == 2
    assert await store.vector_stats() is None
