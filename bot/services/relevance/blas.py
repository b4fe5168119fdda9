"""numpy's BLAS with one thread in paperbot's process.

OpenBLAS starts a thread per core for each matrix product, and its idle threads spin:
ranking a day's 320 papers for a member cost 28 ms of CPU with two threads on a busy
two-core machine and 3 ms with one. The products here are small (hundreds of rows ×
256), and several run at once in worker threads, so one thread each is faster.
threadpoolctl sets it in the loaded library, whoever imported numpy first.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

assert np  # loaded first: threadpoolctl finds the BLAS among the loaded libraries
# Kept: the limit holds until this object restores the original one.
_LIMIT = threadpool_limits(limits=1, user_api="blas")
