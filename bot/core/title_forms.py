"""The forms of a title that dedupe compares, beyond `normalize_title`.

Authors retitle a paper in ways that never make it another paper: they append an
edition note (`(Extended Version)`, `[Technical Report]`), switch between British and
American spelling, or add a version marker (`v2`). Each helper here undoes one of those
so that two titles of one paper compare equal. They are applied to both titles alike,
so a rule only has to map a variant and its counterpart to the same form.
"""

from __future__ import annotations

import functools
import re

from bot.core.text import normalize_title, words

# A trailing bracketed note about the edition, not the content: `(Extended Version)`,
# `[Technical Report]`, `(v2)`, `(Full paper with appendix)`.
_EDITION_WORDS = (
    r"version|report|preprint|draft|extended|revised|appendix|appendices|supplementary"
    r"|camera[- ]ready|full paper|long paper"
)
_EDITION = re.compile(
    rf"\s*[\(\[][^()\[\]]*\b(?:{_EDITION_WORDS})\b[^()\[\]]*[\)\]]\s*$"
    r"|\s*[\(\[]\s*v\d+(?:\.\d+)*\s*[\)\]]\s*$",
    re.IGNORECASE,
)
# A trailing version marker: `X v2`, `X, v3`, `X - Version 2`. Only at the very end: a
# name such as `DeepSeek-V2: ...` is another paper, not an edition.
_VERSION = re.compile(r"(?:\s*[-,:]\s*|\s+)v(?:ersion)?\s*\d+(?:\.\d+)*\s*$", re.IGNORECASE)
_NUMBER = re.compile(r"\d+")
_PLUS = re.compile(r"(\++)")

# British spellings and their American counterparts, for the words paper titles use.
# Endings that are regular (-isation, -ise, -yse) are rewritten by rule; the rest are
# listed, because a general rule (`-lled` -> `-led`) would also join `filled` and `filed`.
_OUR_STEMS = (
    "arm", "behavi", "col", "endeav", "fav", "flav", "harb", "hon", "hum", "lab", "neighb",
    "od", "rig", "rum", "savi", "vap", "vig",
)  # fmt: skip
_LL_STEMS = (
    "cancel", "channel", "counsel", "dial", "equal", "fuel", "funnel", "label", "level",
    "marshal", "model", "pixel", "rival", "signal", "travel", "tunnel",
)  # fmt: skip
_WORDS = {
    "aluminium": "aluminum",
    "ageing": "aging",
    "analogue": "analog",
    "artefact": "artifact",
    "artefacts": "artifacts",
    "catalogue": "catalog",
    "catalogues": "catalogs",
    "centre": "center",
    "centres": "centers",
    "centred": "centered",
    "defence": "defense",
    "defences": "defenses",
    "dialogue": "dialog",
    "dialogues": "dialogs",
    "fibre": "fiber",
    "fibres": "fibers",
    "grey": "gray",
    "judgement": "judgment",
    "judgements": "judgments",
    "licence": "license",
    "litre": "liter",
    "manoeuvre": "maneuver",
    "metre": "meter",
    "metres": "meters",
    "offence": "offense",
    "programme": "program",
    "programmes": "programs",
    "sceptical": "skeptical",
    "theatre": "theater",
}
_AE_STEMS = ("anaem", "anaesth", "haem", "leukaem", "orthopaed", "paed", "encyclopaed")
_ISE = re.compile(r"is(e|ed|es|ing|er|ers|ation|ations|ational)$")
_YSE = re.compile(r"ys(e|ed|es|ing|er|ers)$")
_SPELLING_CACHE = 65_536


@functools.lru_cache(maxsize=_SPELLING_CACHE)
def american(word: str) -> str:
    """One lower-cased word in American spelling (`optimisation` -> `optimization`)."""
    if word in _WORDS:
        return _WORDS[word]
    # -ise is rewritten only in longer words: `prise`/`prize` are different words.
    if len(word) >= 7 and _ISE.search(word):
        return _ISE.sub(r"iz\1", word)
    if len(word) >= 6 and _YSE.search(word):
        return _YSE.sub(r"yz\1", word)
    for stem in _OUR_STEMS:
        if word.startswith(stem + "our"):
            return stem + "or" + word[len(stem) + 3 :]
    for stem in _LL_STEMS:
        if word.startswith(stem + "l") and word[len(stem) + 1 :] in ("ed", "ing", "er", "ers"):
            return stem + word[len(stem) + 1 :]
    for stem in _AE_STEMS:
        if word.startswith(stem):
            return stem.replace("ae", "e") + word[len(stem) :]
    if word.startswith(("oesoph", "oestr", "foet")):
        return word.replace("oe", "e", 1)
    return word


def title_key(title: str) -> str:
    """`normalize_title`, except that runs of `+` are kept: `LLaVA++` names a successor
    of `LLaVA`, not the same paper, so the two must not share an exact key. Titles
    without `+` (nearly all) get exactly their normalized title."""
    if "+" not in title:
        return normalize_title(title)
    return "".join(
        part if part.startswith("+") else normalize_title(part) for part in _PLUS.split(title)
    )


def strip_edition(title: str) -> str:
    """The title without a trailing edition note (`(Extended Version)`, `[v2]`)."""
    return _EDITION.sub("", title)


def title_core(title: str) -> str:
    """What stays of a title through every edit that keeps the paper: the edition note
    dropped, American spelling, then `title_key` (case, spacing, hyphens and punctuation
    gone). Two titles with equal cores name the same paper."""
    kept = strip_edition(title)
    if "+" in kept:
        plain = [american(w) if not w.startswith("+") else w for w in _plus_words(kept)]
        return "".join(plain)
    return "".join(american(w) for w in words(kept))


def _plus_words(title: str) -> list[str]:
    out: list[str] = []
    for part in _PLUS.split(title):
        out += [part] if part.startswith("+") else words(part)
    return out


def content_numbers(title: str) -> tuple[str, ...]:
    """The numbers in a title, leaving out an edition note and a trailing version marker:
    `X v2` has the numbers of `X`, `Llama 2` does not have those of `Llama`."""
    return tuple(_NUMBER.findall(_VERSION.sub("", strip_edition(title))))
