"""Author names reduced to a key: the rule is the core's (`bot.core.authors`), shared by
storage (`paper_authors.name_key`), follows, mutes and the engine."""

from __future__ import annotations

from bot.core.authors import author_key

__all__ = ["author_key"]
