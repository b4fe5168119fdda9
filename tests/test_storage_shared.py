"""What the two storage backends share: the migration loader, the placeholder
conversion for asyncpg and the row mapping."""

from __future__ import annotations

import sys

import pytest

from storage.migrations import Migration, bundled_migrations, pending
from storage.postgres.connection import migrations as postgres_migrations
from storage.sqlite.connection import migrations as sqlite_migrations


def fake_package(tmp_path, monkeypatch, name: str, files: list[str]) -> str:
    folder = tmp_path / name / "migrations"
    folder.mkdir(parents=True)
    (tmp_path / name / "__init__.py").write_text("", encoding="utf-8")
    for file in files:
        (folder / file).write_text(f"-- {file}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop(name, None)
    return name


def test_both_backends_load_their_migrations_through_the_one_loader() -> None:
    for loaded, package in (
        (sqlite_migrations(), "storage.sqlite"),
        (postgres_migrations(), "storage.postgres"),
    ):
        assert loaded == bundled_migrations(package)
        assert [m.version for m in loaded] == list(range(1, len(loaded) + 1))
        assert all(m.name.endswith(".sql") and m.sql.strip() for m in loaded)


def test_migrations_are_ordered_by_number_and_other_files_ignored(tmp_path, monkeypatch) -> None:
    files = ["002_b.sql", "010_j.sql", "001_a.sql", "README.md", "notes.sql"]
    files += [f"{n:03d}_x.sql" for n in range(3, 10)]
    name = fake_package(tmp_path, monkeypatch, "paperbot_fake_ordered", files)
    assert [m.version for m in bundled_migrations(name)] == list(range(1, 11))


def test_a_gap_in_the_numbers_is_refused(tmp_path, monkeypatch) -> None:
    name = fake_package(tmp_path, monkeypatch, "paperbot_fake_gap", ["001_a.sql", "003_c.sql"])
    with pytest.raises(RuntimeError, match=r"1..N without gaps, found \[1, 3\]"):
        bundled_migrations(name)


def test_pending_is_what_a_database_still_needs_and_refuses_a_newer_one() -> None:
    known = [Migration(v, f"00{v}_x.sql", "") for v in (1, 2, 3)]
    assert [m.version for m in pending(known, 0)] == [1, 2, 3]
    assert [m.version for m in pending(known, 2)] == [3]
    assert pending(known, 3) == []
    with pytest.raises(RuntimeError, match="schema version 4 is newer than this paperbot"):
        pending(known, 4)
