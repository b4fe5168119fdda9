"""The bot process of `paperbot bench --burst`: the PaperBot `paperbot run` builds (same
`make_bot`, same endpoint settings), in a process of its own, against the fake Discord
the benchmark runs. The benchmark talks to it through stdin (one command a line) and
stdout (one JSON object a line):

- `cpu`: CPU seconds of the event loop's thread and of the whole process so far;
- `fanout <channel id> ...`: every one of these channels' digests due at once (what the
  scheduler does at a shared post time), answered when all are posted;
- `dms <user id> ...`: the same for these members' DMs (`paperbot bench --relevance`);
- `unranked`: members' DMs list every paper matching a follow, not ranked by a model;
- `profile on` / `profile off <path>`: cProfile over the event loop's thread (its CPU
  time), its hotspots written to the path and the raw statistics beside it (.pstats);
- `quit`: close the bot and exit.

    python -m bench.burst_bot DB API_BASE GATEWAY_URL DAY [SEARCH_PROCESSES]
"""

from __future__ import annotations

import asyncio
import cProfile
import datetime as dt
import io
import json
import pstats
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bot.cli import event_loop
from bot.cli.runner import use_discord_endpoints
from bot.cli.settings import Settings
from bot.discord_app.client import PaperBot
from bot.discord_app.wiring import make_bot
from bot.services.freed_memory import return_large_blocks
from storage import open_storage

READY_TIMEOUT = 120.0


def _say(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def _read_stdin(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str]) -> None:
    """In a thread: stdin's lines into the loop's queue ("quit" at end of input)."""
    for line in sys.stdin:
        loop.call_soon_threadsafe(lines.put_nowait, line.strip())
    loop.call_soon_threadsafe(lines.put_nowait, "quit")


def _hotspots(profiler: cProfile.Profile) -> str:
    text = io.StringIO()
    for order in ("tottime", "cumulative"):
        text.write(f"==== event loop thread: top 40 by {order} ====\n")
        pstats.Stats(profiler, stream=text).strip_dirs().sort_stats(order).print_stats(40)
    return text.getvalue()


async def _fanout(bot: PaperBot, targets: list[str], now: dt.datetime) -> None:
    started = time.perf_counter()
    await asyncio.gather(*(bot.services.schedules.fire(target, now) for target in targets))
    _say({"fanout_done_s": round(time.perf_counter() - started, 3)})


async def serve(
    db: str, api_base: str, gateway_url: str, day: dt.date, search_processes: int = 0
) -> int:
    now = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    with tempfile.TemporaryDirectory(prefix="paperbot-burst-dumps-") as dumps:
        settings = Settings(
            token="x",
            db=db,
            dumps_dir=Path(dumps),
            discord_api_base=api_base,
            discord_gateway_url=gateway_url,
            search_processes=search_processes,
        )
        use_discord_endpoints(settings)
        storage = await open_storage(db)
        bot = make_bot(settings=settings, storage=storage, start_scheduler=False, clock=lambda: now)
        task = asyncio.create_task(bot.start(settings.token))
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while not bot.is_ready():
                if task.done():
                    task.result()
                    return 1
                if time.monotonic() > deadline:
                    raise TimeoutError("the bot was not ready in time")
                await asyncio.sleep(0.05)
            _say({"ready": True})
            await _commands(bot, now)
        finally:
            await bot.close()
            await storage.close()
            task.cancel()
    return 0


async def _commands(bot: PaperBot, now: dt.datetime) -> None:
    lines: asyncio.Queue[str] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    threading.Thread(target=_read_stdin, args=(loop, lines), daemon=True).start()
    profiler: cProfile.Profile | None = None
    running: set[asyncio.Task[None]] = set()
    while (line := await lines.get()) != "quit":
        command, *rest = line.split()
        if command == "cpu":  # runs on the loop's thread: thread_time is the loop's CPU
            _say({"loop_cpu_s": time.thread_time(), "process_cpu_s": time.process_time()})
        elif command in ("fanout", "dms"):
            kind = "channel" if command == "fanout" else "user"
            targets = [f"{kind}:{int(ident)}" for ident in rest]
            fanout = asyncio.create_task(_fanout(bot, targets, now))
            running.add(fanout)
            fanout.add_done_callback(running.discard)
            _say({"fanout_started": True})
        elif command == "unranked":
            bot.services.delivery.ranker = None
            _say({"unranked": True})
        elif command == "profile" and rest[0] == "on":
            # The loop thread's CPU time, not the wall clock: waits for the GIL (held by
            # the bot's other threads) would otherwise count as the calls' own time.
            profiler = cProfile.Profile(time.thread_time)
            profiler.enable()
            _say({"profiling": True})
        elif command == "profile" and profiler is not None:
            profiler.disable()
            Path(rest[1]).write_text(_hotspots(profiler), encoding="utf-8")
            profiler.dump_stats(Path(rest[1]).with_suffix(".pstats"))  # for pstats' callers
            _say({"profile": rest[1]})
        else:
            _say({"error": f"unknown command {line!r}"})


def main(argv: list[str]) -> int:
    db, api_base, gateway_url, day, *processes = argv
    search_processes = int(processes[0]) if processes else 0
    return_large_blocks()  # as every `paperbot` command does
    # On the loop `paperbot run` serves on (uvloop where installed).
    return event_loop.run(
        serve(db, api_base, gateway_url, dt.date.fromisoformat(day), search_processes)
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
