"""/ingest, /status, /help: running paperbot from inside Discord."""

from __future__ import annotations

from pathlib import PurePath

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.ingest import MAX_DUMP_BYTES
from bot.core.markdown import escape_markdown
from bot.core.models import IngestReport
from bot.core.parse_text import BOILERPLATE
from bot.core.render import code_span
from bot.core.wording import already_stored_text, count_text, ingest_summary, plural
from bot.discord_app.checks import manage_guild_only
from bot.discord_app.command_helpers import digest_state, paperbot, zone_shown
from bot.discord_app.errors import UserError
from bot.discord_app.replies import reply, reply_text

SHOWN = 5  # skipped paragraphs and warnings listed in an /ingest reply
# What /status names for an extension that failed to load: its commands, not its module.
EXTENSION_COMMANDS = {
    "cogs.search": "/search, /paper, /topics",
    "cogs.digest": "/digest",
    "cogs.follow": "/follow, /unfollow, /following, /delivery",
    "cogs.topic_admin": "/topic",
    "cogs.operate": "/ingest, /status, /help",
    "cogs.discuss": "/discuss",
}

HELP = """**paperbot** — the day's research papers, where your community reads them.

**Everyone**
`/search query [topic] [since] [source] [author]` — search by keywords (`"a phrase"`,\
 `prefix*`), topic, source or author; page with the buttons, pick a paper to open it
`/paper title` — one paper in full
`/discuss paper` — the paper's discussion thread in this channel (started or found)
`/topics` — every topic, with the newest day's and all-time counts
`/follow topic|keyword|author` · `/unfollow` · `/following` — papers on what you follow, by DM
`/delivery time timezone` — when your DM arrives

**Your reading** (private to you)
Under a paper, or picked from a digest's or list's menu: 👍 more like this · 👎 less ·\
 🔖 save · More like this, each with Undo
`/foryou [day]` — your picks among a day's papers, each saying why
`/related paper` — the papers most like one paper (shown to the channel)
`/saved list` · `/saved export` — your saved papers; export sends a BibTeX file
`/mute keyword|topic|author` · `/unmute` · `/mutes` — hide papers from your DMs and /foryou
`/forget-me` — delete everything stored about you (asks first)

**Manage Server**
`/digest subscribe channel time timezone [topics] [max] [thread] [order]` — a daily digest in a\
 channel; `thread: digest` or `paper` starts discussion threads; `order: dump` keeps the\
 dump's order (default: most upvoted first)
`/digest list` · `/digest preview` · `/digest now` · `/digest unsubscribe`
`/digest pause` · `/digest resume` — stop a channel's digest for a while, and restart it
`/topic add name keywords` · `/topic remove name` — this server's own topics
`/ingest file` — ingest an uploaded dump
`/status` — last ingest, next posts, paused digests"""


def report_text(report: IngestReport) -> str:
    # The file name and the dump's own text (quoted in warnings) are not ours: escaped.
    if report.error:
        return f"❌ {escape_markdown(report.error, minimal=True)}"
    if report.already_ingested:
        # Only the operator's `paperbot ingest --redate` moves a stored dump.
        return f"This dump was {already_stored_text(report)}."
    lines = ["✅ " + ingest_summary(report, f"**{report.day}**")]
    # Page chrome (`Subscribe`, ...) is skipped in every copied page: not worth a line.
    skipped = [s for s in report.skipped if s.reason != BOILERPLATE]
    lines += [f"• skipped line {s.line}: {s.reason}" for s in skipped[:SHOWN]]
    lines += [f"• {escape_markdown(w, minimal=True)}" for w in report.warnings[:SHOWN]]
    hidden = max(0, len(skipped) - SHOWN) + max(0, len(report.warnings) - SHOWN)
    if hidden > 0:
        lines.append(f"• …and {count_text(hidden)} more")
    return fit_lines(lines, [])


def fit_lines(
    head: list[str], tail: list[str], what: str = "more line", limit: int = 2000, after: str = ""
) -> str:
    """`head` lines, then as many `tail` lines as fit in `limit` characters, then a note
    of how many were left out ("…and 3 more digests" for ``what="more digest"``, then
    ``after``); never a line cut in half (a cut `<#id>` or `<t:...>` would show as raw
    text)."""
    lines = [line[:limit] for line in head]
    size = sum(len(line) + 1 for line in lines)

    def left_out(count: int) -> str:
        note = f"…and {plural(count, what)}"
        return f"{note} {after}" if after else note

    for index, line in enumerate(tail):
        left = len(tail) - index
        note = left_out(left - 1) if left > 1 else ""
        if size + len(line) + 1 + len(note) + 1 > limit:
            lines.append(left_out(left))
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)[:limit]


def source_name(source: object) -> str:
    name = PurePath(str(source or "")).name or "?"
    return name[-60:].replace("`", "'")  # shown in a code span: only ` would break it


class OperateCog(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="ingest")
    @app_commands.describe(file="A Daily Papers page saved as .txt, or the daily_papers API JSON")
    @manage_guild_only()
    async def ingest(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        """Ingest an uploaded daily dump and show its health report."""
        bot = paperbot(interaction)
        allowed = bot.settings.ingest_guild_ids
        if allowed and interaction.guild_id not in allowed:
            raise UserError(
                "Papers here are shared by every server this bot serves, so its operator "
                "has limited /ingest to their own server."
            )
        if file.size > MAX_DUMP_BYTES:
            raise UserError(f"{code_span(file.filename, 80)} is too large for a daily dump.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            raw = await file.read()
        except discord.HTTPException as exc:
            raise UserError(
                f"Couldn't download {code_span(file.filename, 80)} ({exc.status}); try again."
            ) from None
        report = await bot.services.ingest_job.ingest_upload(raw, file.filename)
        await reply_text(interaction, report_text(report))

    @app_commands.command(name="status")
    async def status(self, interaction: discord.Interaction) -> None:
        """The last ingest, this server's next posts, and anything failing."""
        bot = paperbot(interaction)
        status = await bot.services.status.status(interaction.guild_id)
        stats = status.stats
        lines = [
            f"**paperbot {bot.version}** · {plural(stats['papers'], 'paper')} over "
            + plural(stats["days"], "day")
        ]
        r = status.last_ingest
        if r is not None:
            lines.append(
                # The file name only: a DUMPS_DIR path is the server's business.
                f"Last ingest: **{r.get('day')}** from `{source_name(r.get('source'))}` — "
                f"{count_text(r.get('parsed', 0))} parsed, {count_text(r.get('new', 0))} new, "
                f"{count_text(r.get('merged', 0))} merged"
                + (f", {plural(len(r['warnings']), 'warning')}" if r.get("warnings") else "")
            )
        else:
            lines.append("No dump ingested yet.")
        if bot.failed_extensions:
            missing = [EXTENSION_COMMANDS.get(e, e) for e in bot.failed_extensions]
            lines.append("⚠️ These commands failed to load: " + "; ".join(missing))
        digests: list[str] = []
        if interaction.guild_id:
            for sub, next_run in ((d.sub, d.next_run) for d in status.digests):
                state = digest_state(sub, next_run)
                zone = await zone_shown(interaction, sub.timezone)  # as /digest list shows it
                digests.append(f"<#{sub.channel_id}> at {sub.post_time} {zone}: {state}")
            if not status.digests:
                lines.append("No digests in this server (`/digest subscribe`).")
        text = fit_lines(lines, digests, "more digest", after="(`/digest list`)")
        await reply(interaction, {"content": text}, ephemeral=True)

    @app_commands.command(name="help")
    async def help(self, interaction: discord.Interaction) -> None:
        """What paperbot can do."""
        await reply_text(interaction, HELP)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(OperateCog(bot))
