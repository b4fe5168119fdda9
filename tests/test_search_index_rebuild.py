"""A rebuilt search index is trusted only once it has caught up with the database.

A process that opened an outdated index rebuilt it empty; if it exited before its first
catch-up, the database's watermark still said the index was current, and every later
process searched an empty index ("No papers found" for everything)."""

from __future__ import annotations

from pathlib import Path

from bot.core.topics import load_default_topics
from bot.services.search import SearchService
from storage import open_storage
from storage.sqlite.search_index import INCOMPLETE_MARKER
from tests.forked_cli import run_cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "bot" / "data" / "sample_dump.txt"


def _ingest(db: Path) -> None:
    done = run_cli(["ingest", str(SAMPLE), "--db", str(db)], cwd=ROOT)
    assert done.returncode == 0, done.stderr


async def _total(db: Path, words: str) -> int:
    storage = await open_storage(str(db))
    try:
        response = await SearchService(storage, load_default_topics()).search(words)
        return response.total
    finally:
        await storage.close()


async def test_an_outdated_index_rebuilt_by_a_process_that_exits_at_once_is_caught_up_later(
    tmp_path,
):
    db = tmp_path / "papers.db"
    _ingest(db)
    expected = await _total(db, "language")
    assert expected > 0
    index = Path(f"{db}.search")
    (index / "paperbot-index-version").write_text("0")  # an index of an older format

    storage = await open_storage(str(db))  # rebuilds the index empty ...
    assert storage.search_index.created
    await storage.close()  # ... and exits before any search or ingest catches it up

    assert await _total(db, "language") == expected  # the next process reindexes
    assert not (index / INCOMPLETE_MARKER).exists()
    assert await _total(db, "language") == expected  # and later ones trust it


async def test_a_rebuild_finished_by_another_process_is_not_redone(tmp_path):
    db = tmp_path / "papers.db"
    _ingest(db)
    (Path(f"{db}.search") / "paperbot-index-version").write_text("0")
    first = await open_storage(str(db))
    second = await open_storage(str(db))  # opened while the rebuild is unfinished
    try:
        assert first.search_index.created and second.search_index.created
        assert await first.sync_search_index() == 98  # the sample's papers, all of them
        assert await second.sync_search_index() == 0  # sees the finished rebuild
        assert not second.search_index.created
        response = await SearchService(second, load_default_topics()).search("language")
        assert response.total > 0
    finally:
        await first.close()
        await second.close()
