"""The architecture, enforced: which layer may import which.

- bot/core is pure domain: the standard library, rapidfuzz and bot.core itself only
  (no storage, no Discord, no I/O library); what it needs from outside are the
  Protocols of bot/core/ports.py.

Every import counts: at module level, inside functions, and under `TYPE_CHECKING` (a
dependency hidden from the interpreter is still one for the reader).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "bot" / "core"
CORE_MAY_IMPORT = {"rapidfuzz"}


def imported_names(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, wherever it is.
    Relative imports are made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module


def offenders(folder: Path, allowed) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        for line, name in imported_names(path):
            if not allowed(name):
                found.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    return found


def top(name: str) -> str:
    return name.split(".")[0]


def test_the_core_imports_only_the_standard_library_rapidfuzz_and_itself() -> None:
    def allowed(name: str) -> bool:
        return (
            name == "bot.core"
            or name.startswith("bot.core.")
            or top(name) in CORE_MAY_IMPORT
            or top(name) in sys.stdlib_module_names
        )

    assert offenders(CORE, allowed) == []
    assert len(list(CORE.glob("*.py"))) >= 8  # the check really looked at the core


def test_importing_every_core_module_loads_neither_discord_nor_storage() -> None:
    modules = [f"bot.core.{p.stem}" for p in sorted(CORE.glob("*.py")) if p.stem != "__init__"]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'discord', 'storage'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
