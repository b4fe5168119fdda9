"""`paperbot import-arxiv-snapshot` as a subprocess on real snapshot records, into each
backend (a SQLite file, a PostgreSQL schema): what it stores, its summary, filters and
usage errors, a rerun that changes nothing, a paper a daily dump stored first merged by
its arXiv id, and a SIGKILL mid-import that a rerun finishes into exactly the database
an uninterrupted import makes."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import json
import lzma
import os
import pty
import re
import signal
import sqlite3
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from bot.core.dedupe import paper_words
from bot.core.query import parse_query
from bot.core.snapshot import SnapshotPaper, parse_record
from tests.cli_process import clean_environment, one_line, paperbot
from tests.conftest import create_schema, drop_schema, with_search_path
from tests.forked_cli import start_cli

DATA = Path(__file__).resolve().parent / "data" / "snapshot"
FIRST = DATA / "snapshot_first100.jsonl"
OAI_CS = DATA / "oai_cs_1000.jsonl.gz"  # 1,000 real cs records, 66 with old-style ids
# Not content: PostgreSQL's statement counter (one bump per writing statement, so it
# counts batches) and when each migration ran.
BOOKKEEPING = {"data_version", "paperbot_migrations"}


class Databases:
    """Databases of one backend by name: files in tmp_path for SQLite, one schema
    each for PostgreSQL (dropped afterwards); read directly, as an operator would."""

    def __init__(self, backend: str, tmp_path: Path, server: str | None) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.server = server
        self.schemas: dict[str, str] = {}

    def location(self, name: str) -> str:
        """What `--db` takes for the database `name`."""
        if self.server is None:
            return str(self.tmp_path / name)
        if name not in self.schemas:
            self.schemas[name] = asyncio.run(create_schema(self.server))
        return with_search_path(self.server, self.schemas[name])

    def rows(self, name: str, sql: str) -> list[tuple]:
        if self.server is None:
            conn = sqlite3.connect(self.tmp_path / name)
            try:
                return conn.execute(sql).fetchall()
            finally:
                conn.close()

        async def fetch() -> list[tuple]:
            conn = await asyncpg.connect(self.location(name))
            try:
                return [tuple(row) for row in await conn.fetch(sql)]
            finally:
                await conn.close()

        return asyncio.run(fetch())

    def tables(self, name: str) -> list[str]:
        if self.server is None:
            sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        else:
            sql = (
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            )
        return [t for (t,) in self.rows(name, sql) if t not in BOOKKEEPING]

    def content(self, name: str) -> dict[str, list[tuple]]:
        """Every row of every table, sorted: two databases with the same content
        compare equal."""
        return {
            t: sorted(self.rows(name, f"SELECT * FROM {t}"), key=repr) for t in self.tables(name)
        }

    def drop(self) -> None:
        for schema in self.schemas.values():
            assert self.server is not None
            asyncio.run(drop_schema(self.server, schema))


@pytest.fixture(params=["sqlite", "postgres"])
def dbs(request, tmp_path) -> Iterator[Databases]:
    server = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    databases = Databases(request.param, tmp_path, server)
    try:
        yield databases
    finally:
        databases.drop()


def run_import(
    tmp_path: Path, dbs: Databases, *args: str, db: str = "p.db"
) -> subprocess.CompletedProcess:
    return paperbot(tmp_path, "import-arxiv-snapshot", *args, "--db", dbs.location(db))


def kill_import_after_batch(tmp_path: Path, location: str, batch_size: int, batch: int) -> None:
    """Import OAI_CS in a real subprocess and SIGKILL it as soon as it reports batch
    `batch` committed."""
    process = start_cli(
        ["import-arxiv-snapshot", str(OAI_CS), "--batch", str(batch_size), "--db", location],
        cwd=tmp_path,
        env=clean_environment(),
    )
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith(f"batch {batch}:".encode()):
            process.kill()
            break
    assert process.wait(timeout=60) == -signal.SIGKILL


def search_ids(tmp_path: Path, dbs: Databases, db: str, query: str) -> list[str]:
    done = paperbot(tmp_path, "search", query, "--json", "--limit", "20", "--db", dbs.location(db))
    assert done.returncode == 0, done.stderr
    return [hit["url"] for hit in json.loads(done.stdout)]


def test_imported_papers_pass_the_arxiv_source_filter(tmp_path, dbs) -> None:
    # The import writes no dump, yet its papers' arXiv categories make them arXiv's.
    assert run_import(tmp_path, dbs, str(FIRST)).returncode == 0
    wanted = {"arxiv:cs.AI": set(), "arxiv:hep-th": set(), "arxiv": set()}
    for line in FIRST.read_text().splitlines():
        record = json.loads(line)
        categories = record["categories"].split()
        for typed, ids in wanted.items():
            category = typed.partition(":")[2]
            if not category or category in categories:
                ids.add(f"https://arxiv.org/abs/{record['id']}")
    for typed, expected in wanted.items():
        done = paperbot(
            tmp_path, "search", "--source", typed, "--json", "--limit", "100",
            "--db", dbs.location("p.db"),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert {hit["url"] for hit in json.loads(done.stdout)} == expected, typed
    assert len(wanted["arxiv:cs.AI"]) == 2 and len(wanted["arxiv"]) == 100
    nothing = paperbot(tmp_path, "search", "--source", "hf", "--json", "--db", dbs.location("p.db"))
    assert nothing.returncode == 0 and json.loads(nothing.stdout) == []


def test_import_stores_papers_searchable_with_categories_and_authors(tmp_path, dbs) -> None:
    done = run_import(tmp_path, dbs, str(FIRST))
    assert done.returncode == 0, done.stderr
    assert "100 papers imported, 0 merged" in done.stdout
    db = "p.db"
    rows = dbs.rows
    assert rows(db, "SELECT COUNT(*) FROM papers") == [(100,)]
    assert rows(
        db,
        "SELECT title, published, first_seen FROM papers WHERE arxiv_id = '0704.0001'",
    ) == [
        (
            "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies",
            "2007-04-02",
            "2007-04-02",
        )
    ]
    assert rows(
        db,
        "SELECT c.category FROM paper_categories c JOIN papers p ON p.id = c.paper_id"
        " WHERE p.arxiv_id = '0704.0002' ORDER BY c.position",
    ) == [("math.CO",), ("cs.CG",)]
    assert rows(
        db,
        "SELECT a.name_key FROM paper_authors a JOIN papers p ON p.id = a.paper_id"
        " WHERE p.arxiv_id = '0704.0001' ORDER BY a.position",
    ) == [("balazs c",), ("berger e",), ("nadolsky p",), ("yuan c",)]
    # Announced nothing: no day, no dump, no appearance.
    assert rows(db, "SELECT COUNT(*) FROM appearances") == [(0,)]
    assert search_ids(tmp_path, dbs, db, "diphoton") == ["https://arxiv.org/abs/0704.0001"]
    shown = paperbot(tmp_path, "paper", "0704.0001", "--db", dbs.location(db))
    assert shown.returncode == 0 and "diphoton" in shown.stdout
    # Every paper has its relevance vector: /related and For you can rank it.
    assert rows(db, "SELECT COUNT(*) FROM paper_vectors") == [(100,)]
    related = paperbot(tmp_path, "related", "0704.0001", "--db", dbs.location(db))
    assert related.returncode == 0, related.stderr


def test_a_rerun_after_completion_changes_nothing(tmp_path, dbs) -> None:
    assert run_import(tmp_path, dbs, str(FIRST)).returncode == 0
    before = dbs.content("p.db")
    again = run_import(tmp_path, dbs, str(FIRST))
    assert again.returncode == 0, again.stderr
    assert "already imported" in again.stdout and "nothing changed" in again.stdout
    assert dbs.content("p.db") == before


def test_filters_and_bad_records_are_counted(tmp_path, dbs) -> None:
    lines = FIRST.read_text(encoding="utf-8").splitlines()
    broken = [
        lines[0][:200],  # cut off mid-record
        json.dumps({**json.loads(lines[1]), "title": ""}),
        json.dumps({**json.loads(lines[2]), "versions": []}),
    ]
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("\n".join(broken + lines[3:]) + "\n", encoding="utf-8")
    done = run_import(
        tmp_path, dbs, str(damaged), "--categories", "cs.*,stat.ML", "--since", "2007-04-01"
    )
    assert done.returncode == 0, done.stderr
    summary = done.stdout
    assert "5 papers imported" in summary and "92 skipped by the filter" in summary
    assert "3 bad records" in summary
    assert "1 record: broken JSON line" in summary
    assert "1 record: missing title" in summary
    assert "1 record: bad or missing first-version date" in summary
    stored = dbs.rows("p.db", "SELECT arxiv_id FROM papers ORDER BY arxiv_id")
    assert stored == [
        ("0704.0046",),
        ("0704.0047",),
        ("0704.0050",),
        ("0704.0090",),
        ("0704.0098",),
    ]


def test_usage_errors_exit_2_with_one_line(tmp_path) -> None:
    dbs = Databases("sqlite", tmp_path, None)
    cases = [
        (str(tmp_path / "missing.jsonl"),),
        (str(FIRST), "--since", "last year"),
        (str(FIRST), "--categories", "cs.[AI"),
        (str(FIRST), "--categories", "nosuch.*"),
    ]
    for args in cases:
        done = run_import(tmp_path, dbs, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "p.db").exists()


def test_an_unreachable_postgresql_server_is_one_line(tmp_path) -> None:
    done = paperbot(
        tmp_path,
        "import-arxiv-snapshot",
        str(FIRST),
        "--db",
        "postgresql://nobody:secret@127.0.0.1:9/none",
    )
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("paperbot: cannot open database") and "127.0.0.1:9" in line
    assert "secret" not in line


def hf_dump(arxiv_id: str, title: str, day: str) -> str:
    """A Hugging Face daily-papers dump listing one paper (no abstract, no categories)."""
    return json.dumps(
        [
            {
                "paper": {
                    "id": arxiv_id,
                    "title": title,
                    "summary": "",
                    "authors": [{"name": "Ileana Streinu"}],
                    "publishedAt": f"{day}T00:00:00.000Z",
                    "submittedOnDailyAt": f"{day}T01:00:00.000Z",
                },
                "title": title,
            }
        ]
    )


def test_a_paper_a_daily_dump_stored_is_merged_by_its_id(tmp_path, dbs) -> None:
    dump = tmp_path / "2026-04-30.json"
    dump.write_text(hf_dump("0704.0002", "Sparsity certifying graph decompositions", "2026-04-30"))
    db = "p.db"
    rows = dbs.rows
    assert paperbot(tmp_path, "ingest", str(dump), "--db", dbs.location(db)).returncode == 0
    done = run_import(tmp_path, dbs, str(FIRST))
    assert done.returncode == 0, done.stderr
    assert "99 papers imported, 1 merged" in done.stdout
    merged = rows(
        db,
        "SELECT id, title, published, abstract != '' FROM papers WHERE arxiv_id = '0704.0002'",
    )
    assert len(merged) == 1
    pid, title, published, has_abstract = merged[0]
    # The daily dump's title and day stay; what it lacked is filled in.
    assert title == "Sparsity certifying graph decompositions" and has_abstract
    assert published == "2026-04-30"
    assert rows(
        db, f"SELECT category FROM paper_categories WHERE paper_id = {pid} ORDER BY position"
    ) == [("math.CO",), ("cs.CG",)]
    assert rows(db, "SELECT paper_id, day FROM appearances") == [(pid, "2026-04-30")]
    # The snapshot's title is kept searchable.
    assert "https://arxiv.org/abs/0704.0002" in search_ids(tmp_path, dbs, db, "pebble game colors")


def test_the_vocabulary_counts_each_new_paper_once(tmp_path, dbs) -> None:
    """The workers count the words; the writer takes off the papers it merges: with a
    dump's paper stored first and records repeated within a batch and across batches,
    each word's count grows by the new papers holding it, as a dump's ingest counts."""
    dump = tmp_path / "2026-04-30.json"
    dump.write_text(hf_dump("0704.0002", "Sparsity certifying graph decompositions", "2026-04-30"))
    db = "p.db"
    assert paperbot(tmp_path, "ingest", str(dump), "--db", dbs.location(db)).returncode == 0
    before = Counter(dict(dbs.rows(db, "SELECT term, df FROM vocab")))
    lines = FIRST.read_bytes().splitlines(keepends=True)
    repeated = tmp_path / "repeated.jsonl"
    # Lines 3-6 again within the first batch of 30, lines 0-9 again in later batches.
    repeated.write_bytes(b"".join(lines[:20] + lines[3:7] + lines[20:] + lines[:10]))
    done = run_import(tmp_path, dbs, str(repeated), "--batch", "30", db=db)
    assert done.returncode == 0, done.stderr
    assert "99 papers imported, 15 merged" in done.stdout
    expected = Counter(before)
    new: dict[str, SnapshotPaper] = {}
    for line in lines:
        paper = parse_record(line)
        assert isinstance(paper, SnapshotPaper)
        new.setdefault(paper.arxiv_id, paper)
    del new["0704.0002"]  # the dump's paper: merged
    for paper in new.values():
        expected.update(paper_words(paper.title, paper.abstract))
    assert Counter(dict(dbs.rows(db, "SELECT term, df FROM vocab"))) == expected


def test_a_killed_import_resumes_into_the_same_database(tmp_path, dbs) -> None:
    clean = run_import(tmp_path, dbs, str(OAI_CS), "--batch", "50", db="clean.db")
    assert clean.returncode == 0, clean.stderr
    assert "1,000 papers imported" in clean.stdout

    # A few batches committed, more to come.
    kill_import_after_batch(tmp_path, dbs.location("killed.db"), batch_size=50, batch=3)
    committed = dbs.rows("killed.db", "SELECT COUNT(*) FROM papers")[0][0]
    assert 150 <= committed < 1000  # killed mid-import, after at least three batches

    resumed = run_import(tmp_path, dbs, str(OAI_CS), "--batch", "50", db="killed.db")
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed at byte" in resumed.stdout
    # The summary covers the whole file, as the uninterrupted run's does.
    assert resumed.stdout.splitlines()[0] == clean.stdout.splitlines()[0].replace(
        "clean.db", "killed.db"
    )
    assert dbs.content("killed.db") == dbs.content("clean.db")
    for query in ("network coding", '"wireless networks"', "graph algorithm", "quantum"):
        assert search_ids(tmp_path, dbs, "killed.db", query) == search_ids(
            tmp_path, dbs, "clean.db", query
        )


async def test_a_large_backlog_is_indexed_by_the_bulk_writer_with_the_same_results(
    tmp_path,
) -> None:
    from bot.core.snapshot import SnapshotFilter
    from bot.services.snapshot_import import import_snapshot
    from storage import open_storage

    found: dict[str, list[list[int]]] = {}
    for name, threshold in (("plain", 10**9), ("bulk", 1)):
        storage = await open_storage(tmp_path / f"{name}.db")
        try:
            storage.bulk_papers = threshold
            await import_snapshot(storage, OAI_CS, SnapshotFilter(), workers=0)
            assert storage.search_index.doc_count() == 1000
            found[name] = [
                await storage.text_search(
                    parse_query(q), match_all=True, topic=None, since=None, limit=20
                )
                for q in ("network coding", '"wireless networks"', "graph algorithm")
            ]
        finally:
            await storage.close()
    assert found["plain"] == found["bulk"] and all(found["plain"])


def test_search_json_says_where_each_imported_paper_came_from(tmp_path, dbs) -> None:
    # A Hugging Face dump lists 0704.0002 first; the import merges it and brings 99 more
    # papers that no dump lists. Each hit's `sources` must agree with the filters:
    # "arxiv" exactly when `--source arxiv` finds it, "hf" exactly when `--source hf` does.
    dump = tmp_path / "2026-04-30.json"
    dump.write_text(hf_dump("0704.0002", "Sparsity certifying graph decompositions", "2026-04-30"))
    db = dbs.location("p.db")
    assert paperbot(tmp_path, "ingest", str(dump), "--db", db).returncode == 0
    assert run_import(tmp_path, dbs, str(FIRST)).returncode == 0

    def hits(*args: str) -> list[dict]:
        done = paperbot(tmp_path, "search", *args, "--json", "--limit", "200", "--db", db)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    by_source = {typed: {h["url"] for h in hits("--source", typed)} for typed in ("arxiv", "hf")}
    every = hits("--source", "arxiv") + hits("--source", "hf")
    assert len({h["url"] for h in every}) == 100
    for hit in every:
        expected = sorted(typed for typed, urls in by_source.items() if hit["url"] in urls)
        assert hit["sources"] == expected, hit
    records = [json.loads(line) for line in FIRST.read_text().splitlines()]
    urls = {f"https://arxiv.org/abs/{r['id']}" for r in records}
    assert by_source == {"arxiv": urls, "hf": {"https://arxiv.org/abs/0704.0002"}}
    # The same answer with a query, which reads the papers by another path.
    found = {h["url"]: h["sources"] for h in hits("pebble game colors")}
    assert found["https://arxiv.org/abs/0704.0002"] == ["arxiv", "hf"]
    assert found and all(sources for sources in found.values())


SAMPLE_DUMP = Path(__file__).resolve().parent.parent / "bot" / "data" / "sample_dump.txt"
HF_JSON = Path(__file__).resolve().parent / "data" / "arxiv" / "hf_2026-04-30_two_papers.json"


@pytest.mark.parametrize("name", ["sample dump", "HF JSON", "empty", "one line", "fake gz"])
def test_a_file_that_is_no_snapshot_is_one_line_and_writes_nothing(tmp_path, dbs, name) -> None:
    files = {
        "sample dump": SAMPLE_DUMP.read_bytes(),  # a daily text dump
        "HF JSON": HF_JSON.read_bytes(),  # a Hugging Face daily answer
        "empty": b"",
        "one line": b"arxiv-metadata-oai-snapshot.json\n",
        "fake gz": FIRST.read_bytes(),  # named .gz, not gzip
    }
    path = tmp_path / ("snapshot.jsonl.gz" if name == "fake gz" else "snapshot.jsonl")
    path.write_bytes(files[name])
    done = run_import(tmp_path, dbs, str(path))
    assert done.returncode == 1, done.stderr
    line = one_line(done.stderr)
    assert line.startswith(f"paperbot: {path}: "), line
    says = "cannot read" if name == "fake gz" else "empty" if name == "empty" else "not the arXiv"
    assert says in line, line
    assert done.stdout == ""
    # Nothing was opened or written: no database file, no tables, no checkpoint.
    if dbs.server is None:
        assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    else:
        assert dbs.tables("p.db") == []


def test_a_gz_cut_short_is_one_line_and_keeps_what_was_committed(tmp_path, dbs) -> None:
    # A partial download: the first part of the real 1,000-record file.
    cut = tmp_path / "partial.jsonl.gz"
    cut.write_bytes(OAI_CS.read_bytes()[: OAI_CS.stat().st_size // 2])
    done = run_import(tmp_path, dbs, str(cut), "--batch", "50", "--quiet")
    assert done.returncode == 1, done.stderr
    line = one_line(done.stderr)
    assert line.startswith(f"paperbot: {cut}: cannot read ("), line
    [(stored,)] = dbs.rows("p.db", "SELECT COUNT(*) FROM papers")
    assert 50 <= stored < 1000 and stored % 50 == 0  # whole batches, each committed
    # The whole file then imports from scratch, merging what is already stored.
    whole = run_import(tmp_path, dbs, str(OAI_CS))
    assert whole.returncode == 0, whole.stderr
    assert dbs.rows("p.db", "SELECT COUNT(*) FROM papers") == [(1000,)]


PAPER_ROWS = "SELECT arxiv_id, title, abstract, published FROM papers ORDER BY arxiv_id"


def test_the_zip_download_and_other_compressions_import_as_the_gz_does(tmp_path) -> None:
    # The format is the reader's alone, so SQLite stands for both backends here.
    dbs = Databases("sqlite", tmp_path, None)
    plain = gzip.decompress(OAI_CS.read_bytes())
    archive = tmp_path / "arxiv.zip"  # as Kaggle serves the snapshot
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("arxiv-metadata-oai-snapshot.json", plain)
    xz = tmp_path / "snapshot.json.xz"
    xz.write_bytes(lzma.compress(plain))
    assert run_import(tmp_path, dbs, str(OAI_CS), db="gz.db").returncode == 0
    expected = dbs.rows("gz.db", PAPER_ROWS)
    assert len(expected) == 1000
    for path in (archive, xz):
        done = run_import(tmp_path, dbs, str(path), db=f"{path.suffix[1:]}.db")
        assert done.returncode == 0, done.stderr
        assert "1,000 papers imported" in done.stdout
        assert dbs.rows(f"{path.suffix[1:]}.db", PAPER_ROWS) == expected
    # Killed mid-way, the archive resumes where its last batch ended.
    process = start_cli(
        ["import-arxiv-snapshot", str(archive), "--batch", "50", "--db", dbs.location("k.db")],
        cwd=tmp_path,
        env=clean_environment(),
    )
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith(b"batch 3:"):
            process.kill()
            break
    assert process.wait(timeout=60) == -signal.SIGKILL
    assert 150 <= dbs.rows("k.db", "SELECT COUNT(*) FROM papers")[0][0] < 1000
    resumed = run_import(tmp_path, dbs, str(archive), "--batch", "50", db="k.db")
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed at byte" in resumed.stdout
    assert dbs.rows("k.db", PAPER_ROWS) == expected


def start_import(tmp_path: Path, *args: str, stderr: int) -> subprocess.Popen[bytes]:
    """The import of OAI_CS as a plain child process, for what the fork server cannot
    give it: a terminal for its stderr, Ctrl-C as a terminal sends it (whatever the test
    runner does with SIGINT)."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "import-arxiv-snapshot", str(OAI_CS), *args],
        cwd=tmp_path,
        env=clean_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def test_ctrl_c_says_the_same_command_resumes_and_it_does(tmp_path) -> None:
    dbs = Databases("sqlite", tmp_path, None)
    clean = run_import(tmp_path, dbs, str(OAI_CS), "--batch", "50", db="clean.db")
    assert clean.returncode == 0, clean.stderr
    db = str(tmp_path / "i.db")
    process = start_import(tmp_path, "--batch", "50", "--db", db, stderr=subprocess.PIPE)
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith(b"batch 3:"):
            process.send_signal(signal.SIGINT)
            break
    rest = process.stderr.read().decode()
    process.wait(timeout=60)
    assert process.returncode == 130, rest
    last = rest.strip().splitlines()[-1]
    assert "Traceback" not in rest, rest
    assert last == (
        "paperbot: interrupted; the same command resumes after the last committed batch"
    ), rest
    assert 150 <= dbs.rows("i.db", "SELECT COUNT(*) FROM papers")[0][0] < 1000
    again = run_import(tmp_path, dbs, str(OAI_CS), "--batch", "50", db="i.db")
    assert again.returncode == 0 and "resumed at byte" in again.stdout, again.stderr
    assert dbs.content("i.db") == dbs.content("clean.db")


def test_on_a_terminal_a_compressed_file_has_a_percentage_and_time_left(tmp_path) -> None:
    # The bar measures the file's own bytes, so a gzipped (or zipped) snapshot, the
    # usual download, shows how far along it is and an ETA, as a plain one does.
    main, terminal = pty.openpty()
    db = str(tmp_path / "p.db")
    process = start_import(tmp_path, "--batch", "100", "--db", db, stderr=terminal)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    stdout, _ = process.communicate(timeout=120)
    assert process.returncode == 0, shown
    assert b"1,000 papers imported" in stdout
    assert re.search(rb" \d{1,2}%\|", shown), shown  # a percentage before the end
    assert re.search(rb"\[\d\d:\d\d<\d\d:\d\d", shown), shown  # elapsed<left
    assert b"100%|" in shown and b"1,000 papers" in shown, shown


VECTOR_TABLES = (
    "SELECT paper_id, vector FROM paper_vectors ORDER BY paper_id",
    "SELECT id, version, stats FROM corpus_stats",
)


async def _import_then_sync_vectors(location: str, snapshot: Path, dump: bytes | None) -> None:
    """What an import made before vectors went with its batches: the papers first,
    then the relevance service's catch-up (`sync_vectors`), as the bot runs it."""
    from bot.cli.relevance_commands import relevance_service
    from bot.core.snapshot import SnapshotFilter
    from bot.services.snapshot_import import import_snapshot
    from storage import open_storage

    if dump is not None:
        await _ingest_dump(location, dump)
    storage = await open_storage(location)
    try:
        await import_snapshot(storage, snapshot, SnapshotFilter(), workers=0, batch=300)
        assert await relevance_service(storage).sync_vectors() > 0
    finally:
        await storage.close()


async def _ingest_dump(location: str, dump: bytes) -> None:
    from bot.core.ingest import ingest_bytes
    from storage import open_storage

    storage = await open_storage(location)
    try:
        day = dt.date(2026, 3, 14)
        report = await ingest_bytes(storage, dump, "sample_dump.txt", cli_date=day, today=None)
        assert report.new and not report.error
    finally:
        await storage.close()


@pytest.mark.parametrize("with_backlog", [False, True])
def test_vectors_written_with_the_batches_equal_the_relevance_services(
    tmp_path, dbs, with_backlog
) -> None:
    # Batches of 300 papers cut the relevance service's chunks of 256 in the middle;
    # with a backlog, the 98 papers of a dump stored without vectors come first.
    dump = SAMPLE_DUMP.read_bytes() if with_backlog else None
    asyncio.run(_import_then_sync_vectors(dbs.location("ref.db"), OAI_CS, dump))
    if dump is not None:
        asyncio.run(_ingest_dump(dbs.location("p.db"), dump))
    done = run_import(tmp_path, dbs, str(OAI_CS), "--batch", "300")
    assert done.returncode == 0, done.stderr
    for sql in VECTOR_TABLES:
        imported, reference = dbs.rows("p.db", sql), dbs.rows("ref.db", sql)
        assert imported == reference and imported
    papers = dbs.rows("p.db", "SELECT COUNT(*) FROM papers")[0][0]
    assert len(dbs.rows("p.db", VECTOR_TABLES[0])) == papers


def test_a_killed_import_has_committed_its_batches_vectors(tmp_path, dbs) -> None:
    kill_import_after_batch(tmp_path, dbs.location("killed.db"), batch_size=300, batch=2)
    papers = dbs.rows("killed.db", "SELECT COUNT(*) FROM papers")[0][0]
    vectors = dbs.rows("killed.db", "SELECT COUNT(*) FROM paper_vectors")[0][0]
    assert papers >= 600
    # Every full chunk of 256 papers has its vectors; the rest wait for the next batch.
    assert vectors == papers - papers % 256


def test_vectors_gathered_from_many_worker_chunks_per_batch_are_the_same(
    tmp_path, dbs, monkeypatch
) -> None:
    # A large file's batch is parsed and analysed in several chunks (CHUNK_LINES each);
    # here 300-line batches of 128-line chunks, the last one short.
    import bot.services.snapshot_import as snapshot_import
    from bot.core.snapshot import SnapshotFilter
    from bot.services.snapshot_vectors import ImportVectors
    from storage import open_storage

    async def chunked(location: str) -> None:
        storage = await open_storage(location)
        try:
            await snapshot_import.import_snapshot(
                storage, OAI_CS, SnapshotFilter(), workers=0, batch=300,
                vectors=ImportVectors(storage),
            )  # fmt: skip
        finally:
            await storage.close()

    monkeypatch.setattr(snapshot_import, "CHUNK_LINES", 128)
    asyncio.run(chunked(dbs.location("p.db")))
    asyncio.run(_import_then_sync_vectors(dbs.location("ref.db"), OAI_CS, None))
    for sql in VECTOR_TABLES:
        imported, reference = dbs.rows("p.db", sql), dbs.rows("ref.db", sql)
        assert imported == reference and imported
    assert len(dbs.rows("p.db", VECTOR_TABLES[0])) == 1000
