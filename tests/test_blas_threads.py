"""numpy's BLAS runs one thread in paperbot's process: its spinning idle threads made a
member's ranking cost ~10x the CPU on a busy machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys

CHECK = (
    "import json, numpy, threadpoolctl, bot.services.relevance; "
    "print(json.dumps([p['num_threads'] for p in threadpoolctl.threadpool_info()"
    " if p['internal_api'] == 'openblas']))"
)


def test_the_relevance_engine_runs_openblas_on_one_thread() -> None:
    # numpy imported first, with a thread per core (two here) unless held to one.
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    done = subprocess.run(
        [sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, check=True
    )
    threads = json.loads(done.stdout)
    assert threads and set(threads) == {1}
