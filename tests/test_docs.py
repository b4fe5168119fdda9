"""The documentation stays true to the repository: every relative link in README.md and
docs/*.md reaches a file (and, with `#anchor`, a heading in it), every `paperbot
COMMAND --option` they show is one the command line accepts, and the README stays a
page a newcomer reads in a few minutes, with the details linked from it."""

from __future__ import annotations

import argparse
import re
import unicodedata
from pathlib import Path

import pytest

from bot.cli.app import bench_parser, build_parser

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
README_LIMIT = 15_000  # characters: what the README holds beyond this belongs in docs/

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:, …
# `paperbot COMMAND`, as a shell would run it: at the start of a code span or command
# line, or after `bin/`, a pipe or `&&`; not `-o paperbot` (an option's value).
COMMAND = re.compile(r"(?:^|(?<=bin/)|(?<=[|&;(]\s)|(?<=&&\s))paperbot[ \t]+([a-z][a-z-]*)(.*)")


def prose(text: str) -> str:
    """The text with fenced code blocks blanked and inline code kept as plain words, so
    a link shown as code is not checked and a link whose text is code still is."""
    text = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return CODE_SPAN.sub(lambda m: m.group(2).replace("[", "(").replace("]", ")"), text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces
    to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = unicodedata.normalize("NFC", text.replace("`", "")).lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for match in HEADING.finditer(FENCE.sub("", path.read_text(encoding="utf-8"))):
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(page: Path) -> list[str]:
    """`page: target` for every relative link that reaches no file or heading."""
    problems = []
    for match in LINK.finditer(prose(page.read_text(encoding="utf-8"))):
        target = match.group(1)
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        reached = (page.parent / file_part).resolve() if file_part else page
        if not reached.exists():
            problems.append(f"{page.name}: {target} (no such file)")
        elif anchor and (reached.suffix != ".md" or anchor not in anchors(reached)):
            problems.append(f"{page.name}: {target} (no such heading)")
    return problems


def code_lines(text: str) -> list[str]:
    """Every inline code span and every line of every fenced block."""
    lines = [line for fence in FENCE.finditer(text) for line in fence.group(0).splitlines()[1:-1]]
    outside = FENCE.sub("", text)
    return lines + [m.group(2) for m in CODE_SPAN.finditer(outside)]


def commands_shown(text: str) -> list[tuple[str, list[str]]]:
    """(command, its --options) for every `paperbot COMMAND ...` shown as code."""
    shown = []
    for line in code_lines(text):
        for part in re.split(r"\s(?:\|\||&&|\||;)\s", line):
            match = COMMAND.search(part.strip())
            if match:
                options = re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", match.group(2))
                shown.append((match.group(1), options))
    return shown


def subcommand_parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    parsers = dict(sub.choices)
    parsers["bench"] = bench_parser()  # its options live in the benchmark's own parser
    return parsers


def accepted_options(parser: argparse.ArgumentParser) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings}


# -- the checkers see what they must ----------------------------------------------------------


def test_the_link_checker_finds_broken_files_and_headings(tmp_path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## Time zones: `IST` & co.\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n## Set up\n\n"
        "[ok](other.md) [ok](other.md#time-zones-ist--co) [ok](#set-up) "
        "[ok](https://example.com/missing) ![ok](other.md)\n"
        "[a link\nover two lines](missing.md) [bad](other.md#nowhere) [bad](#page-2)\n"
        "`[shown as code](missing.md)`\n\n```\n[in a block](missing.md)\n```\n"
    )
    assert broken_links(page) == [
        "page.md: missing.md (no such file)",
        "page.md: other.md#nowhere (no such heading)",
        "page.md: #page-2 (no such heading)",
    ]


def test_the_command_finder_reads_code_not_prose() -> None:
    text = (
        "paperbot finishes the message in flight; `paperbot ingest PATH [--date D]`.\n"
        "```sh\n.venv/bin/paperbot search --limit 5 x | head\n"
        "sudo install -o paperbot deploy/x /etc/\nprintf 'x' | paperbot console --db P\n```\n"
    )
    assert commands_shown(text) == [
        ("search", ["--limit"]),
        ("console", ["--db"]),
        ("ingest", ["--date"]),
    ]


# -- the pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_reaches_a_file_and_heading(page: Path) -> None:
    assert broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_paperbot_command_shown_exists_with_its_options(page: Path) -> None:
    parsers = subcommand_parsers()
    shown = commands_shown(page.read_text(encoding="utf-8"))
    unknown = sorted({name for name, _ in shown if name not in parsers})
    assert unknown == [], f"not a paperbot command: {unknown}"
    bad = sorted(
        {
            f"paperbot {name} {option}"
            for name, options in shown
            for option in options
            if option not in accepted_options(parsers[name])
        }
    )
    assert bad == []


def test_the_readme_names_real_commands() -> None:
    names = {name for name, _ in commands_shown(README.read_text(encoding="utf-8"))}
    assert {"run", "console", "ingest", "search", "migrate-db"} <= names


def test_the_readme_is_short_and_links_the_details() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text) <= README_LIMIT, (
        f"README.md has {len(text):,} characters (limit {README_LIMIT:,}): "
        "move details into docs/ and link them"
    )
    linked = {m.group(1).partition("#")[0] for m in LINK.finditer(prose(text))}
    for doc in ("ARCHITECTURE.md", "RELIABILITY.md", "PERFORMANCE.md", "COMMANDS.md"):
        assert f"docs/{doc}" in linked, doc
