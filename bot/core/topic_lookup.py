"""Which topic a user means: the one resolver behind every command that takes a topic,
and beside it the one ranking of topics for autocomplete and "did you mean".

`/search`, `/follow`, `/unfollow`, `/digest subscribe`, `/topic remove` and the CLI's
``--topic`` / ``--topics`` all come here, so they accept the same text and fail the
same way. A topic is named by its key (what autocomplete sends), its slug or its name,
ignoring case and extra spaces. Nothing is guessed: text that names no topic exactly is
an `UnknownTopic` carrying the closest topic *names*, for a "did you mean …?" answer,
because silently picking a different topic would search, follow or filter on something
the user never asked for.

Keys: a built-in topic is stored on papers under its slug, a server's own topic under
``<guild id>:<slug>``. Keys are storage identifiers, never display text; `topic_label`
turns one into what a message may show.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from rapidfuzz import fuzz, process, utils

from bot.core.models import Topic
from bot.core.text import unquoted

MAX_SUGGESTIONS = 3
SUGGEST_CUTOFF = 70.0  # rapidfuzz WRatio: below this a "did you mean" is noise
REMOVED_TOPIC = "a removed topic"
_KEY = re.compile(r"\d+:(?P<slug>[-a-z0-9]{1,32})")


def topic_key(topic: Topic) -> str:
    """Built-in topics are stored as their slug; a guild's own as `<guild id>:<slug>`."""
    return key_of(topic.slug, topic.guild_id)


def key_of(slug: str, guild_id: int | None) -> str:
    """The key for a slug and its server (None or 0, as follows store it: built-in)."""
    return f"{guild_id}:{slug}" if guild_id else slug


def is_guild_key(key: str) -> bool:
    """Whether a stored topic key belongs to a server's own topic (slugs have no colon)."""
    return ":" in key


def topic_label(key: str, names: Mapping[str, str]) -> str | None:
    """What a message shows for a stored key: the topic's name; the slug of a built-in
    that has none; None for a server topic this taxonomy does not have (another
    server's, or one since removed), whose key must never be shown."""
    name = names.get(key)
    if name:
        return name
    return None if is_guild_key(key) else key


class UnknownTopic(ValueError):
    """No topic is named `typed`; `suggestions` are the names of the closest ones."""

    def __init__(self, typed: str, suggestions: Sequence[str] = ()) -> None:
        self.typed = typed
        self.suggestions = tuple(suggestions)
        hint = f"; did you mean {or_list(suggestions)}?" if suggestions else ""
        super().__init__(f"no topic called “{typed}”{hint}")


def or_list(items: Sequence[str], quote: str = "“{}”") -> str:
    """``“A”``, ``“A” or “B”``, ``“A”, “B” or “C”``."""
    shown = [quote.format(item) for item in items]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def find_exact(taxonomy: Iterable[Topic], text: str) -> Topic | None:
    """The topic whose key, slug or name is `text` (case and spacing ignored), else None.

    Keys first, then slugs, then names, each in taxonomy order (built-ins first), so a
    server topic can never shadow a built-in one. Quotes typed around the text (Discord's
    box keeps them) are not part of it, unless a topic is named with them.
    """
    topics = list(taxonomy)
    for wanted in dict.fromkeys((_fold(text), _fold(unquoted(text)))):
        if not wanted:
            continue
        for field in (topic_key, lambda t: t.slug, lambda t: t.name):
            for topic in topics:
                if _fold(field(topic)) == wanted:
                    return topic
    return None


def resolve_topic(taxonomy: Sequence[Topic], text: str) -> Topic:
    """The topic `text` names exactly; `UnknownTopic` with suggestions otherwise."""
    found = find_exact(taxonomy, text)
    if found is not None:
        return found
    typed = " ".join(unquoted(text).split())
    # A key no longer (or never) in this taxonomy, such as an autocomplete value picked
    # just before its topic was removed: echo its slug, never the key.
    key = _KEY.fullmatch(typed)
    if key:
        typed = key["slug"]
    raise UnknownTopic(typed, _suggestions(taxonomy, typed))


def resolve_topic_list(taxonomy: Sequence[Topic], text: str | None) -> tuple[Topic, ...]:
    """The topics a comma-separated list names, in order, without repeats.

    A name may itself hold a comma ("Chemistry, biology & materials"), so runs of items
    are tried longest first: an item stands alone only when no longer run containing
    it names a topic. The first item that names nothing raises `UnknownTopic`.
    """
    parts = (text or "").split(",")
    found: dict[str, Topic] = {}
    start = 0
    while start < len(parts):
        if not parts[start].strip():
            start += 1
            continue
        for end in range(len(parts), start, -1):
            topic = find_exact(taxonomy, ",".join(parts[start:end]))
            if topic is not None:
                found.setdefault(topic_key(topic), topic)
                start = end
                break
        else:
            resolve_topic(taxonomy, parts[start])  # raises, with suggestions
            raise AssertionError("resolve_topic found what find_exact did not")
    return tuple(found.values())


def _suggestions(taxonomy: Sequence[Topic], typed: str) -> list[str]:
    if not typed:
        return []
    near = suggest_topics(taxonomy, typed, limit=MAX_SUGGESTIONS, score_cutoff=SUGGEST_CUTOFF)
    return list(dict.fromkeys(topic.name for topic in near))


def _choices(topics: Sequence[Topic]) -> list[str]:
    # Slugs first, then names; an index i maps back to topics[i % len(topics)].
    return [t.slug for t in topics] + [t.name for t in topics]


def suggest_topics(
    topics: Sequence[Topic], text: str, limit: int = 25, score_cutoff: float = 60.0
) -> list[Topic]:
    """Autocomplete candidates (and "did you mean" hints), best first; every topic (in
    order) for empty input. Never a lookup: `resolve_topic` resolves exactly."""
    topics = list(topics)
    if not text.strip():
        return topics[:limit]
    ranked = process.extract(
        text,
        _choices(topics),
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        score_cutoff=score_cutoff,
        limit=None,
    )
    out: list[Topic] = []
    seen: set[int] = set()
    for _, _, index in ranked:
        index %= len(topics)
        if index not in seen:
            seen.add(index)
            out.append(topics[index])
            if len(out) == limit:
                break
    return out
