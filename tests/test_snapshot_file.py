"""The snapshot as people download and keep it: each compressed form reads (and seeks,
as a resumed import does) as the plain file, a zip archive gives its one JSON file, and
a file that is not in its suffix's format is unreadable, never read as something else."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
from pathlib import Path

import pytest

from bot.services.snapshot_file import UNREADABLE, open_snapshot
from bot.services.snapshot_import import snapshot_problem

DATA = Path(__file__).resolve().parent / "data" / "snapshot"
REAL = gzip.decompress((DATA / "oai_cs_1000.jsonl.gz").read_bytes())  # 1,000 real records


def _zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def write_as(tmp_path: Path, suffix: str, data: bytes) -> Path:
    path = tmp_path / f"arxiv-metadata-oai-snapshot.json{suffix}"
    if suffix == ".zip":
        return _zip(tmp_path / "arxiv.zip", {"arxiv-metadata-oai-snapshot.json": data})
    compress = {"": bytes, ".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}
    path.write_bytes(compress[suffix](data))
    return path


@pytest.mark.parametrize("suffix", ["", ".gz", ".bz2", ".xz", ".zip"])
def test_each_form_reads_and_seeks_as_the_plain_file(tmp_path, suffix) -> None:
    path = write_as(tmp_path, suffix, REAL)
    size = path.stat().st_size
    with open_snapshot(path) as snapshot:
        assert snapshot.consumed() == 0 or suffix == ".zip"  # a zip reads its directory
        assert snapshot.lines.read() == REAL
        # What a progress bar measures: the file's own bytes, all read by the end.
        assert size - 100 <= snapshot.consumed() <= size
    # A resumed import seeks to the byte after its last committed batch.
    offsets = [0, REAL.index(b"\n") + 1, len(REAL) // 2, len(REAL)]
    for offset in offsets:
        with open_snapshot(path) as snapshot:
            snapshot.lines.seek(offset)
            assert snapshot.lines.read(5000) == REAL[offset : offset + 5000]
    assert snapshot_problem(path) is None


def test_a_zip_gives_its_one_json_file_whatever_else_it_holds(tmp_path) -> None:
    archive = _zip(
        tmp_path / "download.zip",
        {"README.txt": b"the arXiv metadata snapshot\n", "data/snapshot.JSON": REAL},
    )
    with open_snapshot(archive) as snapshot:
        assert snapshot.lines.read() == REAL
    # One file alone is the snapshot, whatever its name.
    single = _zip(tmp_path / "single.zip", {"arxiv-metadata": REAL}, zipfile.ZIP_STORED)
    with open_snapshot(single) as snapshot:
        assert snapshot.lines.read() == REAL


@pytest.mark.parametrize(
    "members", [{"a.json": b"{}\n", "b.json": b"{}\n"}, {}, {"x.txt": b"", "y.txt": b""}]
)
def test_a_zip_without_one_json_file_names_what_it_holds(tmp_path, members) -> None:
    archive = _zip(tmp_path / "many.zip", members)
    with pytest.raises(OSError) as raised:
        open_snapshot(archive)
    message = str(raised.value)
    assert "unzip it" in message
    for name in members:
        assert name in message
    if not members:
        assert "no files" in message


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz", ".zip"])
def test_a_file_not_in_its_suffixs_format_is_unreadable(tmp_path, suffix) -> None:
    path = tmp_path / f"snapshot.json{suffix}"
    path.write_bytes(REAL[:20000])  # plain JSON lines under a compressed name
    with pytest.raises(UNREADABLE):
        snapshot_problem(path)


@pytest.mark.parametrize("suffix", [".bz2", ".xz", ".zip"])
def test_a_download_cut_short_is_unreadable_once_reached(tmp_path, suffix) -> None:
    whole = write_as(tmp_path, suffix, REAL)
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 3 // 4])
    with pytest.raises(UNREADABLE), open_snapshot(cut) as snapshot:
        while snapshot.lines.read(65536):
            pass
