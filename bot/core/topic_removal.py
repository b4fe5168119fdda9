"""What `/topic remove` says: the question before a used topic goes, the answer after,
and the one DM each follower gets. Pure text from plain data; the cog sends it.

Every digest and follower is described by what they will *receive*, with topic names
(escaped: they are admins' text), never a stored key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core.markdown import escape_markdown, truncate
from bot.core.models import Topic
from bot.core.render import one_line, topic_display_names
from bot.core.subscriptions import ChannelSubscription
from bot.core.topic_lookup import REMOVED_TOPIC, topic_key

MESSAGE_CHARS = 2000
_NAME_CHARS = 100


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"


def _name(text: str) -> str:
    return truncate(escape_markdown(one_line(text), keep_urls=False), _NAME_CHARS)


def _remaining(sub: ChannelSubscription, removed_key: str, names: Mapping[str, str]) -> list[str]:
    keys = [k for k in sub.topics if k != removed_key]
    return [_name(n) for n in topic_display_names(keys, names, REMOVED_TOPIC)]


def _digest_line(
    sub: ChannelSubscription, removed_key: str, names: Mapping[str, str], *, done: bool
) -> str:
    left = _remaining(sub, removed_key, names)
    if not left:
        verb = "now gets" if done else "would get"
        return f"• <#{sub.channel_id}> {verb} every paper: it has no other topic."
    verb = "now gets" if done else "would keep"
    return f"• <#{sub.channel_id}> {verb} only {', '.join(left)}."


def _fit(head: list[str], items: list[str], tail: list[str], what: str) -> str:
    """`head`, as many `items` as fit in one message, a count of the rest, then `tail`;
    never a line cut in half (a cut `<#id>` would show as raw text)."""
    size = sum(len(line) + 1 for line in head + tail)
    kept: list[str] = []
    for index, line in enumerate(items):
        rest = len(items) - index
        note = len(f"…and {rest} more {what}") + 1 if rest > 1 else 0
        if size + len(line) + 1 + note > MESSAGE_CHARS:
            kept.append(f"…and {rest} more {what}")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(head + kept + tail)[:MESSAGE_CHARS]


def removal_question(
    topic: Topic,
    digests: Sequence[ChannelSubscription],
    followers: int,
    names: Mapping[str, str],
) -> str:
    """The confirmation asked before removing a topic that digests or follows use."""
    uses = []
    if digests:
        uses.append(f"used by {_plural(len(digests), 'digest')}")
    if followers:
        uses.append(f"followed by {_plural(followers, 'member')}")
    name = _name(topic.name)
    key = topic_key(topic)
    head = [f"**{name}** is {' and '.join(uses)}. If you remove it:"]
    lines = [_digest_line(sub, key, names, done=False) for sub in digests]
    tail = []
    if followers:
        whom = "its follower gets" if followers == 1 else f"each of its {followers} followers gets"
        tail.append(f"• {whom} one DM saying it was removed.")
    tail.append(f"Remove **{name}**?")
    return _fit(head, lines, tail, "digests")


def removal_result(
    topic: Topic,
    digests: Sequence[ChannelSubscription],
    told: int,
    not_told: int,
    names: Mapping[str, str],
) -> str:
    """What changed: each digest's filter as it is now, and who was told."""
    head = [f"Removed the topic **{_name(topic.name)}**."]
    # `digests` hold their filters after the removal: nothing is left to subtract.
    lines = [_digest_line(sub, "", names, done=True) for sub in digests]
    tail = []
    followers = told + not_told
    if followers and not not_told:
        tail.append(
            "Told its follower by DM." if told == 1 else f"Told its {followers} followers by DM."
        )
    elif followers:
        tail.append(
            f"Told {told} of its {followers} followers by DM; "
            f"{not_told} couldn't be reached (closed DMs or a Discord error)."
        )
    return _fit(head, lines, tail, "digests")


def follower_notice(topic: Topic, server: str) -> str:
    """The one DM a follower gets when a server removes a topic they followed."""
    return (
        f"The topic **{_name(topic.name)}** was removed by the admins of **{_name(server)}**, "
        "so you no longer follow it. `/following` shows what you still follow."
    )
