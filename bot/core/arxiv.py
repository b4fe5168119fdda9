"""arXiv ids as people paste them: `2403.15447`, `arXiv:2403.15447v2`, an arxiv.org or
huggingface.co/papers link, an old-style `hep-th/9901001`.

Papers are stored under the version-less id their dump gave (`paper.id` in the JSON
API), so every form is reduced to that. Only text that is nothing but an id or such a
link counts: `2403.15447 results` is a search for words, not an id.
"""

from __future__ import annotations

import re

# New-style ids (April 2007 on): YYMM.NNNN, five digits from 2015; old-style ids:
# archive, optional subject class, slash, YYMMNNN.
_NEW = r"\d{4}\.\d{4,5}"
_OLD = r"[a-z][a-z-]*(?:\.[a-z]{2})?/\d{7}"
_ID = rf"(?P<id>{_NEW}|{_OLD})(?:v\d+)?"
_BARE = re.compile(rf"(?:arxiv\s*:?\s*)?{_ID}", re.IGNORECASE)
# The rest of a link after the id: `.pdf`, a trailing slash, a query or a fragment.
_TAIL = r"(?:\.pdf)?/?(?:[?#]\S*)?"
_LINK = re.compile(
    r"(?:https?://)?(?:(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)"
    rf"|(?:www\.)?(?:huggingface\.co|hf\.co)/papers)/{_ID}{_TAIL}",
    re.IGNORECASE,
)


def arxiv_reference(text: str) -> str | None:
    """The version-less arXiv id `text` names, or None when `text` is not an id or a
    link to one. Old-style ids come back as arXiv writes them (see canonical_id)."""
    # Discord users wrap links in <...> to stop the preview.
    cleaned = text.strip().removeprefix("<").removesuffix(">").strip()
    found = _BARE.fullmatch(cleaned) or _LINK.fullmatch(cleaned)
    if found is None:
        return None
    return canonical_id(found["id"])


def canonical_id(arxiv_id: str) -> str:
    """Old-style ids as arXiv writes them: the archive in lower case, a subject class
    in upper case (`hep-th/9711200`, `math.GT/...`); new-style ids unchanged."""
    if "/" not in arxiv_id:
        return arxiv_id
    archive, number = arxiv_id.split("/", 1)
    name, dot, subject = archive.partition(".")
    return f"{name.lower()}{dot}{subject.upper()}/{number}"


_OAI_PREFIX = "oai:arxiv.org:"


def listing_id(text: str) -> str | None:
    """The version-less id in an arXiv feed's id, guid or link: `oai:arXiv.org:IDvN`
    (announcement feeds), `http://arxiv.org/abs/IDvN` (API entries, old and new), a bare
    `arXiv:IDvN`; None for anything else (an API error entry's `.../api/errors#...`)."""
    cleaned = text.strip()
    if cleaned.casefold().startswith(_OAI_PREFIX):
        cleaned = cleaned[len(_OAI_PREFIX) :]
    return arxiv_reference(cleaned)
