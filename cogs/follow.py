"""/follow, /unfollow, /following, /delivery: a member's own papers, by DM."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.limits import MAX_CHOICES
from bot.core.render import safe_inline
from bot.core.subscriptions import MAX_KEYWORD_CHARS, Follow, FollowKind
from bot.core.topic_lookup import key_of
from bot.discord_app.command_helpers import (
    author_autocomplete,
    choice,
    discord_time,
    paperbot,
    post_time_option,
    timezone_autocomplete,
    timezone_option,
    topic_autocomplete,
    topic_choices,
    zone_shown,
)
from bot.discord_app.replies import reply_text


def _label(follow: Follow, names: dict[str, str]) -> str:
    # Keywords and a server's topic names are typed by people: escaped.
    if follow.kind == FollowKind.KEYWORD:
        return f"keyword “{safe_inline(follow.value, MAX_KEYWORD_CHARS + 20)}”"
    if follow.kind == FollowKind.AUTHOR:
        return f"author {safe_inline(follow.label or follow.value, 120)}"
    # A follow left over from a removed topic shows its slug, never its stored key.
    name = names.get(key_of(follow.value, follow.guild_id), follow.value)
    return f"topic {safe_inline(name, 120)}"


async def _followed_topics(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The member's followed topics by name (they may come from several servers)."""
    topics = await paperbot(interaction).services.follows.followed_topics(interaction.user.id)
    return topic_choices(topics, current, mark_own=False)


async def _followed_keywords(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    values = await paperbot(interaction).services.follows.followed_keywords(interaction.user.id)
    needle = current.casefold()
    return [choice(v, v) for v in values if needle in v.casefold()][:MAX_CHOICES]


async def _followed_authors(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    found = await paperbot(interaction).services.follows.followed_authors(interaction.user.id)
    needle = current.casefold()
    names = [f.label or f.value for f in found]
    return [choice(n, n) for n in names if needle in n.casefold()][:MAX_CHOICES]


class FollowCog(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="follow")
    @app_commands.describe(
        topic="A topic to follow (see /topics)",
        keyword='A word or phrase to watch for, e.g. diffusion or "state space model"',
        author="An author whose new papers you want (start typing to pick one)",
    )
    @app_commands.autocomplete(topic=topic_autocomplete, author=author_autocomplete)
    async def follow(
        self,
        interaction: discord.Interaction,
        topic: str | None = None,
        keyword: str | None = None,
        author: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """Get the day's papers on a topic or keyword, or by an author, by DM."""
        follows = paperbot(interaction).services.follows
        done = await follows.follow(
            interaction.user.id, interaction.guild_id, topic=topic, keyword=keyword, author=author
        )
        what = _label(done.follow, done.topic_names)
        user = done.user
        when = (
            f"{user.post_time} {await zone_shown(interaction, user.timezone)}"
            if user
            else "08:00 UTC"
        )
        text = (
            f"✅ Following {what}. Matching papers arrive by DM daily at {when} "
            "(change it with `/delivery`)."
            if done.added
            else f"You already follow {what}."
        )
        await reply_text(interaction, text)

    @app_commands.command(name="unfollow")
    @app_commands.describe(
        topic="A topic you follow", keyword="A keyword you follow", author="An author you follow"
    )
    @app_commands.autocomplete(
        topic=_followed_topics, keyword=_followed_keywords, author=_followed_authors
    )
    async def unfollow(
        self,
        interaction: discord.Interaction,
        topic: str | None = None,
        keyword: str | None = None,
        author: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """Stop following a topic, keyword or author."""
        follows = paperbot(interaction).services.follows
        kind = await follows.unfollow(
            interaction.user.id, interaction.guild_id, topic=topic, keyword=keyword, author=author
        )
        await reply_text(interaction, f"Unfollowed that {kind}.")

    @app_commands.command(name="following")
    async def following(self, interaction: discord.Interaction) -> None:
        """What you follow and when your DM arrives."""
        found = await paperbot(interaction).services.follows.following(interaction.user.id)
        if found is None:
            await reply_text(
                interaction,
                'You follow nothing yet. Try `/follow topic:` or `/follow keyword:"diffusion"`.',
            )
            return
        user = found.user
        lines = [f"• {_label(f, found.topic_names)}" for f in user.follows]
        lines.append(
            f"DM daily at {user.post_time} {await zone_shown(interaction, user.timezone)}; next "
            f"{discord_time(found.next_run)}."
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
        follows = paperbot(interaction).services.follows
        post_time = post_time_option(time)
        where = await timezone_option(interaction, timezone)
        user, next_run = await follows.set_delivery(interaction.user.id, post_time, where.zone)
        note = "" if user and user.follows else " You don't follow anything yet: try `/follow`."
        await reply_text(
            interaction,
            f"🕗 Your papers arrive daily at {post_time} {where.label}; next "
            f"{discord_time(next_run)}.{where.aside}{note}",
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(FollowCog(bot))
