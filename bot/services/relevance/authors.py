"""Author names reduced to a key that survives accents, initials and word order."""

from __future__ import annotations

import re
import unicodedata

_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)


def author_key(name: str) -> str:
    """``"Ahmet Üstün"``, ``"A. Ustun"`` and ``"Üstün, Ahmet"`` -> ``"ustun a"``.

    Family name plus first initial: what bibliographies agree on. Two people can share
    a key; following an author is a wish to see more, so an occasional extra paper is
    the better error than a missed one.
    """
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    if "," in text:  # "Family, Given"
        family, _, given = text.partition(",")
        text = f"{given} {family}"
    parts = _LETTERS.findall(text)
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return f"{parts[-1]} {parts[0][0]}"
