"""Opening the snapshot as people download and keep it: plain JSON lines, compressed
with gzip, bzip2 or xz, or inside a zip archive (the snapshot's usual download is a
`.zip` holding the one `.json`, read in place rather than unzipped first).

The format goes by the file's suffix, so a file named for one format that is not in it
is refused as unreadable rather than read as something else.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, cast

COMPRESSED: dict[str, Callable[..., Any]] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}

# What reading a damaged file raises: OSError (a file that is not in its suffix's
# format), EOFError (a compressed stream cut short, as a partial download is),
# zlib.error and lzma.LZMAError (corrupt compressed data), zipfile.BadZipFile (no zip
# archive, or a member whose checksum fails).
UNREADABLE = (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)


class SnapshotFile:
    """An open snapshot: its `lines` (decompressed, seekable: a compressed stream seeks
    by reading through, slow but correct, which is what a resumed import needs) and how
    far into the file itself they have read, which a progress bar measures against the
    file's size whatever the format."""

    def __init__(self, path: Path) -> None:
        self._raw = path.open("rb")
        try:
            self.lines = _decompressed(path.suffix.lower(), self._raw)
        except BaseException:
            self._raw.close()
            raise

    def consumed(self) -> int:
        """Bytes of the file read so far (a compressed reader's read-ahead included)."""
        return self._raw.tell()

    def close(self) -> None:
        try:
            self.lines.close()
        finally:
            self._raw.close()

    def __enter__(self) -> SnapshotFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_snapshot(path: Path) -> SnapshotFile:
    return SnapshotFile(path)


def _decompressed(suffix: str, raw: IO[bytes]) -> IO[bytes]:
    if suffix == ".zip":
        return _zip_member(raw)
    opener = COMPRESSED.get(suffix)
    return cast("IO[bytes]", opener(raw, "rb")) if opener is not None else raw


def _zip_member(raw: IO[bytes]) -> IO[bytes]:
    """The one JSON file in the archive (or its one file, whatever its name)."""
    # Given a file object, zipfile leaves it open when the archive and member close.
    archive = zipfile.ZipFile(raw)
    files = [i for i in archive.infolist() if not i.is_dir()]
    if len(files) != 1:
        files = [i for i in files if i.filename.lower().endswith((".json", ".jsonl"))]
    if len(files) != 1:
        names = ", ".join(i.filename for i in archive.infolist()[:5]) or "no files"
        raise OSError(
            f"the archive should hold one .json file, not {names}: "
            "unzip it and import the snapshot's .json"
        )
    try:
        return archive.open(files[0])
    except NotImplementedError:  # e.g. Deflate64, which some zip tools write
        raise OSError(
            f"{files[0].filename} is compressed in a way Python cannot read "
            f"(zip method {files[0].compress_type}): unzip it first"
        ) from None
