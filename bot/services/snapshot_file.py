"""Opening the snapshot as people download and keep it: plain JSON lines, compressed
with gzip, bzip2 or xz, or inside a zip archive (the snapshot's usual download, from
Kaggle, is a `.zip` holding the one `.json`; unzipped it is about four times larger).

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
SUFFIXES = (*COMPRESSED, ".zip")

# What reading a damaged file raises: OSError (a file that is not in its suffix's
# format), EOFError (a compressed stream cut short, as a partial download is),
# zlib.error and lzma.LZMAError (corrupt compressed data), zipfile.BadZipFile (no zip
# archive, or a member whose checksum fails).
UNREADABLE = (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)


def is_compressed(path: Path) -> bool:
    """Whether the bytes read differ from the file's size (progress then has no ETA)."""
    return path.suffix.lower() in SUFFIXES


def open_snapshot(path: Path) -> IO[bytes]:
    """The snapshot's lines as bytes, decompressed; seekable (a compressed stream seeks
    by reading through, slow but correct, which is what a resumed import needs)."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _zip_member(path)
    opener = COMPRESSED.get(suffix)
    if opener is not None:
        return cast("IO[bytes]", opener(path, "rb"))
    return path.open("rb")


def _zip_member(path: Path) -> IO[bytes]:
    """The one JSON file in the archive (or its one file, whatever its name)."""
    with zipfile.ZipFile(path) as archive:
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
            # The member keeps the archive's file open after the `with` closes its
            # own handle (zipfile counts the references).
            return archive.open(files[0])
        except NotImplementedError:  # e.g. Deflate64, which some zip tools write
            raise OSError(
                f"{files[0].filename} is compressed in a way Python cannot read "
                f"(zip method {files[0].compress_type}): unzip it first"
            ) from None
