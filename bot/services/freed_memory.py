"""Give memory the process freed back to the system (glibc, on Linux).

- `release_freed_memory`: glibc keeps the pages of freed small objects in its arenas.
  After the snapshot import's rows phase (two 20,000-paper batches of parsed papers and
  their analyses in flight) about 300 MB of such pages stayed resident through the
  search index phase, whose tantivy writer then added its own heap on top: the two
  peaks summed.
- `return_large_blocks`: glibc serves a request of 128 KB or more with a mapping of its
  own and unmaps it when freed, until a freed block that size raises the threshold:
  from then on blocks up to 32 MB come from the heap, and once freed they stay in the
  process unless they sit at its very top. The relevance engine allocates such blocks
  batch after batch (a batch's token ids, feature counts and embeddings, a 4 MB copy of
  the corpus statistics), among small objects that live on: after a start-up catch-up
  over 100,000 papers the bot kept about 40 MB it no longer used, and every later peak
  (For you, the daily job) was reached on top of it. Fixing the threshold (which also
  turns the raising off) keeps every large block a mapping of its own: freed, it is
  returned. A search's CPU time was unchanged in alternated runs, while a short command
  paid about 5% more system time for the mappings, so only the long-running commands
  set it (bot/cli/app.py); docs/PERFORMANCE.md has the figures.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from typing import Any

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
LARGE_BLOCK = 128 * 1024  # glibc's own starting threshold, kept fixed


def _libc_call(name: str) -> Any | None:
    """The C library's function `name`, or None (not Linux, or a C library without it:
    musl and others)."""
    if not sys.platform.startswith("linux"):
        return None
    library = ctypes.util.find_library("c")
    if library is None:
        return None
    try:
        return getattr(ctypes.CDLL(library), name)
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> None:
    """Collect garbage, then ask glibc to return free arena pages (`malloc_trim`); a
    no-op where the C library has no such call."""
    gc.collect()
    trim = _libc_call("malloc_trim")
    if trim is not None:
        trim(0)


def return_large_blocks() -> bool:
    """Fix glibc's mmap threshold for this process; False where it cannot be (another
    C library, another system), which changes nothing else."""
    mallopt = _libc_call("mallopt")
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK))
