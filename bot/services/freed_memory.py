"""Give memory the process freed back to the system.

glibc keeps the pages of freed small objects in its arenas. After the snapshot import's
rows phase (two 20,000-paper batches of parsed papers and their analyses in flight)
about 300 MB of such pages stayed resident through the search index phase, whose
tantivy writer then added its own heap on top: the two peaks summed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys


def release_freed_memory() -> None:
    """Collect garbage, then ask glibc to return free arena pages (`malloc_trim`); a
    no-op where the C library has no such call."""
    gc.collect()
    if not sys.platform.startswith("linux"):
        return
    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # musl and others: nothing to trim with
        return
    trim(0)
