"""What the console can do with a reply's components: press a button by its label, pick
a menu option by its number or its text, and the line that lists both under a reply.

Pure: it reads message dicts as the fake Discord stores them and names the component
to use; bot/cli/console.py sends the click or the selection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

BUTTON, STRING_SELECT, LINK_STYLE = 2, 3, 5
_CONTAINERS = (1, 9, 17)  # action row, section, container: their children count


class ActionError(Exception):
    """A press or pick this reply offers no way to do; the message says what it offers."""


@dataclass(frozen=True)
class Option:
    """One option of a menu, numbered across the reply's menus from 1."""

    number: int
    menu: dict[str, Any]
    label: str
    value: str


@dataclass(frozen=True)
class Actions:
    buttons: list[dict[str, Any]]
    options: list[Option]

    @classmethod
    def of(cls, message: dict[str, Any] | None) -> Actions:
        buttons: list[dict[str, Any]] = []
        options: list[Option] = []
        for item in _items((message or {}).get("components") or []):
            if item.get("type") == BUTTON:
                buttons.append(item)
            elif item.get("type") == STRING_SELECT and not item.get("disabled"):
                for option in item.get("options") or []:
                    label = str(option.get("label", ""))
                    options.append(Option(len(options) + 1, item, label, str(option["value"])))
        return cls(buttons, options)

    def pressable(self) -> list[dict[str, Any]]:
        """Buttons a press can use: enabled, and not links (a link opens a browser)."""
        return [b for b in self.buttons if not b.get("disabled") and b.get("style") != LINK_STYLE]

    def button(self, typed: str) -> dict[str, Any]:
        """The button labelled `typed`: ignoring case, then also arrows and other marks
        (`press next` presses `Next ▶`)."""
        wanted = typed.strip()
        if not wanted:
            raise ActionError(f"press what? {self._offer()}")
        found = _by_label(self.buttons, wanted, lambda b: str(b.get("label") or ""))
        if found is None:
            raise ActionError(f"no button “{wanted}” here; {self._offer()}")
        label = found.get("label") or wanted
        if found.get("disabled"):
            raise ActionError(f"“{label}” cannot be pressed now; {self._offer()}")
        if found.get("style") == LINK_STYLE:
            raise ActionError(f"“{label}” is a link: {found.get('url', '')}")
        return found

    def option(self, typed: str) -> Option:
        """The menu option numbered `typed` (as listed), or labelled it."""
        wanted = typed.strip()
        if not self.options:
            raise ActionError("no menu to pick from here")
        # ASCII digits only: `²` is a digit to isdigit() but no number int() reads.
        if wanted.isascii() and wanted.isdigit():
            number = int(wanted)
            if not 1 <= number <= len(self.options):
                raise ActionError(f"no option {number}; pick {self._numbers()}")
            return self.options[number - 1]
        found = _by_label(self.options, wanted, lambda o: o.label) if wanted else None
        if found is None:
            raise ActionError(f"no option “{wanted}”; pick {self._numbers()} or an option's text")
        return found

    def line(self) -> str:
        """``→ press Remove · press Cancel``; empty when there is nothing to do."""
        parts = [
            f"press {button.get('label') or button['custom_id']}" for button in self.pressable()
        ]
        if self.options:
            menu = self.options[0].menu.get("placeholder") or "the menu"
            parts.append(f"pick {self._numbers()} ({menu}, in the order listed)")
        return "→ " + " · ".join(parts) if parts else ""

    def _offer(self) -> str:
        labels = [str(b.get("label") or b["custom_id"]) for b in self.pressable()]
        if labels:
            return f"buttons: {', '.join(labels)}"
        return "none can be pressed now" if self.buttons else "this reply has no buttons"

    def _numbers(self) -> str:
        count = len(self.options)
        return "1" if count == 1 else f"1–{count}"


def _items(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for component in components:
        if component.get("type") in _CONTAINERS:
            found += _items(component.get("components") or [])
            accessory = component.get("accessory")
            if isinstance(accessory, dict):
                found += _items([accessory])
        else:
            found.append(component)
    return found


def _by_label(items: list[T], typed: str, label_of: Callable[[T], str]) -> T | None:
    """The item whose label is `typed` ignoring case; failing that, ignoring everything
    but letters, digits and spaces; failing that, the only one whose label starts so (a
    menu cuts long titles short: `pick crystal transformer`)."""
    exact = [item for item in items if label_of(item).casefold() == typed.casefold()]
    if exact:
        return exact[0]
    plain = _plain(typed)
    if not plain:
        return None
    loose = [item for item in items if _plain(label_of(item)) == plain]
    if loose:
        return loose[0]
    starting = [item for item in items if _plain(label_of(item)).startswith(plain)]
    return starting[0] if len(starting) == 1 else None


def _plain(text: str) -> str:
    kept = "".join(ch if ch.isalnum() else " " for ch in text.casefold())
    return " ".join(kept.split())
