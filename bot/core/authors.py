"""Author names reduced to a key that survives accents, case, initials and word order.

"José M. Álvarez", "Jose Alvarez", "J. Alvarez" and "Álvarez, José" all have the key
``"alvarez j"``: the family name and the first initial, what bibliographies agree on.
Stored beside every author of a paper (`paper_authors.name_key`), it is what an author
follow, an author mute and "papers by this author" compare.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)
# Generational suffixes are not family names: "John Smith Jr." is "smith j".
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
# Letters that carry no separable accent, so NFKD leaves them alone, but that people
# type as plain Latin letters all the same ("Çalık" is "Calik", "Łukasz" "Lukasz").
_PLAIN = str.maketrans(
    {"ı": "i", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe"}
)


def fold(text: str) -> str:
    """Accents dropped and case folded: "Üstün" -> "ustun", "Çalık" -> "calik"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return plain.translate(_PLAIN)


def name_words(name: str) -> list[str]:
    """The folded words of a name, given names first ("Family, Given" turned round),
    generational suffixes left out."""
    text = fold(name)
    if "," in text:  # "Family, Given"
        family, _, given = text.partition(",")
        text = f"{given} {family}"
    parts = _LETTERS.findall(text)
    while len(parts) > 1 and parts[-1] in _SUFFIXES:
        parts.pop()
    return parts


def author_key(name: str) -> str:
    """``"Ahmet Üstün"``, ``"A. Ustun"`` and ``"Üstün, Ahmet"`` -> ``"ustun a"``.

    Family name plus first initial. Two people can share a key; following an author is
    a wish to see more, so an occasional extra paper is the better error than a missed
    one. A one-word name (a mononym, a name in a script without spaces) is its own key;
    a name without letters has the key "".
    """
    parts = name_words(name)
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return f"{parts[-1]} {parts[0][0]}"


def author_key_prefixes(typed: str) -> list[tuple[str, str]]:
    """What someone typing an author's name may mean, for autocomplete over keys:
    (family-name prefix, given initial or "") pairs, most likely first.

    "alv" -> [("alv", "")]; "jose alv" -> [("alv", "j"), ("jose", "")]: the last word is
    most likely the (half-typed) family name, an earlier one its given name.
    """
    words = name_words(typed)
    if not words:
        return []
    family = words[-1]
    out = [(family, words[0][0] if len(words) > 1 else "")]
    out += [(word, "") for word in reversed(words[:-1]) if len(word) > 1]
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class AuthorName:
    """A stored author as autocomplete offers it: the key, one spelling of the name
    found on papers, and how many stored papers carry the key."""

    key: str
    name: str
    papers: int
