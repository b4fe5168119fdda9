"""Failures as the one line a user of the CLI or the console sees."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterable

from storage.urls import redact_text


class CliError(Exception):
    """A one-line message for stderr; exit code 1 (bad input) unless told otherwise."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def failure_line(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """One line that says what failed, with passwords and `secrets` masked."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        text = f"{exc.filename}: {exc.strerror}"
    else:
        text = " ".join(str(exc).split())
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return redact_text(text, *secrets)


def report_failure(exc: BaseException, *, debug: bool, secrets: Iterable[str] = ()) -> int:
    """Print an unforeseen failure (the traceback only when debugging); exit code 1."""
    secrets = list(secrets)
    if debug:
        trace = "".join(traceback.format_exception(exc))
        print(redact_text(trace, *secrets), file=sys.stderr, end="")
    hint = "" if debug else " (run again with --debug to see the traceback)"
    print(f"paperbot: unexpected error: {failure_line(exc, secrets)}{hint}", file=sys.stderr)
    return 1
