"""The architecture, enforced: which layer may import which, and no import cycles.

The layers, inside out:
- bot/core: pure domain. The standard library, rapidfuzz, defusedxml (the stdlib's XML
  parser made safe for feeds from the network) and bot.core itself only (no storage,
  no Discord, no I/O library); what it needs from outside are the Protocols
  of bot/core/ports.py.
- bot/services: the application services, over those ports. No Discord, no storage.
- storage/: implements the storage ports; it knows the core, nothing above it.
- bot/discord_app and cogs/: discord.py. Cogs never touch storage modules.
- bot/cli: the command line, which builds everything.

Every import counts: at module level, inside functions, and under `TYPE_CHECKING` (a
dependency hidden from the interpreter is still one for the reader).
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Generic, Protocol

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "bot" / "core"
PROJECT = ("bot", "cogs", "storage", "bench")  # the packages the cycle test walks


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = ROOT) -> Iterator[tuple[int, str, list[str]]]:
    """(line, absolute module, names imported from it) of every import in the file,
    wherever it is; relative imports made absolute. `import a.b` gives ("a.b", [])."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module, [alias.name for alias in node.names]


def offenders(folder: Path, allowed: Callable[[str], bool]) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        for line, name, _ in imports_of(path):
            if not allowed(name):
                found.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    return found


def within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def top(name: str) -> str:
    return name.split(".")[0]


# -- direction -----------------------------------------------------------------------------


def test_the_core_imports_only_the_standard_library_rapidfuzz_and_itself() -> None:
    def allowed(name: str) -> bool:
        return (
            within(name, "bot.core")
            or top(name) in ("rapidfuzz", "defusedxml")
            or top(name) in sys.stdlib_module_names
        )

    assert offenders(CORE, allowed) == []
    assert len(list(CORE.glob("*.py"))) >= 8  # the check really looked at the core


def last_line_of(code: str) -> str:
    """The last line `code` prints, run by a fresh interpreter (nothing imported yet)."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_importing_every_core_module_loads_neither_discord_nor_storage() -> None:
    modules = [f"bot.core.{p.stem}" for p in sorted(CORE.glob("*.py")) if p.stem != "__init__"]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'discord', 'storage'}))\n"
    )
    assert last_line_of(code) == "[]"


def test_services_know_neither_discord_nor_storage_nor_the_layers_above() -> None:
    forbidden = ("discord", "storage", "bot.discord_app", "bot.cli", "cogs")
    found = offenders(ROOT / "bot" / "services", lambda name: not within(name, *forbidden))
    assert found == []
    assert len(list((ROOT / "bot" / "services").glob("*.py"))) >= 6


def test_storage_knows_the_core_and_nothing_above_it() -> None:
    forbidden = ("bot.services", "bot.discord_app", "bot.cli", "bot.fakediscord", "cogs")
    assert offenders(ROOT / "storage", lambda name: not within(name, *forbidden)) == []


def test_cogs_never_import_storage() -> None:
    assert offenders(ROOT / "cogs", lambda name: not within(name, "storage")) == []


def storage_uses(path: Path) -> list[str]:
    """Every `<anything>.storage` in the file: the client's whole Storage object."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "storage"
    ]


def test_cogs_and_views_reach_storage_only_through_services() -> None:
    """Cogs are thin: interaction in, a service call, payload out. Reads and writes go
    through `bot.services.<name>`, whose services take narrow ports; only the client
    (its command-tree hash) and the composition root hold the storage itself."""
    owners = {
        ROOT / "bot" / "discord_app" / "client.py",
        ROOT / "bot" / "discord_app" / "wiring.py",
    }
    files = [
        *sorted((ROOT / "cogs").glob("*.py")),
        *sorted((ROOT / "bot" / "discord_app").glob("*.py")),
    ]
    assert [use for path in files if path not in owners for use in storage_uses(path)] == []
    assert storage_uses(ROOT / "bot" / "discord_app" / "client.py")  # the scan does see it


def environment_reads(path: Path) -> list[str]:
    """`os.environ`, `os.getenv` and dotenv in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"):
            name = node.attr
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            name = next((a.name for a in node.names if a.name in ("environ", "getenv")), None)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            )
            name = next((m for m in modules if m and top(m) == "dotenv"), None)
        if name:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    return found


def test_only_the_settings_loader_reads_the_environment() -> None:
    """One settings loader: bot/cli/settings.py reads the environment and .env, once,
    with every setting's rule from bot/cli/settings_table.py; the rest take Settings."""
    loader = ROOT / "bot" / "cli" / "settings.py"
    found = [
        hit
        for package in ("bot", "cogs", "storage", "bench")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != loader
        for hit in environment_reads(path)
    ]
    assert found == []
    assert environment_reads(loader)  # the scan does see it where it is


def topic_text_comparisons(path: Path, root: Path = ROOT) -> list[str]:
    """Comparisons (==, !=, in, not in) that involve a topic's slug or name: matching
    what someone typed against topics by hand."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        if not all(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops):
            continue
        for operand in [node.left, *node.comparators]:
            if any(
                isinstance(part, ast.Attribute) and part.attr in ("slug", "name")
                for part in ast.walk(operand)
            ):
                found.append(f"{path.relative_to(root)}:{node.lineno}")
                break
    return found


def test_topics_are_matched_to_text_only_by_the_one_resolver(tmp_path) -> None:
    """bot/core/topic_lookup.py resolves a topic from text (key, slug or name) and ranks
    topics for autocomplete; commands, services and the CLI use it, never a
    comparison of their own."""
    folders = ["cogs", "bot/cli", "bot/services", "bot/discord_app"]
    found = [
        hit
        for folder in folders
        for path in sorted((ROOT / folder).rglob("*.py"))
        for hit in topic_text_comparisons(path)
    ]
    assert found == []
    # The scan does see such code: the shapes the cogs and the CLI used to have.
    sample = tmp_path / "sample.py"
    sample.write_text(
        "a = any(t.slug == slug for t in topics)\n"
        "b = slug not in {t.slug for t in topics}\n"
        "c = [t for t in topics if needle in t.name.casefold()]\n",
        encoding="utf-8",
    )
    assert len(topic_text_comparisons(sample, tmp_path)) == 3


def test_the_discord_side_uses_no_command_line_but_its_settings() -> None:
    def allowed(name: str) -> bool:
        return not within(name, "bot.cli", "cogs") or name == "bot.cli.settings"

    assert offenders(ROOT / "bot" / "discord_app", allowed) == []


def test_every_folder_of_code_is_a_regular_package() -> None:
    """A folder without __init__.py imports fine in a checkout (a namespace package)
    but setuptools' packages.find leaves it out of the wheel."""
    folders = {
        path.parent
        for package in PROJECT
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert (
        sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").exists()) == []
    )


# -- cycles --------------------------------------------------------------------------------


def project_modules(root: Path = ROOT, packages: tuple[str, ...] = PROJECT) -> dict[str, Path]:
    return {
        module_name(path, root): path
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
    }


def import_graph(modules: dict[str, Path], root: Path = ROOT) -> dict[str, set[str]]:
    """Each project module -> the project modules it imports. `from pkg import name`
    is the submodule `pkg.name` when that module exists, else `pkg` itself (a
    package's `__init__` is a module like any other)."""

    def nearest(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets: set[str] = set()
        for _, name, names in imports_of(path, root):
            submodules = [f"{name}.{n}" for n in names if f"{name}.{n}" in modules]
            targets.update(submodules)
            if len(submodules) < len(names) or not names:
                found = nearest(name)
                if found is not None:
                    targets.add(found)
        targets.discard(module)
        graph[module] = targets
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a → … → a) through each strongly connected group of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_in(graph, set(group), group[0]) for group in groups]


def _cycle_in(graph: dict[str, set[str]], group: set[str], start: str) -> list[str]:
    """A shortest path start → … → start inside the group (breadth first)."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & group):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle through {start}")


def test_no_import_cycles_among_the_projects_modules() -> None:
    modules = project_modules()
    cycles = find_cycles(import_graph(modules))
    assert cycles == [], "\n".join(" -> ".join(cycle) for cycle in cycles)
    assert len(modules) > 100  # it really walked bot, cogs, storage and bench


def test_the_cycle_finder_sees_type_checking_and_function_level_imports(tmp_path) -> None:
    """The walk itself: a cycle closed only under TYPE_CHECKING, one closed inside a
    function, and one through a package __init__ are all found."""
    files = {
        "pkg/__init__.py": "from pkg.a import thing\n",
        "pkg/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import b\n",
        "pkg/b.py": "def f():\n    from pkg.a import thing\n",
        "pkg/c.py": "from pkg import thing\n",
        "pkg/d.py": "import pkg.c\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    graph = import_graph(project_modules(tmp_path, ("pkg",)), tmp_path)
    assert graph == {
        "pkg": {"pkg.a"},
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.a"},
        "pkg.c": {"pkg"},
        "pkg.d": {"pkg.c"},
    }
    assert find_cycles(graph) == [["pkg.a", "pkg.b", "pkg.a"]]
    graph["pkg.a"].add("pkg.c")  # a -> c -> pkg -> a: a cycle through an __init__
    assert find_cycles(graph) == [["pkg", "pkg.a", "pkg.c", "pkg"]]


# -- commands load only what they use -------------------------------------------------------

HEAVY_AT_START = ("numpy", "tokenizers", "bot.services.relevance", "bot.services.snapshot_import")


def test_commands_that_encode_nothing_start_without_numpy(tmp_path: Path) -> None:
    """`paperbot stats` and `paperbot paper` load neither numpy nor the relevance engine
    (a fifth of a second of every start-up, paid by several hundred processes a CI run
    before the snapshot importer was loaded only for its own command)."""
    db = tmp_path / "p.db"
    code = (
        "import asyncio, sys\n"
        "from storage import open_storage\n"
        "async def make():\n"
        f"    await (await open_storage({str(db)!r})).close()\n"
        "asyncio.run(make())\n"
        "from bot.cli import main\n"
        f"assert main(['stats', '--db', {str(db)!r}]) == 0\n"
        f"assert main(['paper', '2401.00001', '--db', {str(db)!r}]) == 1\n"
        f"heavy = {HEAVY_AT_START!r}\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    assert last_line_of(code) == "[]"


# -- the benchmark stays out of the command line's way --------------------------------------


def test_the_command_line_does_not_load_the_benchmark() -> None:
    code = (
        "import sys\n"
        "import bot.cli\n"
        "from bot.cli import main\n"
        "from bot.cli.app import build_parser\n"
        "build_parser().parse_args(['search', 'x'])\n"
        "print(sorted(m for m in sys.modules if m == 'bench' or m.startswith('bench.')))\n"
    )
    assert last_line_of(code) == "[]"


def test_paperbot_bench_help_still_lists_every_benchmark_flag() -> None:
    from bench.options import build_parser as bench_options

    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "bench", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: paperbot bench ")
    flags = [a.option_strings[-1] for a in bench_options()._actions if a.option_strings]
    assert len(flags) > 10
    for flag in [*flags, "--debug"]:
        assert flag in result.stdout, flag


# -- the ports and their implementations ----------------------------------------------------


def protocol_methods(protocol: type) -> dict[str, inspect.Signature]:
    """The methods a Protocol declares, its Protocol bases' included."""
    found: dict[str, inspect.Signature] = {}
    for cls in reversed(protocol.__mro__):
        if cls in (object, Protocol, Generic) or not getattr(cls, "_is_protocol", False):
            continue
        for name, member in vars(cls).items():
            if not name.startswith("_") and inspect.isfunction(member):
                found[name] = inspect.signature(member)
    return found


def mismatches(protocol: type, implementation: type) -> list[str]:
    """Where `implementation` lacks a method of `protocol` or takes other parameters
    (names, kinds, defaults, annotations as written) or returns another type."""
    problems = []
    for name, wanted in protocol_methods(protocol).items():
        member = getattr(implementation, name, None)
        if member is None:
            problems.append(f"{implementation.__name__} has no {name}")
            continue
        given = inspect.signature(member)
        shape = [(p.name, p.kind, p.default, p.annotation) for p in given.parameters.values()]
        if shape != [
            (p.name, p.kind, p.default, p.annotation) for p in wanted.parameters.values()
        ] or (given.return_annotation != wanted.return_annotation):
            problems.append(f"{implementation.__name__}.{name}{given} is not {name}{wanted}")
    return problems


def test_storage_implements_every_storage_port_as_declared() -> None:
    from bot.core import ports
    from storage import base

    storage_ports = [
        ports.PaperSearch,
        ports.PaperReader,
        ports.IngestStore,
        ports.GuildTopics,
        ports.GuildTopicStore,
        ports.ChannelDigests,
        ports.MemberFollows,
        ports.Subscriptions,
        ports.DeliveryLedger,
        ports.PaperThreads,
        ports.SiteReader,
        ports.Feedback,
        ports.Mutes,
        ports.Authors,
        ports.PaperVectors,
    ]
    problems = [m for port in storage_ports for m in mismatches(port, base.Storage)]
    problems += mismatches(ports.IngestTransaction, base.IngestTransaction)
    assert problems == []
    assert sum(len(protocol_methods(p)) for p in storage_ports) > 40


def test_the_discord_poster_implements_the_message_poster_port() -> None:
    from bot.core import ports
    from bot.discord_app import poster

    problems = mismatches(ports.Destination, poster.DiscordDestination)
    # channel/member return the concrete destination: the port's Destination, narrowed.
    for name in protocol_methods(ports.MessagePoster):
        if getattr(poster.DiscordPoster, name, None) is None:
            problems.append(f"DiscordPoster has no {name}")
    assert problems == []
