"""The tests' forked `paperbot` (tests/forked_cli.py) behaves as a fresh interpreter does:
the same output, exit status, working directory, environment and stdin; a command left
running ends on a signal as a Popen's process does."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from tests.cli_process import clean_environment, write_env
from tests.conftest import SAMPLE_DUMP
from tests.forked_cli import ForkedCommand, _server, fresh_cli, run_cli, start_cli


def fresh(args: list[str], cwd, env: dict[str, str], stdin: str | None = "") -> tuple:
    done = fresh_cli(args, cwd, env, stdin)
    return done.returncode, done.stdout, done.stderr


def forked(args: list[str], cwd, env: dict[str, str], stdin: str | None = "") -> tuple:
    done = run_cli(args, cwd=cwd, env=env, input=stdin)
    return done.returncode, done.stdout, done.stderr


def test_commands_answer_as_a_fresh_interpreter_does(tmp_path) -> None:
    # The database comes from a `.env` in the working directory, a setting from the
    # environment, the console's commands from stdin.
    write_env(tmp_path, PAPERBOT_DB=str(tmp_path / "env.db"))
    env = clean_environment(LOG_LEVEL="warning")
    ingested = forked(["ingest", str(SAMPLE_DUMP), "--date", "2026-03-14"], tmp_path, env)
    assert ingested[0] == 0 and "98 new" in ingested[1], ingested
    cases = [
        (["search", "diffusion", "--limit", "3"], ""),
        (["stats", "--json"], ""),
        (["search", "--since", "yesterday", "x"], ""),  # a usage error: exit 2
        (["nosuch"], None),
        (["console"], "/status\n/quit\n"),
    ]
    for args, stdin in cases:
        assert forked(args, tmp_path, env, stdin) == fresh(args, tmp_path, env, stdin), args


def test_each_fork_draws_its_own_random_ids(tmp_path) -> None:
    """A console session's buttons carry an id drawn at random: each forked command draws
    its own, as separate interpreters do, and otherwise answers alike."""
    env = clean_environment(PAPERBOT_DB=str(tmp_path / "p.db"))
    script = "/search query:protein\n/quit\n"
    first, second = (forked(["console"], tmp_path, env, script) for _ in range(2))
    assert first[0] == second[0] == 0, first[2]
    ids = [set(re.findall(r"pb:sr:([0-9a-f]+):", done[1])) for done in (first, second)]
    assert all(len(found) == 1 for found in ids) and ids[0] != ids[1], ids
    assert re.sub(r"pb:sr:[0-9a-f]+:", "", first[1]) == re.sub(r"pb:sr:[0-9a-f]+:", "", second[1])


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        found += [int(entry)] if parent == pid else []
    return found


def test_a_command_killed_by_a_signal_reports_it_as_popen_does(tmp_path) -> None:
    """`ingest` of a named pipe waits for a writer; the command is killed from outside,
    and its status is -SIGKILL, as subprocess.run reports it."""
    fifo = tmp_path / "dump.txt"
    os.mkfifo(fifo)
    server = _server().process.pid
    killed: list[int] = []

    def kill_the_command() -> None:
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            for pid in children_of(server):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.05)

    threading.Thread(target=kill_the_command, daemon=True).start()
    args = ["ingest", str(fifo), "--db", str(tmp_path / "p.db")]
    done = _server().run(args, str(tmp_path), dict(os.environ), "", 120)  # never fresh
    assert killed and done.returncode == -signal.SIGKILL


def test_a_command_past_its_timeout_is_killed(tmp_path) -> None:
    fifo = tmp_path / "dump.txt"
    os.mkfifo(fifo)
    args = ["ingest", str(fifo), "--db", str(tmp_path / "p.db")]
    with pytest.raises(subprocess.TimeoutExpired):
        run_cli(args, cwd=tmp_path, timeout=1)
    assert children_of(_server().process.pid) == []  # killed and reaped


def test_a_started_command_writes_where_it_is_told_and_exits_with_its_status(tmp_path) -> None:
    db = str(tmp_path / "p.db")
    assert run_cli(["ingest", str(SAMPLE_DUMP), "--db", db], cwd=tmp_path).returncode == 0
    expected = run_cli(["stats", "--db", db], cwd=tmp_path).stdout
    with (tmp_path / "out.txt").open("wb") as out:
        command = start_cli(["stats", "--db", db], cwd=tmp_path, stdout=out.fileno())
        assert command.wait(timeout=60) == 0
    assert (tmp_path / "out.txt").read_text() == expected
    assert command.stderr is not None and command.stderr.read() == b""


def test_a_started_command_is_stopped_by_its_signals(tmp_path) -> None:
    """A command waiting on a named pipe: SIGTERM and SIGKILL end it, as they end a
    Popen's process, and an event loop can wait for it."""
    fifo = tmp_path / "dump.txt"
    os.mkfifo(fifo)
    args = ["ingest", str(fifo), "--db", str(tmp_path / "p.db")]
    for stop, status in ((ForkedCommand.terminate, -signal.SIGTERM), (ForkedCommand.kill, -9)):
        # The server itself, not start_cli: PAPERBOT_TEST_FRESH_PROCESSES=1 would give a Popen.
        environ = dict(os.environ)
        command = _server().start(args, str(tmp_path), environ, subprocess.DEVNULL, subprocess.PIPE)
        with pytest.raises(subprocess.TimeoutExpired):
            command.wait(timeout=0.5)  # still waiting for a writer
        assert command.poll() is None
        stop(command)
        assert asyncio.run(asyncio.wait_for(command.wait_async(), 30)) == status
        assert command.returncode == status
    assert children_of(_server().process.pid) == []


def test_a_command_dies_with_its_fork_server(tmp_path) -> None:
    """A test run killed mid-way takes its fork servers with it: their commands, a bot
    among them, must not run on, orphaned."""
    fifo = tmp_path / "dump.txt"
    os.mkfifo(fifo)
    args = ["ingest", str(fifo), "--db", str(tmp_path / "p.db")]
    server = _server()
    command = server.start(
        args, str(tmp_path), dict(os.environ), subprocess.DEVNULL, subprocess.PIPE
    )
    with pytest.raises(subprocess.TimeoutExpired):
        command.wait(timeout=0.5)  # waiting for a writer
    server.process.kill()
    server.process.wait()
    deadline = time.monotonic() + 30
    while alive(command.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(command.pid)
    assert _server() is not server  # the next command gets a new server


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting to be reaped has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
