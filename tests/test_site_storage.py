"""What the site reads from storage beyond the digests' reads: each day with its number
of papers (the index), on both backends."""

from __future__ import annotations

from bot.core.ingest import ingest_bytes
from tests.site_data import EARLY_DAY, MIDDLE_DAY, SAMPLE_DAY, write_dumps


async def test_day_counts_lists_each_day_with_its_papers_newest_first(
    backend_storage, tmp_path
) -> None:
    assert await backend_storage.day_counts() == []
    for path, day in write_dumps(tmp_path):
        report = await ingest_bytes(backend_storage, path.read_bytes(), path.name, cli_date=day)
        assert report.error is None, report.error
    counts = await backend_storage.day_counts()
    assert counts == [(SAMPLE_DAY, 98), (MIDDLE_DAY, 6), (EARLY_DAY, 6)]
    assert [day for day, _ in counts] == await backend_storage.days()
    for day, count in counts:  # the same count as the day's papers
        assert len(await backend_storage.papers_on_day(day)) == count
    assert await backend_storage.day_counts(limit=2) == counts[:2]
