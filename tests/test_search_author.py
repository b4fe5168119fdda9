"""`/search author:` and `paperbot search --author`: an author's papers only, with a
true total, on both backends, from real Hugging Face days (real authors)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path

from bot.core.authors import author_key, fold
from bot.core.ingest import ingest_bytes
from bot.core.sources import ALL_SOURCES
from bot.core.topics import load_default_topics
from bot.services.search import SearchService
from tests.cli_process import paperbot
from tests.relevance_dumps import hf_dump, papers_by_day


async def _store_days(store, days: int = 40) -> None:
    for n, (day, papers) in enumerate(list(papers_by_day().items())[:days]):
        await ingest_bytes(
            store, hf_dump(papers), f"{day}.json", cli_date=dt.date.fromisoformat(day)
        )
        assert n < days


def _word_set(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", fold(text)))


async def test_an_authors_papers_and_their_total_on_both_backends(backend_storage) -> None:
    store = backend_storage
    await _store_days(store)
    everything = await store.get_papers(list(range(1, 5000)))
    # The truth, from each stored paper's own author list (not the paper_authors table).
    by_key: dict[str, set[int]] = {}
    for paper in everything:
        for name in paper.authors:
            by_key.setdefault(author_key(name), set()).add(paper.id)
    busiest = [key for key, ids in sorted(by_key.items(), key=lambda kv: -len(kv[1])) if key][:8]
    assert len(by_key[busiest[0]]) >= 3
    service = SearchService(store, load_default_topics())
    names = {author_key(n): n for p in everything for n in p.authors}
    for key in busiest:
        name = names[key]
        found = await service.search(None, author=name, limit=100)
        assert found.total == len(by_key[key]), name
        assert {h.paper.id for h in found.hits} == by_key[key]
        assert all("author: " in " ".join(h.why) for h in found.hits)
        days = [h.paper.last_seen for h in found.hits]
        assert days == sorted(days, reverse=True)  # newest first without a query
        # Written with an initial and without accents, it is the same author.
        family = name.split()[-1]
        initialled = f"{fold(name.split()[0])[0].upper()}. {fold(family)}"
        again = await service.search(None, author=initialled, limit=100)
        assert {h.paper.id for h in again.hits} == by_key[key]
        # A word from one of their titles: exactly the author's papers holding it.
        papers = [p for p in everything if p.id in by_key[key]]
        counts = Counter(w for p in papers for w in _word_set(p.title) if len(w) > 6)
        if not counts:
            continue
        word = counts.most_common(1)[0][0]
        with_word = await service.search(word, author=name, limit=100)
        holding = {p.id for p in papers if word in _word_set(p.title) | _word_set(p.abstract)}
        assert holding <= {h.paper.id for h in with_word.hits}, (name, word)
        assert {h.paper.id for h in with_word.hits} <= by_key[key]
        assert with_word.total == len(with_word.hits)


async def test_an_author_nobody_is_finds_nothing_and_a_source_filter_still_applies(
    backend_storage,
) -> None:
    store = backend_storage
    await _store_days(store, days=5)
    service = SearchService(store, load_default_topics())
    nobody = await service.search("model", author="Zzyzx Qwertyuiop")
    assert nobody.hits == [] and nobody.total == 0
    paper = (await store.get_papers([1]))[0]
    mine = await service.search(None, author=paper.authors[0], source=ALL_SOURCES)
    assert paper.id in {h.paper.id for h in mine.hits}


def test_the_cli_filters_by_author_and_refuses_a_name_without_letters(tmp_path: Path) -> None:
    days = list(papers_by_day().items())[:10]
    db = tmp_path / "papers.db"
    for day, papers in days:
        dump = tmp_path / f"{day}.json"
        dump.write_bytes(hf_dump(papers))
        done = paperbot(tmp_path, "ingest", "--db", str(db), str(dump))
        assert done.returncode == 0, done.stderr
    counted = Counter(
        author_key(a)
        for _, papers in days
        for p in {p["id"]: p for p in papers}.values()
        for a in set(p["authors"])
    )
    key, count = next((k, c) for k, c in counted.most_common() if k)
    name = next(a for _, ps in days for p in ps for a in p["authors"] if author_key(a) == key)
    search = ("search", "--db", str(db), "--author")
    done = paperbot(tmp_path, *search, name, "--json", "--limit", "50")
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert len({h["id"] for h in hits}) == min(count, 50)
    header = paperbot(tmp_path, *search, name)
    assert header.stdout.splitlines()[0].startswith(f"Results 1–{min(count, 10)} of {count}")
    assert f"by {name}" in header.stdout.splitlines()[0]
    bad = paperbot(tmp_path, "search", "--db", str(db), "--author", "1234")
    assert bad.returncode == 2
    assert (
        bad.stderr.strip().splitlines() == ["paperbot: --author: an author's name needs letters"]
        or len(bad.stderr.strip().splitlines()) == 1
    )


async def test_slash_search_by_author_with_autocomplete(tmp_path) -> None:
    from tests.discord_harness import bot_against_fake, settle

    async with bot_against_fake(tmp_path, extensions=("cogs.search",)) as (fake, bot, ids):
        await _store_days(bot.storage, days=10)
        everything = await bot.storage.get_papers(list(range(1, 5000)))
        keys = Counter(author_key(a) for p in everything for a in set(p.authors))
        key, count = next((k, c) for k, c in keys.most_common() if k)
        name = next(a for p in everything for a in p.authors if author_key(a) == key)
        family = name.split()[-1]
        offered = await fake.autocomplete(
            ids.guild, ids.channel, ids.user, "search", {"author": family[:4]}, focused="author"
        )
        assert any(author_key(c["value"]) == key for c in offered)
        reply = await fake.invoke(ids.guild, ids.channel, ids.user, "search", {"author": name})
        assert not reply.ephemeral
        assert reply.content.startswith(f"Results 1–{min(count, 5)} of {count}")
        assert "by " in reply.content
        # Quotes typed around the name are not part of it (Discord's box keeps them).
        quoted = await fake.invoke(
            ids.guild, ids.channel, ids.user, "search", {"author": f"“{name}”"}
        )
        assert quoted.content.startswith(f"Results 1–{min(count, 5)} of {count}")
        assert f"by {name}" in quoted.content and "“" not in quoted.content.split("\n")[0]
        bad = await fake.invoke(ids.guild, ids.channel, ids.user, "search", {"author": "42"})
        assert bad.ephemeral and bad.content.endswith("An author's name needs letters.")
        await settle()
        assert fake.payload_problems == []
