"""Large blocks freed go back to the system (bot/services/freed_memory.py): after a burst of
1 MB blocks among small ones that live on, the process keeps none of them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="glibc's allocator and /proc are Linux's"
)

# Run by a fresh interpreter after SETUP: frees a 1 MB block (which, left to glibc,
# raises its mmap threshold), then holds 64 blocks of 1 MB with a small block kept
# between each two, frees the large ones and prints the anonymous memory (MB) still
# held for them.
PATTERN = """
def anon():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
warm = bytearray(1 << 20)
del warm
before = anon()
large, kept = [], []
for _ in range(64):
    large.append(bytearray(1 << 20))
    kept.append(bytearray(4096))
held = anon() - before
del large
print(round(held), round(anon() - before))
"""


def last_line(code: str) -> str:
    """What a fresh interpreter running `code` prints last."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1]


def retained_mb(setup: str) -> tuple[int, int]:
    held, retained = last_line(setup + PATTERN).split()
    return int(held), int(retained)


def test_left_to_glibc_the_freed_blocks_stay_in_the_process() -> None:
    # What the setting is for: without it the 64 MB stay resident after they are freed.
    held, retained = retained_mb("")
    assert held >= 60
    assert retained >= 48


def test_with_the_threshold_fixed_freed_blocks_are_returned() -> None:
    held, retained = retained_mb(
        "from bot.services.freed_memory import return_large_blocks\nassert return_large_blocks()\n"
    )
    assert held >= 60
    assert retained <= 4


def test_the_long_running_commands_fix_it_before_anything_else(tmp_path) -> None:
    # The import fails at once on a missing file: the setting comes before that.
    missing, db = tmp_path / "missing.jsonl", tmp_path / "p.db"
    held, retained = retained_mb(
        "from bot.cli.app import main\n"
        f"assert main(['import-arxiv-snapshot', {str(missing)!r}, '--db', {str(db)!r}]) == 2\n"
    )
    assert held >= 60
    assert retained <= 4


# Whether glibc still raises its threshold (its own way) or has it fixed: after a 24 MB
# block is freed, a 16 MB one is its own mapping only when the threshold stayed fixed.
# (Counting the memory a command's process keeps, as above, depends on its heap: after
# paperbot's imports, free gaps in the heap can take the small blocks kept between the
# large ones, and the large ones then sit together at the top, where glibc trims them.)
THRESHOLD = """
import ctypes
FIELDS = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
          "uordblks", "fordblks", "keepcost")
libc = ctypes.CDLL(None)
wide = hasattr(libc, "mallinfo2")  # glibc 2.33 on; mallinfo's int fields before
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t if wide else ctypes.c_int) for name in FIELDS]
info = libc.mallinfo2 if wide else libc.mallinfo
info.restype = Info
warm = bytearray(24 << 20)
del warm
before = info().hblks
probe = bytearray(16 << 20)
print("fixed" if info().hblks > before else "raised")
"""


def threshold_after(setup: str) -> str:
    return last_line(setup + THRESHOLD)


def test_the_threshold_probe_tells_the_two_apart() -> None:
    assert threshold_after("") == "raised"
    fix = "from bot.services.freed_memory import return_large_blocks\nreturn_large_blocks()\n"
    assert threshold_after(fix) == "fixed"


def test_short_commands_leave_glibc_as_it_is(tmp_path) -> None:
    stats = (
        "from bot.cli.app import main\n"
        f"assert main(['stats', '--db', {str(tmp_path / 'p.db')!r}]) == 1\n"  # no database
    )
    assert threshold_after(stats) == "raised"
    missing, db = tmp_path / "missing.jsonl", tmp_path / "p.db"
    long_running = (
        "from bot.cli.app import main\n"
        f"assert main(['import-arxiv-snapshot', {str(missing)!r}, '--db', {str(db)!r}]) == 2\n"
    )
    assert threshold_after(long_running) == "fixed"
