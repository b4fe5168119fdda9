"""/ingest, /status, /help: running paperbot from inside Discord."""

from __future__ import annotations

from pathlib import PurePath

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_helpers import discord_time, paperbot
from bot.core.ingest import MAX_DUMP_BYTES, ingest_bytes, ingest_taxonomy
from bot.core.models import IngestReport
from bot.errors import UserError
from bot.replies import reply, reply_text

BOILERPLATE = "page boilerplate"  # the reason parse_text gives for skipped page chrome
SHOWN = 5  # skipped paragraphs and warnings listed in an /ingest reply

HELP = """**paperbot** — the day's research papers, where your community reads them.

**Everyone**
`/search query [topic] [since]` — keyword or topic search; page with the buttons,\
 pick a paper for its abstract
`/paper title` — one paper in full
`/topics` — every topic, with today's and all-time counts
`/follow topic|keyword` · `/unfollow` · `/following` — papers on what you follow, by DM
`/delivery time timezone` — when your DM arrives

**Manage Server**
`/digest subscribe channel time timezone [topics] [max]` — a daily digest in a channel
`/digest list` · `/digest preview` · `/digest now` · `/digest unsubscribe`
`/topic add name keywords` · `/topic remove name` — this server's own topics
`/ingest file` — ingest an uploaded dump
`/status` — last ingest, next posts, failing digests"""


def report_text(report: IngestReport) -> str:
    if report.error:
        return f"❌ {report.error}"
    if report.already_ingested:
        return f"This dump ({report.day}) was ingested before; nothing changed."
    lines = [
        f"✅ **{report.day}** ({report.day_source}, {report.format}): {report.parsed} papers — "
        f"{report.new} new, {report.known} already known, {report.merged} merged as "
        "near-duplicates"
    ]
    # Page chrome (`Subscribe`, ...) is skipped in every copied page: not worth a line.
    skipped = [s for s in report.skipped if s.reason != BOILERPLATE]
    lines += [f"• skipped line {s.line}: {s.reason}" for s in skipped[:SHOWN]]
    lines += [f"• {w}" for w in report.warnings[:SHOWN]]
    hidden = max(0, len(skipped) - SHOWN) + max(0, len(report.warnings) - SHOWN)
    if hidden > 0:
        lines.append(f"• …and {hidden} more")
    return fit_lines(lines, [])


def fit_lines(head: list[str], tail: list[str], what: str = "more", limit: int = 2000) -> str:
    """`head` lines, then as many `tail` lines as fit in `limit` characters, then a note
    of how many were left out; never a line cut in half (a cut `<#id>` or `<t:...>`
    would show as raw text)."""
    lines = [line[:limit] for line in head]
    size = sum(len(line) + 1 for line in lines)
    for index, line in enumerate(tail):
        left = len(tail) - index
        note = f"…and {left - 1} {what}" if left > 1 else ""
        if size + len(line) + 1 + len(note) + 1 > limit:
            lines.append(f"…and {left} {what}")
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)[:limit]


def source_name(source: object) -> str:
    name = PurePath(str(source or "")).name or "?"
    return name[-60:].replace("`", "'")  # shown in a code span: only ` would break it


def _manage_guild_only(interaction: discord.Interaction) -> bool:
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    if not interaction.permissions.manage_guild:
        raise app_commands.MissingPermissions(["manage_guild"])
    return True


class OperateCog(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="ingest")
    @app_commands.describe(file="A Daily Papers page saved as .txt, or the daily_papers API JSON")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(_manage_guild_only)
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
            raise UserError(f"{file.filename} is too large for a daily dump.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            raw = await file.read()
        except discord.HTTPException as exc:
            raise UserError(
                f"Couldn't download {file.filename} ({exc.status}); try again."
            ) from None
        report = await ingest_bytes(
            bot.storage,
            raw,
            file.filename,
            today=bot.clock().date(),
            topics=await ingest_taxonomy(bot.storage),
        )
        await reply_text(interaction, report_text(report))

    @app_commands.command(name="status")
    async def status(self, interaction: discord.Interaction) -> None:
        """The last ingest, this server's next posts, and anything failing."""
        bot = paperbot(interaction)
        stats = await bot.storage.stats()
        days = stats["days"]
        lines = [
            f"**paperbot {bot.version}** · {stats['papers']} papers over {days} "
            + ("day" if days == 1 else "days")
        ]
        last = await bot.storage.last_ingests(1)
        if last:
            r = last[0]
            lines.append(
                # The file name only: a DUMPS_DIR path is the server's business.
                f"Last ingest: **{r.get('day')}** from `{source_name(r.get('source'))}` — "
                f"{r.get('parsed', 0)} parsed, {r.get('new', 0)} new, {r.get('merged', 0)} merged"
                + (f", {len(r.get('warnings', []))} warnings" if r.get("warnings") else "")
            )
        else:
            lines.append("No dump ingested yet.")
        if bot.failed_extensions:
            lines.append("⚠️ Not loaded: " + ", ".join(bot.failed_extensions))
        digests: list[str] = []
        if interaction.guild_id:
            subs = await bot.storage.channel_subscriptions(interaction.guild_id)
            for sub in subs:
                state = (
                    f"⏸️ paused after {sub.failures} failures: {sub.last_error}"
                    if sub.paused
                    else f"next {discord_time(bot.schedules.next_run(sub.target))}"
                    + (f" (⚠️ {sub.failures} recent failures)" if sub.failures else "")
                )
                digests.append(f"<#{sub.channel_id}> at {sub.post_time} {sub.timezone}: {state}")
            if not subs:
                lines.append("No digests in this server (`/digest subscribe`).")
        text = fit_lines(lines, digests, "more digests (`/digest list`)")
        await reply(interaction, {"content": text}, ephemeral=True)

    @app_commands.command(name="help")
    async def help(self, interaction: discord.Interaction) -> None:
        """What paperbot can do."""
        await reply_text(interaction, HELP)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(OperateCog(bot))
