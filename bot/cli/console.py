"""`paperbot console`: every slash command, offline, with replies rendered as text.

It runs the real bot and cogs against the same loopback fake Discord the tests use, in
a little server with a #papers channel where you are an admin. With stdin not a
terminal it reads one command per line and exits at end of input, so it can be
scripted: `printf '/search query:protein\\n' | paperbot console`.

The console is a sandbox. Its database is a throwaway one unless `--db PATH` names
one, and even then only PATH's papers are used: subscriptions, follows and delivery
records made in the console stay in a throwaway database. No scheduler runs (no digest
goes out by itself, no dump folder is watched), and nothing reads the configured
settings, so the console can never post to, or record against, the real bot's data.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sqlite3
import sys
import tempfile
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from bot.cli.console_actions import ActionError, Actions
from bot.cli.console_input import ConsoleInput
from bot.cli.console_storage import open_console_storage
from bot.cli.errors import CliError, failure_line
from bot.cli.settings import Settings
from bot.core.ingest import ingest_bytes
from bot.discord_app.wiring import make_bot
from bot.fakediscord import MANAGE_GUILD, FakeDiscord, render_message_text, running_bot
from storage.urls import redact

SAMPLE_DUMP = Path(__file__).resolve().parents[1] / "data" / "sample_dump.txt"
CHANNEL, ATTACHMENT, INTEGER, NUMBER, BOOLEAN = 7, 11, 4, 10, 5
SUBCOMMAND, SUBCOMMAND_GROUP = 1, 2  # Discord's option types for a subcommand (group)
# Names discord.py gives the tasks running the bot's code: command invocations, event
# handlers and view callbacks (a button may answer, then edit its message again).
BOT_TASK_PREFIXES = ("CommandTree-invoker", "discord.py: ", "discord-ui-")
SETTLE_SECONDS = 30.0
SHORTCUTS = {"next": "press next", "prev": "press previous", "previous": "press previous"}

INTRO = """paperbot console: slash commands against an offline Discord. You are an admin of a
server with #papers and #general. Examples:
  /search query:protein          /search query:"speech recognition" topic:speech-audio
  /paper title:loramoe           /topics            /digest preview
  /digest subscribe channel:#papers time:08:00 timezone:Europe/Berlin
  /digest now channel:#papers    /follow topic:speech-audio     /status   /help
After a reply with buttons or a menu (listed under it after →): `press LABEL` presses a
button (`press Remove`, `press next`), `pick N` or `pick TEXT` picks from the menu;
`next`, `prev` and `open N` for short. `threads` lists the discussion threads (`/discuss`,
`/digest subscribe … thread:paper`) with their messages. `quit` or end of input exits."""


class ConsoleError(Exception):
    """A line the console could not turn into a command."""


class Console:
    def __init__(self, fake: FakeDiscord, out: TextIO, debug: bool = False) -> None:
        self.fake, self.out, self.debug = fake, out, debug
        self.guild = fake.add_guild("paperbot console")
        self.channels = {name: fake.add_channel(self.guild, name) for name in ("papers", "general")}
        self.user = fake.add_member(self.guild, "you", permissions=MANAGE_GUILD)
        self.last: Any = None
        # The last reply with a menu: `pick` still reaches a list's menu after a paper
        # opened from it (whose own buttons are what `press` acts on now).
        self.last_menu: Any = None
        self._seen: dict[int, int] = {}
        self._dms_seen = 0

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def handle(self, line: str) -> bool:
        """Run one line; False means quit."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        if line in ("quit", "exit", "/quit", "/exit"):
            return False
        if line == "threads":
            self.say(self.threads_text())
            return True
        try:
            if line.startswith("/"):
                reply = await self.run_command(line)
            else:
                reply = await self.component(line)
        except (ConsoleError, ActionError) as exc:
            self.say(f"! {exc}")
            return True
        except (ValueError, LookupError, TimeoutError, PermissionError) as exc:
            self.say(f"! {exc}")
            return True
        except Exception as exc:  # a bug: one line, and the console carries on
            if self.debug:
                traceback.print_exception(exc, file=sys.stderr)
            self.say(f"! {failure_line(exc)} (`paperbot console --debug` shows the traceback)")
            return True
        await _settle()
        self.show(reply, pressed=not line.startswith("/"))
        return True

    def _became_last(self, message: dict[str, Any]) -> None:
        """A posted digest or DM is what `press` acts on next; with a paper menu it is
        also the list `pick` goes back to after a paper opened from it."""
        self.last = message
        if Actions.of(message).options:
            self.last_menu = message

    def show(self, reply: Any, *, pressed: bool = False) -> None:
        """Print a reply and whatever the bot posted meanwhile. The reply becomes the
        one `press` and `pick` act on, except a new message without components that a
        press or pick opened (a paper's abstract): the results stay pressable."""
        if reply is not None:
            if reply.choices is not None:
                self.say("\n".join(f"  {c['name']}" for c in reply.choices) or "  (no choices)")
            else:
                self.say(render_message_text(reply))
                for followup in reply.followups:
                    self.say(render_message_text(followup))
                self._show_actions(reply.message)
                if not (pressed and self._opened_aside(reply)):
                    self.last = reply
                if Actions.of(reply.message).options:
                    self.last_menu = reply
        # Anything the bot posted to a channel or sent you by DM meanwhile (/digest now,
        # a removed topic's notice to its followers).
        for name, channel_id in self.channels.items():
            posted = self.fake.channel_messages(channel_id, include_interaction_responses=False)
            for message in posted[self._seen.get(channel_id, 0) :]:
                self.say(f"── posted in #{name} ──\n{render_message_text(message)}")
                self._show_actions(message)
                self._became_last(message)
            self._seen[channel_id] = len(posted)
        dms = self.fake.dm_messages(self.user)
        for message in dms[self._dms_seen :]:
            self.say(f"── DM to you ──\n{render_message_text(message)}")
            self._show_actions(message)
            self._became_last(message)
        self._dms_seen = len(dms)

    def threads_text(self) -> str:
        """`threads`: every thread, under the channel it hangs off, with its messages."""
        names = {cid: name for name, cid in self.channels.items()}
        lines = []
        for thread in self.fake.threads():
            meta = thread["thread_metadata"]
            state = "archived" if meta["archived"] else "open"
            parent = names.get(int(thread["parent_id"]), thread["parent_id"])
            messages = self.fake.channel_messages(int(thread["id"]))
            lines.append(
                f"#{parent} › {thread['name']} ({state}, auto-archive after "
                f"{meta['auto_archive_duration']} min, {len(messages)} message"
                f"{'' if len(messages) == 1 else 's'})"
            )
            lines += [f"    {render_message_text(m)}" for m in messages]
        return "\n".join(lines) or "No threads yet."

    def _opened_aside(self, reply: Any) -> bool:
        """Whether a press answered with a new message that offers nothing to press."""
        before = self.last if isinstance(self.last, dict) else getattr(self.last, "message", None)
        message = reply.message
        if message is None or before is None or message.get("id") == before.get("id"):
            return False
        return Actions.of(message).line() == ""

    def _show_actions(self, message: dict[str, Any] | None) -> None:
        line = Actions.of(message).line()
        if line:
            self.say(line)

    async def run_command(self, line: str) -> Any:
        # Split at whitespace only: as in Discord's box, what is typed is the value,
        # quotes included, so `query:"state of the art"` searches the phrase (a shell's
        # quoting took the quotes off and searched the words).
        path, raw = _split_words(line[1:].split())
        if not path:
            raise ConsoleError("type a command, e.g. /search query:protein")
        name = " ".join(path)
        specs = self._option_specs(path)
        unknown = [key for key in raw if key not in specs]
        if unknown:
            raise ConsoleError(f"/{name} has no option {unknown[0]}{_listed(specs.values())}")
        options = {key: self._value(specs.get(key), value) for key, value in raw.items()}
        return await self.fake.invoke(
            self.guild, self.channels["general"], self.user, name, options, timeout=30
        )

    def _option_specs(self, path: list[str]) -> dict[str, dict[str, Any]]:
        commands = self.fake.registered_commands(None) + self.fake.registered_commands(self.guild)
        command = next((c for c in commands if c["name"] == path[0]), None)
        if command is None:
            known = ", ".join(sorted("/" + c["name"] for c in commands))
            raise ConsoleError(f"no command /{path[0]}; try one of: {known}")
        specs = command.get("options") or []
        for depth, part in enumerate(path[1:], start=1):
            here = "/" + " ".join(path[:depth])
            sub = next((o for o in specs if o["name"] == part), None)
            if sub is not None and sub["type"] not in (SUBCOMMAND, SUBCOMMAND_GROUP):
                # `/search query protein`: an option typed without its colon.
                raise ConsoleError(f"give {part} a value: {here} {part}:VALUE")
            if sub is None:
                raise ConsoleError(f"{here} has no subcommand {part}{_listed(specs)}")
            specs = sub.get("options") or []
        if any(spec["type"] in (SUBCOMMAND, SUBCOMMAND_GROUP) for spec in specs):
            raise ConsoleError(f"/{' '.join(path)} needs a subcommand{_listed(specs)}")
        return {spec["name"]: spec for spec in specs}

    def _value(self, spec: dict[str, Any] | None, value: str) -> Any:
        if spec is None:  # an option the command lacks: passed on as typed
            return value
        kind = spec["type"]
        if kind == CHANNEL:
            channel = self.channels.get(value.lstrip("#"))
            if channel is None:
                raise ConsoleError(f"no channel {value}; use #papers or #general")
            return channel
        if kind == ATTACHMENT:
            path = Path(value).expanduser()
            if not path.is_file():
                raise ConsoleError(f"no file {value}")
            return self.fake.add_attachment(path.name, path.read_bytes())
        if kind in (INTEGER, NUMBER):
            try:
                return int(value) if kind == INTEGER else float(value)
            except ValueError:
                raise ConsoleError(f"{spec['name']} must be a number") from None
        if kind == BOOLEAN:
            return value.lower() in ("1", "true", "yes", "on")
        return value

    async def component(self, line: str) -> Any:
        """`press LABEL`, `pick N`/`pick TEXT`, and the shortcuts `next`, `prev`, `open N`."""
        verb, _, rest = SHORTCUTS.get(line.casefold(), line).partition(" ")
        verb = "pick" if verb.casefold() == "open" else verb.casefold()
        if verb not in ("press", "pick"):
            raise ConsoleError(
                "commands start with /; after a reply: press LABEL, pick N "
                "(next, prev, open N for short)"
            )
        if self.last is None:
            raise ConsoleError("nothing to press yet; run a slash command first")
        message = self.last if isinstance(self.last, dict) else self.last.message
        actions = Actions.of(message)
        if verb == "press":
            button = actions.button(rest)
            return await self.fake.click(message, self.user, button["custom_id"])
        if not actions.options and self.last_menu is not None:
            menu = self.last_menu
            message = menu if isinstance(menu, dict) else menu.message
            actions = Actions.of(message)
        option = actions.option(rest)
        return await self.fake.select(message, self.user, option.menu["custom_id"], [option.value])


def _listed(specs: Iterable[dict[str, Any]]) -> str:
    """`; try: a, b, c` naming what a command offers, or `; it takes none`."""
    names = [spec["name"] for spec in specs]
    return f"; try: {', '.join(names)}" if names else "; it takes none"


def _split_words(words: list[str]) -> tuple[list[str], dict[str, str]]:
    """`digest subscribe channel:#x time:8` -> (["digest", "subscribe"], {...}).

    As in Discord's own box, an option's value runs until the next `name:`, so
    `/search query:language model` needs no quotes, and quotes typed stay in it."""
    path: list[str] = []
    options: dict[str, str] = {}
    current: str | None = None
    for word in words:
        name, colon, value = word.partition(":")
        if colon and name.isidentifier():
            current = name
            options[current] = value
        elif current is None:
            path.append(word)
        else:
            options[current] = f"{options[current]} {word}".strip()
    return path, options


async def run_console(
    db: str | None = None,
    *,
    ingest_sample: bool = True,
    stdin: TextIO | ConsoleInput | None = None,
    out: TextIO | None = None,
    debug: bool = False,
) -> int:
    """Run the console until `quit` or the end of input. `db`: a database whose papers
    to use (given explicitly by the user); None: a throwaway one, with the bundled
    sample dump in it unless `ingest_sample` is False."""
    lines = stdin if isinstance(stdin, ConsoleInput) else ConsoleInput(stdin or sys.stdin)
    out = out or sys.stdout
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="paperbot-")))
        stack.enter_context(_console_logging(debug))
        try:
            storage = await open_console_storage(db, folder)
        except (sqlite3.Error, OSError, ValueError, RuntimeError) as exc:
            raise CliError(f"cannot open database {redact(db or str(folder))}: {exc}") from None
        try:
            if db is not None:
                print(
                    f"(papers from {redact(db)}; subscriptions, follows and posts made here "
                    "are kept apart in a throwaway database)",
                    file=out,
                )
            if ingest_sample and db is None:  # never into the user's own database
                report = await ingest_bytes(
                    storage, SAMPLE_DUMP.read_bytes(), "sample_dump.txt", today=dt.date.today()
                )
                print(
                    f"(sample dump: {report.parsed} papers for {report.day}, {report.new} new)",
                    file=out,
                )
            settings = Settings(
                token="console",
                db=str(folder / "console.db"),
                dumps_dir=folder / "dumps",
                search_processes=0,  # one person types here: searches stay in-process
            )
            # No scheduler: nothing is delivered or ingested by itself in the console.
            bot = make_bot(settings=settings, storage=storage, start_scheduler=False)
            async with FakeDiscord() as fake, running_bot(fake, bot):
                # Jobs exist so replies can show the next run time, but the scheduler is
                # paused: no digest, sweep or dump-folder scan ever runs here.
                bot.services.schedules.scheduler.start(paused=True)
                await bot.services.schedules.rebuild()
                console = Console(fake, out, debug=debug)
                await asyncio.sleep(0.05)  # let the GUILD_CREATE for the new server land
                if lines.isatty():
                    print(INTRO, file=out)
                while line := await lines.readline():
                    if not await console.handle(line):
                        break
        finally:
            await storage.close()
    return 0


async def _settle() -> None:
    """Wait for the bot's own tasks still running after its reply: a button that answers
    "Removing…" and then edits in the result shows the result."""
    current = asyncio.current_task()
    running = [
        task
        for task in asyncio.all_tasks()
        if task is not current and not task.done() and task.get_name().startswith(BOT_TASK_PREFIXES)
    ]
    if running:
        await asyncio.wait(running, timeout=SETTLE_SECONDS)


@contextlib.contextmanager
def _console_logging(debug: bool) -> Iterator[None]:
    """The bot's warnings as single lines on stderr (with tracebacks only in debug):
    without a handler, Python would print every logged traceback to the user."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if not debug:
        handler.addFilter(_drop_traceback)
    ours = logging.getLogger("paperbot")  # discord.py's own loggers stay quiet
    old_level = ours.level
    ours.addHandler(handler)
    ours.setLevel(logging.DEBUG if debug else logging.WARNING)
    try:
        yield
    finally:
        ours.removeHandler(handler)
        ours.setLevel(old_level)


def _drop_traceback(record: logging.LogRecord) -> bool:
    if record.exc_info and record.exc_info[1] is not None:
        record.msg = f"{record.getMessage()}: {failure_line(record.exc_info[1])}"
        record.args, record.exc_info, record.exc_text = (), None, None
    return True
