"""The core must stay Discord-free: it is the part every adapter and test stands on."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import bot.core

CORE = Path(bot.core.__file__).parent


def test_no_core_module_imports_discord() -> None:
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "discord"]
    assert offenders == []
    assert len(list(CORE.glob("*.py"))) >= 8  # the check really looked at the core


def test_importing_every_core_module_does_not_load_discord() -> None:
    modules = [f"bot.core.{p.stem}" for p in sorted(CORE.glob("*.py")) if p.stem != "__init__"]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print('discord' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
