"""The tests' forked `paperbot` (tests/forked_cli.py) behaves as a fresh interpreter does:
the same output, exit status, working directory, environment and stdin."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time

import pytest

from tests.cli_process import clean_environment, write_env
from tests.conftest import SAMPLE_DUMP
from tests.forked_cli import _server, fresh_cli, run_cli


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
    done = run_cli(["ingest", str(fifo), "--db", str(tmp_path / "p.db")], cwd=tmp_path)
    assert killed and done.returncode == -signal.SIGKILL


def test_a_command_past_its_timeout_is_killed(tmp_path) -> None:
    fifo = tmp_path / "dump.txt"
    os.mkfifo(fifo)
    args = ["ingest", str(fifo), "--db", str(tmp_path / "p.db")]
    with pytest.raises(subprocess.TimeoutExpired):
        run_cli(args, cwd=tmp_path, timeout=1)
    assert children_of(_server().process.pid) == []  # killed and reaped
