"""`paperbot ingest` given what it cannot ingest, as a subprocess: paths that do not
exist create no database, and the arXiv metadata snapshot (plain, gzipped or as the zip
download) is pointed
to the command that imports it, in the one error line."""

from __future__ import annotations

import gzip
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.cli_process import clean_environment, one_line, paperbot

DATA = Path(__file__).resolve().parent / "data"
SNAPSHOTS = [
    DATA / "snapshot" / "snapshot_first100.jsonl",
    DATA / "snapshot" / "oai_cs_1000.jsonl.gz",
]
HINT = "; it is the arXiv metadata snapshot: use `paperbot import-arxiv-snapshot`"


@pytest.mark.parametrize("paths", [["nope.txt"], ["nope.txt", "dumps/"]])
def test_paths_that_do_not_exist_create_no_database(tmp_path, paths) -> None:
    done = paperbot(tmp_path, "ingest", *paths, "--db", "data/p.db")
    assert done.returncode == 1
    assert one_line(done.stderr) == (
        f"paperbot: {', '.join(paths)}: cannot read (no such file or folder)"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("snapshot", SNAPSHOTS, ids=lambda p: p.name)
def test_the_snapshot_given_to_ingest_names_the_import_command(tmp_path, snapshot) -> None:
    done = paperbot(tmp_path, "ingest", str(snapshot), "--db", "p.db")
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert line.startswith(f"paperbot: {snapshot}: ") and line.endswith(HINT), line


def test_the_zip_download_given_to_ingest_names_the_import_command(tmp_path) -> None:
    archive = tmp_path / "arxiv.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr(
            "arxiv-metadata-oai-snapshot.json", gzip.decompress(SNAPSHOTS[1].read_bytes())
        )
    done = paperbot(tmp_path, "ingest", str(archive), "--db", "p.db")
    assert done.returncode == 1
    assert one_line(done.stderr).endswith(HINT), done.stderr


def test_other_files_that_fail_get_no_such_hint(tmp_path) -> None:
    binary = tmp_path / "photo.dat"
    binary.write_bytes(bytes(range(256)) * 8)
    lines = tmp_path / "notes.jsonl"  # JSON lines, but no records with an arXiv id
    lines.write_text('{"a": 1}\n{"b": 2}\n', encoding="utf-8")
    for path in (binary, lines):
        done = paperbot(tmp_path, "ingest", str(path), "--db", "p.db")
        assert done.returncode == 1
        line = one_line(done.stderr)
        assert "import-arxiv-snapshot" not in line, line


def test_a_file_far_too_large_is_refused_without_being_read(tmp_path) -> None:
    # A sparse 3 GB file (the size of the arXiv snapshot; no disk used) under a 2 GB
    # address-space limit: reading it whole would fail with MemoryError.
    huge = tmp_path / "arxiv-metadata-oai-snapshot.json"
    with huge.open("wb") as handle:
        handle.truncate(3 * 1024**3)

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))

    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ingest", str(huge), "--db", str(tmp_path / "p.db")],
        cwd=tmp_path,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit_memory,
    )
    assert done.returncode == 1
    assert one_line(done.stderr) == (
        f"paperbot: {huge}: 3,072 MB is too large for a daily dump (limit 64 MB)"
    )
