"""Read one daily-papers dump: decode and sanity-check the bytes, then pick the format.

Every refusal is a `DumpError` with a one-line message meant for the uploader, so the
Discord layer and the CLI can show it as is.
"""

from __future__ import annotations

import json
import re

from bot.core.models import DumpError, NotADump, ParsedDump
from bot.core.parse_arxiv import parse_arxiv_listing
from bot.core.parse_json import parse_json
from bot.core.parse_text import parse_text
from bot.core.sniff import markup_refusal

__all__ = ["DumpError", "NotADump", "decode_dump", "parse_dump"]

_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# More than this share of control characters means a binary file that happens to decode.
_CONTROL_LIMIT = 0.10
# The start of a JSON object or of a list of objects/strings/lists. A text page never
# starts like this: its first line is chrome or a title, and titles such as
# "[Re] Reproducing ..." or "[1] ..." do not match. Lists of bare numbers are not dumps.
_JSONISH = re.compile(r'\s*(?:\{\s*(?:"|\}|$)|\[\s*(?:[\[{"\]]|$))')


# C0 controls except tab, newlines, FF and VT (ordinary in text), DEL, and C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_ASCII_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])  # ASCII part


def _count_controls(text: str) -> int:
    """How many characters of `text` match `_CONTROL` (ASCII text: one C-level pass)."""
    if text.isascii():
        data = text.encode("ascii")
        return len(data) - len(data.translate(None, _ASCII_CONTROL_BYTES))
    return len(_CONTROL.findall(text))


def decode_dump(raw: bytes) -> str:
    """UTF-8 text of a dump with the BOM removed and line endings normalised to "\\n"."""
    if not raw:
        raise DumpError("the file is empty")
    if raw.startswith(_UTF16_BOMS):
        raise DumpError("the file is UTF-16 text, not UTF-8; save the dump as UTF-8")
    offset = 0
    if raw.startswith(_BOM):
        raw, offset = raw[len(_BOM) :], len(_BOM)
    if not raw:
        raise DumpError("the file is empty (only a byte-order mark)")
    if b"\x00" in raw:
        raise NotADump("the file looks binary (it contains NUL bytes), not a text or JSON dump")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DumpError(
            f"not UTF-8 text (invalid byte 0x{raw[exc.start]:02x} at offset "
            f"{exc.start + offset}); save the dump as UTF-8"
        ) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DumpError("the file is blank (only whitespace)")
    if _count_controls(text) > _CONTROL_LIMIT * len(text):
        raise NotADump("the file looks binary (mostly control characters), not a text or JSON dump")
    return text


def _load_json(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        hint = "; the file looks truncated" if exc.pos >= len(text.rstrip()) else ""
        raise DumpError(
            f"invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}){hint}"
        ) from None
    except (ValueError, RecursionError):
        # json raises plain ValueError for numbers past int's digit limit.
        raise DumpError("invalid JSON (nested too deeply or a number too long)") from None


def parse_dump(raw: bytes, source_name: str = "") -> ParsedDump:
    """Parse a dump, chosen by content: an arXiv listing (XML), HF's JSON or the text
    page.

    `source_name` is the file name: a `.json` name forces the JSON reader, so a broken
    JSON file is reported as broken JSON rather than read as text. Raises DumpError.
    """
    text = decode_dump(raw)
    # Markup first, even in a file named .json: an arXiv feed is read as one, and other
    # markup ("an RSS feed from ...") is refused with what it is rather than "invalid
    # JSON". Checked here, so the CLI, the folder watcher and /ingest all agree.
    if text.lstrip().startswith("<"):
        listing = parse_arxiv_listing(text.lstrip())
        if listing is not None:
            return listing
        if reason := markup_refusal(text):
            raise NotADump(reason)
    if source_name.casefold().endswith(".json") or _JSONISH.match(text):
        return parse_json(_load_json(text))
    if reason := markup_refusal(text):
        raise NotADump(reason)
    return parse_text(text)
