"""The `paperbot` command line, its settings and the offline console.

`main` (in bot.cli.app) is the console script: pyproject says `paperbot = "bot.cli:main"`.
It is loaded on first use, so importing one module of this package (the settings, say)
does not load the whole command line, and `python -m bot.cli.settings_table` runs
without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.cli.app import main

__all__ = ["main"]


def __getattr__(name: str) -> Any:
    if name == "main":
        from bot.cli.app import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
