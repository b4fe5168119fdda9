"""Option parsing and autocomplete shared by the cogs."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands

from bot.core.limits import MAX_CHOICE_NAME, MAX_CHOICE_VALUE, MAX_CHOICES
from bot.core.markdown import truncate
from bot.core.models import Topic
from bot.core.render import one_line
from bot.core.subscriptions import ChannelSubscription, parse_post_time
from bot.core.topic_lookup import UnknownTopic, resolve_topic_list, suggest_topics, topic_key
from bot.core.topic_lookup import resolve_topic as find_topic_exactly
from bot.core.wording import plural
from bot.discord_app.errors import UserError
from bot.discord_app.replies import answer_soon
from bot.services.refusals import unknown_topic_text
from bot.services.timezones import ZoneMatch, resolve_zone, zone_choices, zone_label

if TYPE_CHECKING:
    from bot.discord_app.client import PaperBot


def paperbot(interaction: discord.Interaction) -> PaperBot:
    return cast("PaperBot", interaction.client)  # every command is PaperBot's


def choice(name: str, value: str) -> app_commands.Choice[str]:
    return app_commands.Choice(name=name[:100] or value[:100], value=value[:100])


def topic_choices(
    topics: Sequence[Topic],
    typed: str,
    *,
    value: Callable[[Topic], str] = topic_key,
    mark_own: bool = True,
) -> list[app_commands.Choice[str]]:
    """Autocomplete for one topic: the closest to what was typed (every topic, in order,
    when nothing is), ranked by the one topic ranking beside the resolver. Values are
    keys unless `value` says otherwise; names are what the member reads, never a key,
    with "(this server)" after a server's own topic when `mark_own`."""
    found = suggest_topics(topics, typed[:MAX_CHOICE_NAME], limit=MAX_CHOICES)
    return [
        app_commands.Choice(name=_topic_label(topic, mark_own), value=value(topic))
        for topic in found[:MAX_CHOICES]
    ]


def _topic_label(topic: Topic, mark_own: bool) -> str:
    name = one_line(topic.name) or topic.slug
    if mark_own and topic.guild_id is not None:
        name += " (this server)"
    return truncate(name, MAX_CHOICE_NAME)


async def topic_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """One topic, built-in or this server's own (/search, /follow)."""
    topics = await paperbot(interaction).services.topics.taxonomy(interaction.guild_id)
    return topic_choices(topics, current)


async def topic_list_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """A comma-separated list of topics (/digest subscribe): completes its last item and
    keeps the earlier ones; at most 25."""
    topics = await paperbot(interaction).services.topics.taxonomy(interaction.guild_id)
    head, _, last = current.rpartition(",")
    picked = suggest_topics(topics, last.strip(), limit=MAX_CHOICES) if last.strip() else topics
    earlier: tuple[Topic, ...] = ()
    if head.strip():
        try:
            earlier = resolve_topic_list(topics, head)
        except UnknownTopic:
            return []  # an earlier item names nothing: submitting will say which
    keys = [topic_key(t) for t in earlier]
    names = [one_line(t.name) for t in earlier]
    choices = []
    for topic in picked[:MAX_CHOICES]:
        value = ",".join([*keys, topic_key(topic)])
        if len(value) <= MAX_CHOICE_VALUE:  # a cut value would name other topics
            choices.append(choice(", ".join([*names, one_line(topic.name)]), value))
    return choices


# Time-zone lookups run in a worker thread: the first one reads the tables of every city
# (about a second), which must not stall the event loop. After that they take a few ms.


async def timezone_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Zones for the city, country, abbreviation or IANA name typed; values are zones."""
    found = await asyncio.to_thread(zone_choices, current, MAX_CHOICES)
    return [choice(name, zone) for name, zone in found]


def topic_not_found(exc: UnknownTopic) -> UserError:
    """The reply for a topic that names nothing: what was typed, the closest names."""
    return UserError(unknown_topic_text(exc))


def resolve_topic(topics: Sequence[Topic], text: str) -> Topic:
    """The topic an option names (key, slug or name, exactly); UserError otherwise."""
    try:
        return find_topic_exactly(topics, text)
    except UnknownTopic as exc:
        raise topic_not_found(exc) from None


def post_time_option(text: str) -> str:
    try:
        return parse_post_time(text)
    except ValueError as exc:
        raise UserError.from_value_error(exc) from None


async def timezone_option(interaction: discord.Interaction, text: str) -> ZoneMatch:
    """The zone a command's `timezone` option means. The first lookup in a process
    builds the zone index (about a second of CPU, more on a loaded machine): the
    interaction is deferred then, ephemerally as the commands taking a zone answer, so
    it does not expire."""
    lookup = asyncio.to_thread(resolve_zone, text)
    try:
        return await answer_soon(interaction, lookup, ephemeral=True)
    except ValueError as exc:
        raise UserError.from_value_error(exc) from None


async def zone_shown(interaction: discord.Interaction, zone: str) -> str:
    """A stored zone as replies show it: `Asia/Kolkata (India)`. The first label in a
    process builds the zone index, as `timezone_option` does: on a loaded machine that
    can outlast Discord's 3 seconds, so the interaction is deferred (ephemerally, as
    every reply naming a zone is) when the label is slow."""
    return await answer_soon(interaction, asyncio.to_thread(zone_label, zone), ephemeral=True)


def discord_time(moment: dt.datetime | None) -> str:
    """A timestamp each reader sees in their own time zone."""
    if moment is None:
        return "not scheduled"
    return f"<t:{int(moment.timestamp())}:f> (<t:{int(moment.timestamp())}:R>)"


def digest_state(sub: ChannelSubscription, next_run: dt.datetime | None) -> str:
    """A channel digest's state as `/digest list` and `/status` show it."""
    if sub.paused_by_failures:
        error = f": {sub.last_error}" if sub.last_error else ""
        return (
            f"⏸️ paused after {plural(sub.failures, 'failure')}{error}. Fix my permissions "
            "there, then `/digest resume`"
        )
    if sub.paused:
        return "⏸️ paused; `/digest resume` restarts it"
    state = f"next {discord_time(next_run)}"
    if sub.failures:
        state += f" (⚠️ {plural(sub.failures, 'recent failure')})"
    return state


async def author_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Stored authors for what is typed (/mute author, /follow author)."""
    found = await paperbot(interaction).services.relevance.author_choices(current[:200])
    return [
        choice(f"{a.name} ({plural(a.papers, 'paper')})", a.name[:MAX_CHOICE_VALUE]) for a in found
    ][:MAX_CHOICES]
