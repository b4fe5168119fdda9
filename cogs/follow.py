"""/follow, /unfollow, /following, /delivery: a member's own papers, by DM."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.render import safe_inline
from bot.core.subscriptions import Follow
from bot.core.topic_lookup import find_exact, key_of, topic_key
from bot.core.topics import parse_keyword_list, validate_topic
from bot.discord_app.command_helpers import (
    choice,
    discord_time,
    paperbot,
    post_time_option,
    resolve_topic,
    timezone_autocomplete,
    timezone_option,
    topic_autocomplete,
    zone_shown,
)
from bot.discord_app.errors import UserError
from bot.discord_app.replies import reply_text

MAX_FOLLOWS = 25
MAX_KEYWORD_CHARS = 100


def keyword_value(text: str) -> str:
    """The stored form of a keyword follow: its validated words and phrases, casefolded,
    so `"Self-Supervised"` and `self-supervised` are one follow (and one `/unfollow`).
    Raises UserError with the reason a keyword can't be matched."""
    text = " ".join(text.split())
    if not text or len(text) > MAX_KEYWORD_CHARS:
        raise UserError(f"A keyword must be 1–{MAX_KEYWORD_CHARS} characters.")
    try:
        words, phrases = parse_keyword_list(text)
        if not (words or phrases):
            raise ValueError("that keyword has no letters or digits to match")
        # The same rules as a server topic's keywords: no one-letter words, no `a*`.
        checked = validate_topic("keyword", text, words, phrases)
    except ValueError as exc:
        raise UserError.from_value_error(exc) from None
    quoted = [f'"{p}"' if any(c in p for c in ",;") else p for p in checked.phrases]
    return ", ".join([*checked.keywords, *quoted]).casefold()


def _label(follow: Follow, names: dict[str, str]) -> str:
    # Keywords and a server's topic names are typed by people: escaped.
    if follow.kind == "keyword":
        return f"keyword “{safe_inline(follow.value, MAX_KEYWORD_CHARS + 20)}”"
    # A follow left over from a removed topic shows its slug, never its stored key.
    name = names.get(key_of(follow.value, follow.guild_id), follow.value)
    return f"topic {safe_inline(name, 120)}"


async def _followed(
    interaction: discord.Interaction, current: str, kind: str
) -> list[app_commands.Choice[str]]:
    user = await paperbot(interaction).storage.user_delivery(interaction.user.id)
    needle = current.casefold()
    values = [f.value for f in (user.follows if user else ()) if f.kind == kind]
    return [choice(v, v) for v in values if needle in v.casefold()][:25]


async def _followed_topics(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The member's followed topics by name (they may come from several servers)."""
    bot = paperbot(interaction)
    user = await bot.storage.user_delivery(interaction.user.id)
    topics = await bot.services.topics.followed_topics(user.follows) if user else []
    needle = current.casefold()
    return [
        choice(t.name, topic_key(t))
        for t in topics
        if needle in t.name.casefold() or needle in t.slug
    ][:25]


async def _followed_keywords(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return await _followed(interaction, current, "keyword")


class FollowCog(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    async def _follow_from_options(
        self, interaction: discord.Interaction, topic: str | None, keyword: str | None
    ) -> Follow:
        if (topic is None) == (keyword is None):
            raise UserError("Give either a `topic` or a `keyword` (one of them).")
        if topic is not None:
            found = resolve_topic(
                await paperbot(interaction).services.topics.taxonomy(interaction.guild_id), topic
            )
            return Follow("topic", found.slug, found.guild_id or 0)
        return Follow("keyword", keyword_value(keyword or ""))

    @app_commands.command(name="follow")
    @app_commands.describe(
        topic="A topic to follow (see /topics)",
        keyword='A word or phrase to watch for, e.g. diffusion or "state space model"',
    )
    @app_commands.autocomplete(topic=topic_autocomplete)
    async def follow(
        self, interaction: discord.Interaction, topic: str | None = None, keyword: str | None = None
    ) -> None:
        """Get the day's papers on a topic or keyword by DM."""
        bot = paperbot(interaction)
        follow = await self._follow_from_options(interaction, topic, keyword)
        current = await bot.storage.user_delivery(interaction.user.id)
        if current and len(current.follows) >= MAX_FOLLOWS:
            raise UserError(f"You follow {MAX_FOLLOWS} things already; `/unfollow` some first.")
        added = await bot.storage.add_follow(interaction.user.id, follow)
        await bot.services.schedules.rebuild()
        user = await bot.storage.user_delivery(interaction.user.id)
        names = await bot.services.topics.topic_names(interaction.guild_id)
        what = _label(follow, names)
        when = f"{user.post_time} {await zone_shown(user.timezone)}" if user else "08:00 UTC"
        text = (
            f"✅ Following {what}. Matching papers arrive by DM daily at {when} "
            "(change it with `/delivery`)."
            if added
            else f"You already follow {what}."
        )
        await reply_text(interaction, text)

    @app_commands.command(name="unfollow")
    @app_commands.describe(topic="A topic you follow", keyword="A keyword you follow")
    @app_commands.autocomplete(topic=_followed_topics, keyword=_followed_keywords)
    async def unfollow(
        self, interaction: discord.Interaction, topic: str | None = None, keyword: str | None = None
    ) -> None:
        """Stop following a topic or keyword."""
        bot = paperbot(interaction)
        if (topic is None) == (keyword is None):
            raise UserError("Give either a `topic` or a `keyword` (one of them).")
        kind, value = ("topic", topic) if topic is not None else ("keyword", keyword or "")
        removed = False
        if kind == "keyword":
            value = " ".join(value.split()).casefold()
            removed = await bot.storage.remove_follow(interaction.user.id, kind, value)
        if not removed and kind == "keyword":
            try:
                canonical = keyword_value(value)
            except UserError:
                canonical = value
            if canonical != value:
                removed = await bot.storage.remove_follow(interaction.user.id, kind, canonical)
        if kind == "topic":
            removed = await self._unfollow_topic(interaction, value)
        if not removed:
            raise UserError(f"You don't follow that {kind}. `/following` lists what you do.")
        await bot.services.schedules.rebuild()
        await reply_text(interaction, f"Unfollowed that {kind}.")

    async def _unfollow_topic(self, interaction: discord.Interaction, text: str) -> bool:
        """Unfollow the followed topic `text` names: its key, slug or name, as everywhere."""
        bot = paperbot(interaction)
        user = await bot.storage.user_delivery(interaction.user.id)
        follows = user.follows if user else ()
        followed = await bot.services.topics.followed_topics(follows)
        found = find_exact(followed, text)
        if found is not None:
            return await bot.storage.remove_follow(
                interaction.user.id, "topic", found.slug, found.guild_id or 0
            )
        # A follow that outlived its topic (removed while being followed) goes by slug.
        live = {topic_key(t) for t in followed}
        for follow in follows:
            stale = follow.kind == "topic" and key_of(follow.value, follow.guild_id) not in live
            if stale and follow.value == text.strip().casefold():
                return await bot.storage.remove_follow(
                    interaction.user.id, "topic", follow.value, follow.guild_id
                )
        if (
            followed
            and find_exact(await bot.services.topics.taxonomy(interaction.guild_id), text) is None
        ):
            resolve_topic(followed, text)  # names no topic: did they mean one they follow?
        return False

    @app_commands.command(name="following")
    async def following(self, interaction: discord.Interaction) -> None:
        """What you follow and when your DM arrives."""
        bot = paperbot(interaction)
        user = await bot.storage.user_delivery(interaction.user.id)
        if user is None or not user.follows:
            await reply_text(
                interaction,
                'You follow nothing yet. Try `/follow topic:` or `/follow keyword:"diffusion"`.',
            )
            return
        names = {
            topic_key(t): t.name for t in await bot.services.topics.followed_topics(user.follows)
        }
        lines = [f"• {_label(f, names)}" for f in user.follows]
        lines.append(
            f"DM daily at {user.post_time} {await zone_shown(user.timezone)}; next "
            f"{discord_time(bot.services.schedules.next_run(user.target))}."
        )
        if user.dm_closed:
            lines.append(
                "⚠️ Your DMs are closed to me, so nothing is being sent. Open them and "
                "run `/delivery` again."
            )
        await reply_text(interaction, "\n".join(lines)[:2000])

    @app_commands.command(name="delivery")
    @app_commands.describe(
        time="Local time of day, e.g. 07:45",
        timezone="A city, country or zone, e.g. New York, India, PST or Europe/Berlin",
    )
    @app_commands.autocomplete(timezone=timezone_autocomplete)
    async def delivery(self, interaction: discord.Interaction, time: str, timezone: str) -> None:
        """Set when your daily DM arrives."""
        bot = paperbot(interaction)
        post_time, where = post_time_option(time), await timezone_option(timezone)
        await bot.storage.set_user_delivery(interaction.user.id, post_time, where.zone)
        await bot.services.schedules.rebuild()
        target = f"user:{interaction.user.id}"
        user = await bot.storage.user_delivery(interaction.user.id)
        note = "" if user and user.follows else " You don't follow anything yet: try `/follow`."
        await reply_text(
            interaction,
            f"🕗 Your papers arrive daily at {post_time} {where.label}; next "
            f"{discord_time(bot.services.schedules.next_run(target))}.{where.aside}{note}",
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(FollowCog(bot))
