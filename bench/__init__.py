"""paperbot's benchmark suite: `python -m bench --papers 10000` or `paperbot bench`.

Measures only; see bench/README.md for what each number means.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from bench.errors import BenchError

__all__ = ["BenchError", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    from bench.options import build_parser
    from bench.runner import run
    from bot.services.freed_memory import return_large_blocks

    return_large_blocks()  # the product's processes run so (`paperbot` does it first)
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(run(args))
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
