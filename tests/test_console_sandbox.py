"""The console is a sandbox: `paperbot console`, and the console a token-less
`paperbot run` falls back to, never read or write the configured database; with an
explicit `--db` they use its papers but deliver nothing and record nothing. A
token-less `run` with nothing to read fails, so a service manager notices."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from bot.core.ingest import ingest_bytes
from storage import open_storage
from tests.cli_process import clean_environment, one_line, paperbot, rows, write_env
from tests.conftest import TODAY
from tests.forked_cli import start_cli
from tests.reliability.botproc import just_passed, subscribe_channels
from tests.reliability.dumps import sample_pairs

GUILD = 81_000_000_000_000_000
# Channels the real bot posts to; in the console's fake Discord they do not exist, so
# a scheduler run there would fail each post (404) and count it toward pausing.
CHANNELS = [GUILD + n for n in range(1, 4)]


async def production_database(db: Path) -> None:
    """A real bot's database: 3 papers from a dump of its own and 3 channel digests
    due a minute ago (the next catch-up sweep would post them)."""
    page = "new\n\nMar 10\n\n" + "\n\n".join(f"{t}\n\n{a}" for t, a in sample_pairs()[:3])
    storage = await open_storage(db)
    try:
        report = await ingest_bytes(storage, page.encode(), "2026-03-10.txt", today=TODAY)
        assert report.new == 3, report.error
    finally:
        await storage.close()
    await subscribe_channels(db, GUILD, CHANNELS, just_passed())


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every row the bot keeps about papers and Discord, to compare before and after."""
    tables = [
        "papers",
        "dumps",
        "channel_subscriptions",
        "user_follows",
        "user_delivery",
        "guild_topics",
        "deliveries",
        "meta",
    ]
    return {table: sorted(rows(db, f"SELECT * FROM {table}"), key=repr) for table in tables}


def console_session(cwd: Path, args: list[str], commands: str, linger: float, **env: str):
    """Run a console that reads `commands`, then stays open `linger` seconds (long
    enough for a scheduler's first catch-up sweep) before its input ends."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = start_cli(
            args,
            cwd=cwd,
            env=clean_environment(**env),
            stdin=subprocess.PIPE,
            stdout=out.fileno(),
            stderr=err.fileno(),
        )
        try:
            assert proc.stdin is not None
            proc.stdin.write(commands.encode())
            proc.stdin.flush()
            time.sleep(linger)
            proc.stdin.close()
            code = proc.wait(timeout=120)
        finally:
            proc.kill()
        out.seek(0)
        err.seek(0)
        return code, out.read().decode(), err.read().decode()


@pytest.mark.parametrize("configured_in", ["environment", ".env"])
async def test_tokenless_run_never_touches_the_configured_database(
    tmp_path, configured_in: str
) -> None:
    prod = tmp_path / "prod.db"
    await production_database(prod)
    before = snapshot(prod)
    env = {"DISCORD_TOKEN": ""}
    if configured_in == ".env":
        write_env(tmp_path, PAPERBOT_DB="prod.db")
    else:
        env["PAPERBOT_DB"] = str(prod)
    code, out, err = console_session(tmp_path, ["run"], "/search query:protein\n", 3, **env)
    assert code == 0, err
    assert snapshot(prod) == before  # no sample papers, no failed posts, no hash, nothing
    assert "Long-context Protein Language Model" in out  # the bundled sample, not prod's
    assert "no DISCORD_TOKEN" in err and "throwaway database" in err


@pytest.mark.parametrize("configured_in", ["environment", ".env"])
async def test_console_never_opens_the_configured_database(tmp_path, configured_in: str) -> None:
    prod = tmp_path / "prod.db"
    await production_database(prod)
    before = snapshot(prod)
    env = {}
    if configured_in == ".env":
        write_env(tmp_path, PAPERBOT_DB="prod.db")
    else:
        env["PAPERBOT_DB"] = str(prod)
    code, out, err = console_session(
        tmp_path,
        ["console"],
        "/digest subscribe channel:#papers time:08:00 timezone:UTC\n/digest now channel:#papers\n",
        1,
        **env,
    )
    assert code == 0, err
    assert "── posted in #papers ──" in out
    assert snapshot(prod) == before


async def test_console_with_db_uses_its_papers_and_records_no_delivery(tmp_path) -> None:
    prod = tmp_path / "prod.db"
    await production_database(prod)
    before = snapshot(prod)
    title = sample_pairs()[0][0]
    commands = (
        "/search query:rewrite caption semantics\n"
        "/digest subscribe channel:#papers time:08:00 timezone:UTC\n"
        "/digest now channel:#papers\n"
        "/follow topic:llm\n"
    )
    code, out, err = console_session(tmp_path, ["console", "--db", "prod.db"], commands, 3)
    assert code == 0, err
    # Its due subscriptions were not run, the sample was not added, and what the
    # console did (a subscription, a posted digest, a follow) was not recorded.
    assert snapshot(prod) == before
    search, posted = out.split("── posted in #papers ──")
    assert title in search  # the database's own papers
    assert "Tue 10 Mar 2026" in posted  # its day, not the sample's 14 March


def test_console_with_a_db_that_is_not_there_creates_nothing(tmp_path) -> None:
    done = paperbot(tmp_path, "console", "--db", "typo.db", stdin="/topics\n")
    assert done.returncode == 1
    assert one_line(done.stderr) == "paperbot: no database at typo.db; run `paperbot ingest` first"
    assert list(tmp_path.iterdir()) == []


def test_tokenless_run_with_no_input_fails_for_the_service_manager(tmp_path) -> None:
    for stdin in (None, "", "\n# nothing to do\n"):  # /dev/null, empty pipe, no command
        done = paperbot(tmp_path, "run", stdin=stdin, DISCORD_TOKEN="")
        assert done.returncode == 1, done.stderr
        line = one_line(done.stderr)
        assert line.startswith("paperbot: no DISCORD_TOKEN is set") and ".env" in line
        assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []  # no console was started, no database made


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_ends_the_interactive_console_at_once(tmp_path) -> None:
    leader, follower = os.openpty()  # a terminal, as when a person types
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "console", "--no-sample"],
        cwd=tmp_path,
        env=clean_environment(),
        stdin=follower,
        stdout=follower,
        stderr=follower,
        # Ctrl-C as a person's terminal delivers it. A test run started as a background
        # job of a non-interactive shell (`.ci/run &`) has SIGINT ignored, and an
        # ignored disposition survives exec: the console would never see the signal.
        preexec_fn=_default_sigint,
    )
    os.close(follower)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while b"paperbot> " not in seen and time.monotonic() < deadline:
            seen += os.read(leader, 65536)
        assert b"paperbot> " in seen, seen
        proc.send_signal(signal.SIGINT)  # Ctrl-C while it waits for a line
        # The defect was waiting for Enter forever; closing the bot and the fake takes
        # ~0.1 s alone, but seconds while the reliability scenarios load both cores.
        code = proc.wait(timeout=45)
        try:
            while chunk := os.read(leader, 65536):
                seen += chunk
        except OSError:  # the terminal closed with the process
            pass
    finally:
        proc.kill()
        os.close(leader)
    text = seen.decode(errors="replace")
    assert code == 130, text
    assert "paperbot: interrupted" in text
    assert "Traceback" not in text and "CancelledError" not in text


async def test_removing_a_topic_in_a_console_on_a_database_cleans_both_stores(tmp_path) -> None:
    from bot.cli.console_storage import SplitStorage
    from bot.core.models import Topic
    from bot.core.subscriptions import ChannelSubscription, Follow

    prod = tmp_path / "prod.db"
    await production_database(prod)
    before = snapshot(prod)
    papers, state = await open_storage(prod), await open_storage(tmp_path / "console.db")
    storage = SplitStorage(papers, state)
    guild, channel, user = GUILD + 10, GUILD + 11, GUILD + 12
    try:
        await storage.upsert_guild_topic(Topic("grasping", "Grasping", ("grasp",), (), guild))
        await storage.add_follow(user, Follow("topic", "grasping", guild))
        topics = (f"{guild}:grasping", "robotics")
        await storage.upsert_channel_subscription(
            ChannelSubscription(channel, guild, "08:00", "UTC", topics, 5)
        )
        assert await storage.topic_followers(guild, "grasping") == [user]
        removal = await storage.delete_guild_topic(guild, "grasping")
        assert removal is not None and removal.followers == (user,)
        assert [d.topics for d in removal.digests] == [("robotics",)]
        assert await storage.guild_topics(guild) == []
        assert await state.topic_followers(guild, "grasping") == []
        assert (await state.channel_subscription(channel)).topics == ("robotics",)
        assert await storage.delete_guild_topic(guild, "grasping") is None
    finally:
        await storage.close()
    after = snapshot(prod)
    assert after["channel_subscriptions"] == before["channel_subscriptions"]
    assert after["user_follows"] == before["user_follows"] == []
