"""Scenario 5: a corpus of hostile dumps, each ingested correctly or refused with one
clear line and nothing written; plus parser and query fuzzing (2,000 examples each)."""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.digest import DigestSettings, layout_digest
from bot.core.ingest import ingest_bytes
from bot.core.limits import message_problems
from bot.core.models import DumpError
from bot.core.parse import parse_dump
from bot.core.topics import load_default_topics
from bot.services.search import SearchService
from tests.conftest import SAMPLE_DUMP, TODAY, assert_index_matches
from tests.reliability.dumps import sample_pairs

ABSTRACT = "We propose a method. It works well on three benchmarks. Code is released."


def page(*pairs: tuple[str, str], date_line: str = "Mar 20") -> str:
    body = "\n\n".join(f"{t}\n\n{a}" if a else t for t, a in pairs)
    return f"new\n\nSubscribe\n\n{date_line}\n\n{body}\n"


def api_item(**paper) -> dict:
    base = {
        "id": "2403.00001",
        "title": "A Paper",
        "summary": ABSTRACT,
        "authors": [{"name": "Ada"}],
        "upvotes": 3,
        "submittedOnDailyAt": "2026-03-20T08:00:00.000Z",
    }
    base.update(paper)
    return {"paper": base, "title": base.get("title")}


def build_corpus() -> dict[str, tuple[bytes, int | None]]:
    """name -> (bytes, papers expected); None expected means "must be refused"."""
    sample = SAMPLE_DUMP.read_bytes()
    pairs = sample_pairs()
    text = sample.decode()
    cut = text.index(pairs[40][1]) + len(pairs[40][1]) // 2
    missing_middle = text.replace(pairs[50][1] + "\n\n", "", 1)
    rng = random.Random(5)
    return {
        # encodings
        "crlf": (sample.replace(b"\n", b"\r\n"), 98),
        "bom": (b"\xef\xbb\xbf" + sample, 98),
        "cr_only": (sample.replace(b"\n", b"\r"), 98),
        "latin1": (page(("Caf\xe9 au lait models", ABSTRACT)).encode("latin-1"), None),
        "utf16": (text.encode("utf-16"), None),
        # damaged files
        "truncated_mid_abstract": (text[:cut].encode(), 41),
        "nul_bytes": (sample[:5000] + b"\x00" * 64 + sample[5000:], None),
        "junk_50mb": (rng.randbytes(50 * 1024 * 1024), None),
        "png_header": (b"\x89PNG\r\n\x1a\n" + rng.randbytes(4096), None),
        "only_headers": (
            b"new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\n"
            b"byAK and the research community\n\nMar 14\n",
            None,
        ),
        "empty": (b"", None),
        "whitespace": (b" \n\t\n \r\n", None),
        "json_empty_list": (b"[]", None),
        "json_truncated": (json.dumps([api_item()])[:-7].encode(), None),
        "json_missing_fields": (
            json.dumps(
                [api_item(), {"paper": {"summary": "no title"}}, {"nonsense": 1}, 42]
            ).encode(),
            1,
        ),
        "json_extra_fields": (
            json.dumps([api_item(extra={"nested": [1, 2]}, mediaUrls=None)]).encode(),
            1,
        ),
        "json_odd_types": (
            json.dumps(
                [
                    api_item(authors=None, upvotes="1.2k", id="2403.00002v3"),
                    api_item(id=None, title="Second", upvotes=None),
                ]
            ).encode(),
            2,
        ),
        # awkward papers
        "duplicates_in_file": (
            page(
                ("Same Paper Twice", ABSTRACT),
                ("Other One", ABSTRACT),
                ("Same Paper Twice", ABSTRACT),
            ).encode(),
            2,
        ),
        "edited_title_other_day": (
            page(
                (pairs[0][0].replace("Semantic Gaps", "Semantic Gap"), pairs[0][1]),
                date_line="Mar 21",
            ).encode(),
            1,
        ),
        "abstract_10k": (page(("Very Long Abstract Paper", "Word salad here. " * 600)).encode(), 1),
        "title_600": (page(("T" + "itle words " * 55, ABSTRACT)).encode(), 1),
        # titles that try to inject
        "everyone": (page(("@everyone @here <@123> check this out", ABSTRACT)).encode(), 1),
        "markdown": (
            page(("**bold** _it_ [click](http://evil.example) `x` ||spoiler||", ABSTRACT)).encode(),
            1,
        ),
        "url_title": (page(("https://evil.example/login?next=/", ABSTRACT)).encode(), 1),
        "rtl_title": (page(("\u202eevil\u202c نموذج لغوي كبير للترجمة", ABSTRACT)).encode(), 1),
        "emoji_zero_width": (page(("🧬 Protein\u200b Models 🚀", ABSTRACT)).encode(), 1),
        # broken content
        "missing_abstract_middle": (missing_middle.encode(), 98),
    }


CORPUS = build_corpus()


def snapshot(path: str) -> dict:
    conn = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                " AND name NOT LIKE 'papers_fts_%'"
            )
        ]
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
    finally:
        conn.close()


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 25


def title_key(title: str) -> str:
    """Two stored papers with this key equal are one paper stored twice. Independent of
    the product's own title normalising, which is what is being checked."""
    return " ".join(title.split()).casefold()


def count_papers(figures, expected: int, papers: list) -> None:
    """The row counts papers found in the database, never the expected number."""
    distinct = len({title_key(p.title) for p in papers})
    figures.posts_expected = expected
    figures.posts_seen = len(papers)
    figures.duplicates = len(papers) - distinct
    figures.losses = max(0, expected - distinct)


@pytest.mark.parametrize("name", sorted(CORPUS))
async def test_hostile_dump(name, sample_storage, figures) -> None:
    raw, expected = CORPUS[name]
    before = snapshot(sample_storage.path)
    papers_before = (await sample_storage.stats())["papers"]
    # A day of its own, so the papers counted below are this dump's only.
    report = await ingest_bytes(sample_storage, raw, f"2026-04-01-{name}.txt", today=TODAY)
    figures.trials = 1
    if expected is None:
        # Papers a refused dump stored anyway show up as seen (and as a loss of trust).
        figures.posts_seen = (await sample_storage.stats())["papers"] - papers_before
        assert report.error, f"{name} should have been refused"
        assert "\n" not in report.error and len(report.error) < 300
        assert snapshot(sample_storage.path) == before, "a refused dump wrote something"
        return
    assert report.error is None, report.error
    if report.already_ingested:  # same content as the sample, only re-encoded: a no-op
        pytest.fail(f"{name}: hashing should see different bytes")
    day = report.day
    papers = await sample_storage.papers_on_day(day)
    count_papers(figures, expected, papers)
    assert report.parsed >= expected
    assert report.new + report.known + report.merged == expected
    await assert_index_matches(sample_storage)
    assert len(papers) == expected
    assert figures.duplicates == 0 and figures.losses == 0, [p.title for p in papers]
    for payload in layout_digest(papers, day, DigestSettings(max_items=100)):
        assert message_problems(payload) == []
        text = json.dumps(payload)
        assert "@everyone" not in text and "@here" not in text  # neutralised in the text too


async def test_missing_abstract_keeps_pairs(sample_storage) -> None:
    raw, _ = CORPUS["missing_abstract_middle"]
    parsed = parse_dump(raw)
    pairs = sample_pairs()
    assert [p.title for p in parsed.papers] == [t for t, _ in pairs]
    assert parsed.papers[50].abstract == ""
    assert [p.abstract for i, p in enumerate(parsed.papers) if i != 50] == [
        a for i, (_, a) in enumerate(pairs) if i != 50
    ]


@pytest.mark.heavy
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=4000), st.text(max_size=3000).map(str.encode)))
def test_parser_fuzz_never_crashes(raw: bytes) -> None:
    try:
        parse_dump(raw)
    except DumpError as exc:
        assert "\n" not in str(exc)


_query_service: dict = {}


@pytest.mark.heavy
@settings(
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    query=st.text(max_size=300),
    topic=st.one_of(st.none(), st.sampled_from(["speech-audio", "llm", "nope", ""])),
    since=st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1))),
)
async def test_search_fuzz_never_crashes(sample_storage, query, topic, since) -> None:
    service = _query_service.get(id(sample_storage))
    if service is None:
        service = _query_service[id(sample_storage)] = SearchService(
            sample_storage, load_default_topics()
        )
    response = await service.search(query, topic=topic, since=since, limit=10)
    assert len(response.hits) <= 10
