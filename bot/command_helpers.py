"""Option parsing and autocomplete shared by the cogs."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.core.ingest import topic_key
from bot.core.models import Topic
from bot.core.subscriptions import parse_post_time, parse_timezone, timezone_choices
from bot.core.topics import find_topic, suggest_topics
from bot.errors import UserError

if TYPE_CHECKING:
    from bot.client import PaperBot

MAX_CHOICES = 25


def paperbot(interaction: discord.Interaction) -> PaperBot:
    return interaction.client  # type: ignore[return-value]


def choice(name: str, value: str) -> app_commands.Choice[str]:
    return app_commands.Choice(name=name[:100] or value[:100], value=value[:100])


async def topic_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Topics (built-in and this server's own) closest to what was typed; at most 25."""
    topics = await paperbot(interaction).taxonomy(interaction.guild_id)
    # A comma-separated list autocompletes its last item, keeping the earlier ones.
    head, _, last = current.rpartition(",")
    prefix = f"{head}," if head else ""
    picked = suggest_topics(topics, last.strip(), limit=MAX_CHOICES) if last.strip() else topics
    return [
        choice(
            f"{prefix}{t.name}" if not prefix else f"{prefix}{topic_key(t)}",
            f"{prefix}{topic_key(t)}",
        )
        for t in picked[:MAX_CHOICES]
    ]


async def timezone_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return [choice(z, z) for z in timezone_choices(current, MAX_CHOICES)]


def resolve_topic(topics: list[Topic], text: str) -> Topic:
    """A topic by key, slug, or a close name; UserError naming `/topics` otherwise."""
    wanted = text.strip()
    for topic in topics:
        if wanted in (topic_key(topic), topic.slug):
            return topic
    guess = find_topic(topics, wanted)
    if guess is None:
        raise UserError(f"There is no topic called “{wanted[:50]}”. `/topics` lists them all.")
    return guess


def resolve_topics(topics: list[Topic], text: str | None) -> tuple[str, ...]:
    if not text or not text.strip():
        return ()
    keys = [topic_key(resolve_topic(topics, part)) for part in text.split(",") if part.strip()]
    return tuple(dict.fromkeys(keys))


def post_time_option(text: str) -> str:
    try:
        return parse_post_time(text)
    except ValueError as exc:
        raise UserError.from_value_error(exc) from None


def timezone_option(text: str) -> str:
    try:
        return parse_timezone(text)
    except ValueError as exc:
        raise UserError.from_value_error(exc) from None


def discord_time(moment: dt.datetime | None) -> str:
    """A timestamp each reader sees in their own time zone."""
    if moment is None:
        return "not scheduled"
    return f"<t:{int(moment.timestamp())}:f> (<t:{int(moment.timestamp())}:R>)"
