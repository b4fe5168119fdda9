"""Large blocks go back to the system when freed (glibc's allocator, on Linux).

glibc serves a request of 128 KB or more with a mapping of its own and unmaps it when
it is freed, until a freed block that size raises the threshold: from then on blocks
up to 32 MB come from the heap, and once freed they stay in the process unless they
sit at its very top. The relevance engine allocates such blocks batch after batch (a
batch's token ids, feature counts and embeddings, a 4 MB copy of the corpus
statistics), among small objects that live on. After a start-up catch-up over 100,000
papers the bot kept about 40 MB it no longer used, and every later peak (For you, the
daily job) was reached on top of it.

Fixing the threshold (which also turns the raising off) keeps every large block a
mapping of its own: freed, it is returned. A search's CPU time was unchanged in
alternated runs, while a short command paid about 5% more system time for the
mappings, so only the long-running commands set it (bot/cli/app.py);
docs/PERFORMANCE.md has the figures.
"""

from __future__ import annotations

import ctypes
import sys

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
LARGE_BLOCK = 128 * 1024  # glibc's own starting threshold, kept fixed


def return_large_blocks() -> bool:
    """Fix glibc's mmap threshold for this process; False where it cannot be (another
    C library, another system), which changes nothing else."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK))
