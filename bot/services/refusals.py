"""How a service turns a request down: `Refused`, whose text is the one line to show.

The Discord layer shows it as an ephemeral error (bot/discord_app/errors.py), so a
command needs no try/except of its own. The text is ready to show: anything the user
typed in it is already markdown-escaped.
"""

from __future__ import annotations

from bot.core.markdown import escape_markdown
from bot.core.render import safe_inline
from bot.core.topic_lookup import UnknownTopic, or_list

NO_SUCH_TOPIC = "There is no topic called"


class Refused(Exception):
    """A request turned down; `str()` is the one line that says why and what to do."""

    @classmethod
    def from_value_error(cls, exc: ValueError) -> Refused:
        return cls(value_error_text(exc))

    @classmethod
    def unknown_topic(cls, exc: UnknownTopic, lead: str = NO_SUCH_TOPIC) -> Refused:
        return cls(unknown_topic_text(exc, lead))


def value_error_text(exc: ValueError) -> str:
    """A core validation message as a user-facing sentence (first letter up only:
    `Europe/Berlin` and `IANA` keep their spelling). Core messages quote what the user
    typed, so the whole line is markdown-escaped."""
    text = escape_markdown(str(exc), keep_urls=False, minimal=True)
    return text[:1].upper() + text[1:]


def unknown_topic_text(exc: UnknownTopic, lead: str = NO_SUCH_TOPIC) -> str:
    """What was typed and the closest names: `lead “x”. Did you mean **A** or **B**?`"""
    text = f"{lead} “{safe_inline(exc.typed, 60)}”."
    if exc.suggestions:
        names = [safe_inline(name, 100) for name in exc.suggestions]
        text += f" Did you mean {or_list(names, '**{}**')}?"
    return f"{text} `/topics` lists them all."
