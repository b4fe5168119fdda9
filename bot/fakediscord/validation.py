"""Payload validation hook: every message body the bot sends is checked against our limits.

The checks live in ``bot.core.limits.message_problems`` (owned by the core package). A
fake that cannot load them refuses to start: silently switching the checks off would let
every test pass on payloads Discord would reject.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

Validator = Callable[[dict[str, Any]], list[str]]

LIMITS_MODULE = "bot.core.limits"
LIMITS_FUNCTION = "message_problems"


class ValidatorUnavailable(RuntimeError):
    """The message limits could not be loaded, so payloads could not be checked."""


def load_message_validator() -> Validator:
    """``bot.core.limits.message_problems``; raises :class:`ValidatorUnavailable` with the
    reason when the module does not import or lacks the function."""
    where = f"{LIMITS_MODULE}.{LIMITS_FUNCTION}"
    try:
        module = importlib.import_module(LIMITS_MODULE)
    except Exception as exc:
        raise ValidatorUnavailable(
            f"fakediscord cannot check message payloads: {where} failed to load "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    func = getattr(module, LIMITS_FUNCTION, None)
    if not callable(func):
        raise ValidatorUnavailable(
            f"fakediscord cannot check message payloads: {LIMITS_MODULE} has no {LIMITS_FUNCTION}()"
        )
    return func


def run_validator(validator: Validator | None, payload: dict[str, Any]) -> list[str]:
    """Run a validator, turning its own crashes into reported problems (never a 500)."""
    if validator is None:
        return []
    try:
        return [str(p) for p in validator(payload)]
    except Exception as exc:
        return [f"validator crashed: {type(exc).__name__}: {exc}"]


def autocomplete_problems(data: dict[str, Any] | None) -> list[str]:
    """Discord's limits for an autocomplete result: <= 25 choices, names 1..100, values <= 100."""
    choices = (data or {}).get("choices")
    if not isinstance(choices, list):
        return ["autocomplete result has no 'choices' list"]
    problems = []
    if len(choices) > 25:
        problems.append(f"{len(choices)} autocomplete choices (max 25)")
    for i, choice in enumerate(choices):
        name = str(choice.get("name", ""))
        value = choice.get("value")
        if not 1 <= len(name) <= 100:
            problems.append(f"choice {i} name length {len(name)} (must be 1..100)")
        if value is None:
            problems.append(f"choice {i} has no value")
        elif isinstance(value, str) and len(value) > 100:
            problems.append(f"choice {i} value length {len(value)} (max 100)")
    return problems


_NAME = re.compile(r"^[-_'\w]{1,32}$")


def command_problems(command: dict[str, Any], where: str = "") -> list[str]:
    """Discord's registration limits for a chat-input command (or option), recursively."""
    name = str(command.get("name", ""))
    here = f"{where}/{name}" if where else f"/{name}"
    problems = []
    # Nested entries are options/subcommands; at top level type 2/3 are context menus,
    # whose names may contain spaces and capitals and which have no description.
    if where or command.get("type", 1) == 1:
        if not _NAME.match(name) or name != name.lower():
            problems.append(f"{here}: invalid name (1-32 lowercase letters, digits, - or _)")
        if not 1 <= len(str(command.get("description", ""))) <= 100:
            problems.append(f"{here}: description must be 1-100 characters")
    options = command.get("options") or []
    if len(options) > 25:
        problems.append(f"{here}: {len(options)} options (max 25)")
    seen_optional = False
    for option in options:
        if option.get("type") in (1, 2):
            problems.extend(command_problems(option, here))
            continue
        problems.extend(command_problems({**option, "options": []}, here))
        if option.get("required"):
            if seen_optional:
                problems.append(f"{here}: required option {option.get('name')!r} after optional")
        else:
            seen_optional = True
        choices = option.get("choices") or []
        if len(choices) > 25:
            problems.append(f"{here}: option {option.get('name')!r} has {len(choices)} choices")
        problems.extend(
            f"{here}: choice {c.get('name')!r} is too long"
            for c in choices
            if not 1 <= len(str(c.get("name", ""))) <= 100 or len(str(c.get("value", ""))) > 100
        )
    return problems
