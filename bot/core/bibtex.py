"""A member's saved papers as a BibTeX file (`/saved export`): one ``@misc`` entry per
paper, with its arXiv id as ``eprint`` (``archivePrefix = {arXiv}``) where known, its
link, authors and year. Pure text; every stored string is escaped for LaTeX."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from bot.core.models import StoredPaper
from bot.core.render import paper_url

# LaTeX's special characters, as a reference manager expects them inside a field.
_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_SPECIAL = re.compile(r"[\\{}&%$#_~^]")
_KEY_WORD = re.compile(r"[A-Za-z0-9]+")
_STOP = {"a", "an", "the", "on", "of", "for", "in", "to", "and", "with", "towards", "via"}


def latex_escape(text: str) -> str:
    """`text` on one line, with LaTeX's special characters escaped."""
    return _SPECIAL.sub(lambda m: _LATEX[m[0]], " ".join(text.split()))


def _ascii_words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _KEY_WORD.findall(plain)


def citation_key(paper: StoredPaper) -> str:
    """`familyYEARword`, e.g. ``vaswani2017attention``; ASCII letters and digits only."""
    family = ""
    if paper.authors:
        words = _ascii_words(paper.authors[0])
        family = words[-1].lower() if words else ""
    title_words = [w.lower() for w in _ascii_words(paper.title)]
    word = next((w for w in title_words if w not in _STOP), "")
    return f"{family or 'paper'}{paper.first_seen.year}{word}"


def _unique_keys(papers: Sequence[StoredPaper]) -> list[str]:
    seen: dict[str, int] = {}
    keys: list[str] = []
    for paper in papers:
        key = citation_key(paper)
        n = seen.get(key, 0)
        seen[key] = n + 1
        # The second `smith2026deep` becomes `smith2026deepb`, as reference managers do.
        keys.append(key if n == 0 else f"{key}{_suffix(n)}")
    return keys


def _suffix(n: int) -> str:
    """b, c, … z for the 2nd to 26th entry with one key; then their numbers."""
    return chr(ord("a") + n) if n < 26 else str(n + 1)


def entry(paper: StoredPaper, key: str) -> str:
    fields: list[tuple[str, str]] = [("title", latex_escape(paper.title))]
    if paper.authors:
        fields.append(("author", " and ".join(latex_escape(a) for a in paper.authors)))
    fields.append(("year", str(paper.first_seen.year)))
    arxiv_id = (paper.arxiv_id or "").strip()
    if arxiv_id:
        fields += [("eprint", latex_escape(arxiv_id)), ("archivePrefix", "arXiv")]
        if paper.categories:
            fields.append(("primaryClass", latex_escape(paper.categories[0])))
    # A URL is verbatim in BibTeX: only braces could break the entry, and URLs we
    # build percent-encode them.
    fields.append(("url", paper_url(paper).replace("{", "%7B").replace("}", "%7D")))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{key},\n{body}\n}}\n"


def bibtex(papers: Iterable[StoredPaper]) -> str:
    """The papers as one .bib file's text, in the order given."""
    listed = list(papers)
    return "\n".join(entry(p, k) for p, k in zip(listed, _unique_keys(listed), strict=True))
