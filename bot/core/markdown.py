"""Make untrusted dump text inert in Discord markdown, and cut it to size.

Titles, abstracts and author names come from a scraped dump, so they can contain
anything: ``**bold**``, masked links ``[x](http://evil)``, ``@everyone``, bidi
overrides. Everything that reaches a message goes through :func:`escape_markdown`;
``allowed_mentions={"parse": []}`` stops pings as well, the zero-width space is belt
and braces (and stops the text *looking* like a mention).
"""

from __future__ import annotations

import functools
import re

ZWSP = "\u200b"
ELLIPSIS = "…"

# Unicode controls that change how the *rest* of a message is displayed (bidi
# overrides/isolates can make text render reversed or spoof a link) plus C0/C1
# controls Discord rejects or shows as boxes. Ordinary RTL letters are kept.
_CONTROL = re.compile(
    "[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
    "\u202a-\u202e\u2066-\u2069\u206a-\u206f\ufff9-\ufffb]"
)

# One token per match, tried in order at each position:
#  url        - bare links are left verbatim, since escaping '_' inside one breaks it
#               (brackets end a URL so it can't smuggle a masked link through);
#  mention    - @everyone/@here and <@id>/<@&id>/<#id>/<t:..>/<:emoji:id>/</cmd:id>;
#  linestart  - block quote, heading, subtext and list markers at the start of a line;
#  special    - a single inline formatting character.
_URL = r"https?://[^\s<>\[\]]*[^\s<>\[\].,:;\"')!?]"
_NON_URL = (
    r"(?P<mention>@(?=everyone|here)|(?<=<)@|<(?=[#:/]|a:|t:|id:))"
    r"|(?P<linestart>^[ \t]*(?:[>#*+-]|\d+[.)](?=\s|$)))"
    r"|(?P<special>[\\*_~`|\[\]()])"
)
_TOKEN = re.compile(rf"(?P<url>{_URL})|{_NON_URL}", re.MULTILINE)
_TOKEN_NO_URL = re.compile(_NON_URL, re.MULTILINE)
_EVERYONE = re.compile(r"@(?=everyone|here)")
_LIST_NUMBER = re.compile(r"(\d+)([.)])")


def clean_text(text: str) -> str:
    """Normalise newlines and drop display-hijacking control characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def escape_markdown(text: str, *, keep_urls: bool = True, minimal: bool = False) -> str:
    """Escape ``text`` so Discord shows it literally: no formatting, masked links or pings.

    Inline specials (``\\ * _ ~ ` | [ ] ( )``) are backslash-escaped everywhere;
    ``> # - + *`` and ``1.`` only at the start of a line, where they would make a quote,
    heading or list (escaping them mid-line would just double the length).
    ``@everyone``/``@here``/``<@123>`` get a zero-width space after the ``@`` (or
    ``<``), so they neither ping nor render as a mention.

    Bare ``http(s)://`` URLs are kept verbatim when ``keep_urls`` is true (they render
    as the plain link they are, and escaping would corrupt them). Pass
    ``keep_urls=False`` for places that never autolink, such as embed titles.

    ``minimal=True`` leaves alone what cannot format where it stands, for lines of our
    own wording that quote untrusted text, so their raw text keeps reading as written:
    ``(`` and ``)`` (the brackets are still escaped, so no masked link ``[x](url)`` can
    form) and a single ``_`` between letters or digits (``New_York``: Discord's
    underscore emphasis needs a word boundary on the outside of each ``_``).
    """
    text = clean_text(text)

    def replace(m: re.Match[str]) -> str:
        kind = m.lastgroup
        token = m.group()
        if kind == "url":
            # Still defuse @everyone/@here: a link with one in it is never legitimate,
            # and a mangled link beats a message that reads like a mass ping.
            return _EVERYONE.sub("@" + ZWSP, token)
        if kind == "mention":
            # '@' -> '@\u200b' (also inside <@123>), '<' -> '<\u200b' for <#id>, <t:..>.
            return token + ZWSP
        if kind == "special" and minimal and _cannot_format(m.string, m.start(), token):
            return token
        if kind == "linestart":
            indent = token[: len(token) - len(token.lstrip(" \t"))]
            marker = token[len(indent) :]
            number = _LIST_NUMBER.fullmatch(marker)
            if number:
                return f"{indent}{number.group(1)}\\{number.group(2)}"
            return f"{indent}\\{marker}"
        return "\\" + token

    return (_TOKEN if keep_urls else _TOKEN_NO_URL).sub(replace, text)


def _cannot_format(text: str, at: int, token: str) -> bool:
    if token in "()":
        return True
    if token != "_" or at == 0 or at + 1 >= len(text):
        return False
    before, after = text[at - 1], text[at + 1]
    return before.isalnum() and after.isalnum()


def truncate(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """Return ``text`` cut to at most ``limit`` characters, ending in ``ellipsis`` if cut.

    Prefers a word boundary near the cut. Safe on escaped markdown: it never leaves a
    dangling backslash (which would escape the ellipsis or the next line) and never
    ends on a lone ``@``/``<`` split from its zero-width space.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if len(ellipsis) >= limit:
        return _tidy_cut(text[:limit])
    room = limit - len(ellipsis)
    cut = text[:room]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    # Only back up to a space when it costs little; a 600-char word still gets cut.
    if space >= max(1, room - 24):
        cut = cut[:space]
    return _tidy_cut(cut.rstrip()) + ellipsis


def _tidy_cut(cut: str) -> str:
    """Repair the end of a cut: no '@'/'<' parted from its ZWSP, no half escape pair."""
    if cut.endswith(("@", "<")):
        cut = cut[:-1]
    # An odd run of trailing backslashes means we cut an escape pair in half.
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]
    return cut


# --- teasers --------------------------------------------------------------------------

# Tokens ending in '.' that do not end a sentence, compared casefolded. "etc." is left
# out on purpose: it often does end one, and the "next word is capitalised" rule below
# handles the mid-sentence case.
_ABBREVIATIONS = frozenset(
    {
        "e.g.",
        "i.e.",
        "al.",
        "et al.",
        "vs.",
        "cf.",
        "viz.",
        "fig.",
        "figs.",
        "eq.",
        "eqs.",
        "sec.",
        "tab.",
        "ref.",
        "refs.",
        "approx.",
        "resp.",
        "no.",
        "nos.",
        "vol.",
        "pp.",
        "dr.",
        "prof.",
        "mr.",
        "ms.",
        "st.",
        "w.r.t.",
        "a.k.a.",
        "incl.",
        "ca.",
    }
)
# A sentence ends at . ! ? (plus closing quotes/brackets) followed by whitespace, or at
# a CJK full stop with or without a following space.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|[。！？]+[\"'”’)\]」』]*")
_WORD_BEFORE = re.compile(r"(\S+)$")


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences without breaking on e.g./i.e./et al./vs./3.5."""
    text = " ".join(text.split())
    sentences: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.end()
        if not _is_boundary(text, start, m.start(), end):
            continue
        sentence = text[start:end].strip()
        if sentence:
            sentences.append(sentence)
        start = end
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def _is_boundary(text: str, start: int, punct: int, end: int) -> bool:
    if text[punct] in "。！？":
        return True
    word_match = _WORD_BEFORE.search(text, start, end)
    word = word_match.group(1).casefold().lstrip("([\"'") if word_match else ""
    previous = text[start:end].split()
    two_words = " ".join(previous[-2:]).casefold() if len(previous) >= 2 else ""
    if word in _ABBREVIATIONS or two_words in _ABBREVIATIONS:
        return False
    # A lone initial ("J. Smith", "Fig. S3" aside) does not end a sentence.
    if len(word) == 2 and word[0].isalpha() and text[punct] == ".":
        return False
    following = text[end:].lstrip()
    # The next sentence starts with a capital, digit, quote or bracket, never lowercase:
    # "approx. three", "the so-called ... etc. and" stay in one sentence.
    return not (following and following[0].islower())


@functools.lru_cache(maxsize=8192)  # the same papers are laid out for every channel
def teaser(abstract: str, max_chars: int = 300) -> str:
    """One or two leading sentences of ``abstract``, at most ``max_chars`` long.

    Cuts at a sentence boundary; the second sentence is added only when both fit. If
    the first sentence alone is too long it is cut at a word boundary with '…'.
    Returns "" for an empty abstract. The result is raw text: escape it before use.
    """
    if max_chars <= 0:
        return ""
    # Only the first two sentences within max_chars can be used; a sentence still open at
    # the end of this prefix ends past max_chars, so cutting there changes nothing.
    sentences = split_sentences(clean_text(abstract)[: 2 * max_chars + 64])
    if not sentences:
        return ""
    first = sentences[0]
    if len(first) > max_chars:
        return truncate(first, max_chars)
    if len(sentences) > 1 and len(first) + 1 + len(sentences[1]) <= max_chars:
        return f"{first} {sentences[1]}"
    return first
