"""Search for the PostgreSQL backend, all native: a weighted tsvector (titles A,
abstracts B) with a GIN index ranked by ts_rank_cd, a trigram index on titles for
autocomplete, and the application-written `short_name` for acronym lookups. Mixed into
PostgresStorage, which provides `_rows()`.

Nothing the user typed is ever spliced into SQL or tsquery syntax: each word or phrase
is a bound parameter turned into a tsquery by plainto_tsquery / phraseto_tsquery, and
a prefix is one lexeme quoted by `_prefix_lexeme` (bot.core.query already reduced it
to letters and digits; the quoting makes that not matter).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from bot.core.models import Matches, ParsedQuery
from bot.core.sources import ALL_SOURCES, SourceFilter
from storage.rows import capped_matches
from storage.source_sql import numbered_marks, source_condition

# ts_rank_cd weights for {D, C, B, A}: a title hit counts ten abstract hits, as in the
# SQLite backend's index.
RANK_WEIGHTS = [0.1, 0.1, 0.1, 1.0]
NAME_LIMIT = 20
MIN_FUZZY_WORD = 3  # shorter words match most titles; no trigram index helps with them
_ALNUM = re.compile(r"^[^\W_]+$")


def _prefix_lexeme(word: str) -> str:
    """`word` as one quoted tsquery lexeme with prefix matching: `'word':*`."""
    escaped = word.replace("\\", "\\\\").replace("'", "''")
    return f"'{escaped}':*"


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def tsquery_parts(query: ParsedQuery) -> list[tuple[str, str]]:
    """(SQL function, bound value) per query item; the function makes one tsquery."""
    parts = [("plainto_tsquery", t) for t in query.terms if _ALNUM.match(t)]
    for phrase in query.phrases:
        kept = [w for w in phrase if _ALNUM.match(w)]
        if kept:
            parts.append(("phraseto_tsquery", " ".join(kept)))
    parts += [("to_tsquery", _prefix_lexeme(p)) for p in query.prefixes if _ALNUM.match(p)]
    return parts


class PostgresSearchStore:
    async def _rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        raise NotImplementedError  # provided by PostgresStorage

    async def sync_search_index(self) -> int:
        # The tsvector column and its indexes change in the writing transaction.
        return 0

    async def text_search(
        self,
        query: ParsedQuery,
        *,
        match_all: bool,
        topic: str | None,
        since: dt.date | None,
        limit: int,
        source: SourceFilter = ALL_SOURCES,
    ) -> list[tuple[int, float]]:
        if not tsquery_parts(query):
            return []
        params: list[object] = [topic, since.isoformat() if since else None, limit, RANK_WEIGHTS]
        where = self._match_where(query, match_all, params, source)
        return await self._rows(
            f"SELECT p.id, ts_rank_cd($4::float4[], p.search, q.q)::float8 AS rank"
            f" FROM papers p, {where}"
            " ORDER BY rank DESC, p.last_seen DESC, p.id DESC LIMIT $3",
            *params,
        )

    @staticmethod
    def _match_where(
        query: ParsedQuery, match_all: bool, params: list[object], source: SourceFilter
    ) -> str:
        """`(SELECT tsquery) q WHERE ...`: the papers matching `query`, in the topic $1
        (NULL: any) seen since $2 (NULL: ever), from `source`. Appends the query's and
        the source's values to `params`."""
        pieces = []
        for function, value in tsquery_parts(query):
            params.append(value)
            pieces.append(f"{function}('english', ${len(params)})")
        # Stop words give empty tsqueries, which && and || skip; only stop words: none.
        combined = (" && " if match_all else " || ").join(pieces)
        return (
            f"(SELECT {combined} AS q) q WHERE numnode(q.q) > 0 AND p.search @@ q.q"
            " AND ($1::text IS NULL OR EXISTS (SELECT 1 FROM paper_topics t"
            "  WHERE t.paper_id = p.id AND t.topic = $1))"
            " AND ($2::text IS NULL OR p.last_seen >= $2)"
            + source_condition(source, numbered_marks(params))
        )

    async def text_matches(
        self,
        query: ParsedQuery,
        *,
        match_all: bool,
        topic: str | None,
        since: dt.date | None,
        limit: int,
        count_up_to: int,
        source: SourceFilter = ALL_SOURCES,
    ) -> Matches:
        ranked = await self.text_search(
            query, match_all=match_all, topic=topic, since=since, limit=limit, source=source
        )
        if len(ranked) < limit:  # every match is in hand
            return Matches(ranked, len(ranked))
        # An exact count of a common word re-reads every matching row (0.3-0.9 s at 200k
        # papers); stopping one past the cap costs a few milliseconds.
        params: list[object] = [topic, since.isoformat() if since else None, count_up_to + 1]
        where = self._match_where(query, match_all, params, source)
        [(counted,)] = await self._rows(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM papers p, {where} LIMIT $3) s", *params
        )
        return capped_matches(ranked, int(counted), count_up_to)

    async def recent_matches(
        self, *, source: SourceFilter, since: dt.date | None, limit: int, count_up_to: int
    ) -> Matches:
        params: list[object] = [since.isoformat() if since else None]
        where = "($1::text IS NULL OR p.last_seen >= $1)" + source_condition(
            source, numbered_marks(params)
        )
        params.append(limit)
        ranked = await self._rows(
            f"SELECT p.id, 0::float8 FROM papers p WHERE {where}"
            f" ORDER BY p.last_seen DESC, p.id DESC LIMIT ${len(params)}",
            *params,
        )
        if len(ranked) < limit:  # every match is in hand
            return Matches(ranked, len(ranked))
        params[-1] = count_up_to + 1
        [(counted,)] = await self._rows(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM papers p WHERE {where} LIMIT ${len(params)}) s",
            *params,
        )
        return capped_matches(ranked, int(counted), count_up_to)

    async def papers_by_name(self, names: Sequence[str]) -> list[int]:
        wanted = [n for n in dict.fromkeys(names) if n]
        if not wanted:
            return []
        rows = await self._rows(
            "SELECT id FROM papers WHERE short_name = ANY($1::text[])"
            " ORDER BY last_seen DESC, id DESC LIMIT $2",
            wanted,
            NAME_LIMIT,
        )
        return [r[0] for r in rows]

    async def title_candidates(
        self, query: ParsedQuery, limit: int, written: str = ""
    ) -> list[tuple[int, str]]:
        """(id, title) of papers whose titles hold every typed word (each as a substring,
        so the last, half-typed one matches too), then of those holding any of them.
        Among the first, titles holding the text as `written` and the words in a row
        come first; each group most similar (trigrams) first. The trigram GIN index
        serves the LIKE patterns."""
        typed = [w for w in query.all_words() if _ALNUM.match(w)]
        words = list(dict.fromkeys(typed))
        if not words:
            return []
        found = await self._titles_like(words, True, limit, typed, written)
        if len(found) < limit:
            long_words = [w for w in words if len(w) >= MIN_FUZZY_WORD] or words
            seen = {pid for pid, _ in found}
            more = await self._titles_like(long_words, False, limit + len(found))
            found += [hit for hit in more if hit[0] not in seen]
        return found[:limit]

    async def _titles_like(
        self,
        words: list[str],
        match_all: bool,
        limit: int,
        typed: Sequence[str] = (),
        written: str = "",
    ) -> list[tuple[int, str]]:
        """Titles holding every (or any) of `words`, most similar first; with `typed`,
        those holding the text as `written`, then the typed words in a row as whole
        words, then in a row from the start of a word, before the rest. A fragment from
        the middle of a title (`Super Mario`) is one of hundreds of titles holding its
        words, and similarity alone cut it from the list. Those tests run only on the
        rows the LIKE patterns found, and cost far less a row than the similarity."""
        params: list[object] = [" ".join(words), limit]
        tests = []
        for word in words:
            params.append(_like_pattern(word))
            tests.append(f"lower(title) LIKE ${len(params)}")
        first = []
        if typed:
            text = " ".join(written.lower().split())
            if text and text.split() != list(typed):  # punctuation typed
                params.append(_like_pattern(text))
                first.append(f"lower(title) LIKE ${len(params)}")
            # Words are letters and digits only (checked by the caller), so none of
            # them is regular-expression syntax.
            in_a_row = "(^|[^[:alnum:]])" + "[^[:alnum:]]+".join(typed)
            params += [in_a_row + "([^[:alnum:]]|$)", in_a_row]
            first += [f"lower(title) ~ ${len(params) - 1}", f"lower(title) ~ ${len(params)}"]
        where = (" AND " if match_all else " OR ").join(tests)
        ahead = "".join(f"({test}) DESC, " for test in first)
        return await self._rows(
            f"SELECT id, title FROM papers WHERE {where} ORDER BY {ahead}"
            "similarity(lower(title), $1) DESC, last_seen DESC, id DESC LIMIT $2",
            *params,
        )

    async def titles(self, ids: Sequence[int]) -> list[tuple[int, str]]:
        by_id = dict(
            await self._rows("SELECT id, title FROM papers WHERE id = ANY($1::bigint[])", list(ids))
        )
        return [(pid, by_id[pid]) for pid in ids if pid in by_id]

    async def paper_by_arxiv_id(self, arxiv_ids: Sequence[str]) -> int | None:
        rows = await self._rows(
            "SELECT id FROM papers WHERE arxiv_id = ANY($1::text[]) ORDER BY id LIMIT 1",
            list(dict.fromkeys(arxiv_ids)),
        )
        return rows[0][0] if rows else None

    async def recent_titles(self, limit: int) -> list[tuple[int, str]]:
        return await self._rows(
            "SELECT id, title FROM papers ORDER BY last_seen DESC, id DESC LIMIT $1", limit
        )
