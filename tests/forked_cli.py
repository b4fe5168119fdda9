"""Run `python -m bot.cli ARGS`, forked from a process that has already imported paperbot.

Why: a `paperbot` process spends half a second of CPU (a second for `paperbot run`)
importing numpy, the search index, the relevance engine and discord.py before it does
anything, and the suite starts several hundred of them on two cores. Each worker of the
test run starts one fork server (`python -m tests.forked_cli SOCKET`) that imports those
modules once; every command is then a fresh fork of it, with its own process, working
directory, environment, stdin, stdout, stderr and exit status, running `bot.cli`'s
`__main__` exactly as `python -m bot.cli` would. Only the import is shared.

`run_cli` runs a command to its end. `start_cli` starts one and leaves it running, for
the scenarios that read its progress, run the bot, or kill it part-way: a SIGKILL ends
a fork as it ends any process.

Set PAPERBOT_TEST_FRESH_PROCESSES=1 to start every command as a new interpreter instead.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import gc
import json
import locale
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
FRESH = os.environ.get("PAPERBOT_TEST_FRESH_PROCESSES") == "1"
# One request, its environment included, fits in one packet of a SOCK_SEQPACKET socket.
MAX_REQUEST = 1 << 20
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def run_cli(
    args: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = "",
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`python -m bot.cli ARGS` to its end, like `subprocess.run(..., capture_output=True,
    text=True)`. stdin is a pipe holding `input`, or /dev/null when it is None."""
    environ = dict(os.environ if env is None else env)
    if FRESH:
        return fresh_cli(args, cwd, environ, input, timeout)
    return _server().run(list(args), str(cwd or os.getcwd()), environ, input, timeout)


def fresh_cli(
    args: Sequence[str],
    cwd: Path | str | None,
    env: Mapping[str, str],
    input: str | None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`run_cli` in a new interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env=env,
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class ForkedCommand:
    """A command started by `start_cli`, running on its own, with what the scenarios use
    of `subprocess.Popen`: `pid`, `stderr` (when a pipe), `poll`, `wait`, `kill`,
    `terminate`, `returncode`; and `wait_async` for an event loop."""

    def __init__(self, args: list[str], conn: socket.socket, pid: int) -> None:
        self.args = args
        self.pid = pid
        self.stdin: IO[bytes] | None = None
        self.stderr: IO[bytes] | None = None
        self.returncode: int | None = None
        self._conn = conn

    def _signal(self, signum: int) -> None:
        # Only while no exit status came: until then the pid is still this command's.
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def poll(self) -> int | None:
        try:
            return self.wait(0)
        except subprocess.TimeoutExpired:
            return None

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._conn], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            status = int(self._conn.recv(64))
            self._conn.close()
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    async def wait_async(self) -> int:
        if self.returncode is None:
            loop = asyncio.get_running_loop()
            ready = loop.create_future()
            fd = self._conn.fileno()
            loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
            try:
                await ready
            finally:
                loop.remove_reader(fd)
        return self.wait()


def start_cli(
    args: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    stdout: int = subprocess.DEVNULL,
    stderr: int = subprocess.PIPE,
    stdin: int = subprocess.DEVNULL,
) -> ForkedCommand | subprocess.Popen[bytes]:
    """`python -m bot.cli ARGS` started and left running. `stdout` and `stderr` are
    subprocess.DEVNULL or a file descriptor; `stderr` may also be subprocess.PIPE, read
    as bytes from `.stderr`. stdin is /dev/null, or with subprocess.PIPE a pipe written
    as bytes to `.stdin` (the command sees its input end when that is closed)."""
    environ = dict(os.environ if env is None else env)
    if FRESH:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=cwd,
            env=environ,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
        )
    return _server().start(list(args), str(cwd or os.getcwd()), environ, stdout, stderr, stdin)


class _ForkServer:
    """The client's end: one connection per command."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="paperbot-fork-")
        self.path = os.path.join(self.folder, "socket")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.forked_cli", self.path],
            cwd=ROOT,
            # The server exits when this end closes: a worker that dies leaves no server.
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        ready = self.process.stderr.readline()
        if ready.strip() != "ready":
            raise RuntimeError(f"no fork server: {ready}{self.process.stderr.read()}")
        atexit.register(self.close)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.kill()
        self.process.wait()
        for name in os.listdir(self.folder):
            os.unlink(os.path.join(self.folder, name))
        os.rmdir(self.folder)

    def start(
        self,
        args: list[str],
        cwd: str,
        env: dict[str, str],
        stdout: int,
        stderr: int,
        stdin: int = subprocess.DEVNULL,
    ) -> ForkedCommand:
        """One forked command, its standard streams subprocess.DEVNULL or descriptors;
        stdin and stderr may also be subprocess.PIPE (`.stdin`, `.stderr`). The caller
        keeps its own descriptors."""
        opened: list[int] = []  # closed here once the server has its copies
        kept: list[int] = []  # this end's pipes, closed here only if the start fails

        def target(wanted: int, flags: int) -> int:
            if wanted == subprocess.PIPE:
                read_end, write_end = os.pipe()
                ours, theirs = (
                    (write_end, read_end) if flags == os.O_RDONLY else (read_end, write_end)
                )
                kept.append(ours)
                opened.append(theirs)
                return theirs
            if wanted != subprocess.DEVNULL:
                return wanted
            opened.append(os.open(os.devnull, flags))
            return opened[-1]

        fds = [target(stdin, os.O_RDONLY), target(stdout, os.O_WRONLY), target(stderr, os.O_WRONLY)]
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            conn.connect(self.path)
            request = json.dumps({"argv": args, "cwd": cwd, "env": env}).encode()
            socket.send_fds(conn, [request], fds)
            pid = int(conn.recv(64))
        except BaseException:
            conn.close()
            for fd in kept:
                os.close(fd)
            raise
        finally:
            for fd in opened:
                os.close(fd)
        ends = iter(kept)
        command = ForkedCommand([sys.executable, "-m", "bot.cli", *args], conn, pid)
        if stdin == subprocess.PIPE:
            command.stdin = os.fdopen(next(ends), "wb")
        if stderr == subprocess.PIPE:
            command.stderr = os.fdopen(next(ends), "rb")
        return command

    def run(
        self, args: list[str], cwd: str, env: dict[str, str], text: str | None, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        stdin = subprocess.DEVNULL if text is None else subprocess.PIPE
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            command = self.start(args, cwd, env, out.fileno(), err.fileno(), stdin)
            if command.stdin is not None:
                # In a thread: input larger than a pipe holds waits for the command to read it.
                threading.Thread(target=_feed, args=(command.stdin, text), daemon=True).start()
            try:
                returncode = command.wait(timeout)
            except subprocess.TimeoutExpired:
                command.kill()
                command.wait()
                raise subprocess.TimeoutExpired(command.args, timeout) from None
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(
                command.args, returncode, _decode(out.read()), _decode(err.read())
            )


def _feed(pipe: IO[bytes], text: str) -> None:
    # A command that exits without reading it all breaks the pipe, as with subprocess.run.
    with contextlib.suppress(BrokenPipeError):
        try:
            pipe.write(text.encode())
        finally:
            pipe.close()


def _decode(data: bytes) -> str:
    # What subprocess.run(text=True) does: the locale's encoding, universal newlines.
    return data.decode(locale.getpreferredencoding(False)).replace("\r\n", "\n").replace("\r", "\n")


_SERVER: _ForkServer | None = None


def _server() -> _ForkServer:
    global _SERVER
    if _SERVER is None or _SERVER.process.poll() is not None:
        _SERVER = _ForkServer()
    return _SERVER


# --- the server --------------------------------------------------------------------------


def _serve(path: str) -> dict | None:
    """Accept requests until the test worker goes (its end of stdin closes): returns
    None then, or, in a forked child, that child's request."""
    with contextlib.suppress(ImportError):  # `paperbot run`'s event loop, where installed
        import uvloop  # noqa: F401

    import bot.cli.app  # what every command imports
    import bot.cli.runner  # `paperbot run`'s: discord.py, aiohttp
    import bot.services.relevance_service  # noqa: F401  what the heavier ones import
    import storage  # noqa: F401
    from bot.services.relevance import embedding

    # The embedding's tokenizer and table, which every command that stores papers opens
    # (ingest, import, run): about 0.16 s of CPU each time, on top of its own work.
    embedding.load()

    # Everything imported so far lives as long as the server. Frozen, a child's garbage
    # collections never walk it, and neither does its exit: an interpreter's shutdown
    # collects the whole heap, and writing to each object's header copies every page the
    # fork shares. That cost each command about 0.2 s of CPU (0.05 frozen), more than
    # most commands' own work.
    gc.freeze()

    server = os.getpid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    print("ready", file=sys.stderr, flush=True)
    running: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, connection)
    while True:
        readable = select.select([listener, sys.stdin, *running], [], [])[0]
        for ready in readable:
            if ready is sys.stdin:
                return None  # the test worker has gone
            if ready is listener:
                conn, _ = listener.accept()
                message, fds, _, _ = socket.recv_fds(conn, MAX_REQUEST, 3)
                pid = os.fork()
                if pid == 0:
                    # A command outlives no server: a test run killed mid-way (its workers
                    # gone, so the server too) leaves no bot running on.
                    _die_with_parent(server)
                    listener.close()
                    for pidfd, (_, other) in running.items():
                        os.close(pidfd)
                        other.close()
                    conn.close()
                    for target, fd in enumerate(fds):
                        os.dup2(fd, target)
                        os.close(fd)
                    return json.loads(message)
                for fd in fds:
                    os.close(fd)
                conn.send(str(pid).encode())
                running[os.pidfd_open(pid)] = (pid, conn)
            else:
                pid, conn = running.pop(ready)
                os.close(ready)
                _, status = os.waitpid(pid, 0)
                conn.send(str(status).encode())
                conn.close()


def _die_with_parent(server: int) -> None:
    """SIGKILL this process when `server`, which forked it, exits (Linux's prctl)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != server:  # the server went before prctl took effect
        os._exit(1)


def _become_command(request: dict) -> None:
    """In the forked child: take the command's place, then run `bot.cli` as `-m` does."""
    import runpy
    import time

    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    sys.path[0] = request["cwd"]  # `python -m` puts the working directory first
    sys.argv = ["-m", *request["argv"]]
    runpy.run_module("bot.cli", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    child = _serve(sys.argv[1])
    if child is not None:
        _become_command(child)
