-- Papers, the keys they are known by, the days they appeared, their topics,
-- the dumps already ingested, and an FTS5 index kept in step by triggers.

CREATE TABLE papers (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    norm_title  TEXT NOT NULL,
    abstract    TEXT NOT NULL DEFAULT '',
    arxiv_id    TEXT UNIQUE,
    authors     TEXT NOT NULL DEFAULT '[]',   -- JSON list of names
    upvotes     INTEGER,
    published   TEXT,                         -- arXiv date, ISO
    first_seen  TEXT NOT NULL,                -- ISO day
    last_seen   TEXT NOT NULL
);
CREATE INDEX papers_last_seen ON papers(last_seen);

-- Every key a paper is known by: 'arxiv:<id>' and 't:<normalized title>' for each
-- title variant seen, so an edited title seen once is an exact hit next time.
CREATE TABLE paper_keys (
    key       TEXT PRIMARY KEY,
    paper_id  INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX paper_keys_paper ON paper_keys(paper_id);

-- Blocking keys for near-duplicate titles (prefix and suffix of the normalized title):
-- an indexed lookup instead of comparing against every stored title.
CREATE TABLE title_blocks (
    block     TEXT NOT NULL,
    paper_id  INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    PRIMARY KEY (block, paper_id)
) WITHOUT ROWID;

CREATE TABLE dumps (
    id            INTEGER PRIMARY KEY,
    content_hash  TEXT NOT NULL UNIQUE,
    source        TEXT NOT NULL,
    format        TEXT NOT NULL,
    day           TEXT NOT NULL,
    day_source    TEXT NOT NULL,
    ingested_at   TEXT NOT NULL,
    report        TEXT NOT NULL               -- the health report, JSON
);

CREATE TABLE appearances (
    paper_id  INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    day       TEXT NOT NULL,
    position  INTEGER,
    upvotes   INTEGER,
    dump_id   INTEGER NOT NULL REFERENCES dumps(id),
    PRIMARY KEY (paper_id, day)
) WITHOUT ROWID;
CREATE INDEX appearances_day ON appearances(day, position);

CREATE TABLE paper_topics (
    paper_id  INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    topic     TEXT NOT NULL,
    score     REAL NOT NULL,
    why       TEXT NOT NULL DEFAULT '[]',     -- JSON list of matched rules
    PRIMARY KEY (paper_id, topic)
) WITHOUT ROWID;
CREATE INDEX paper_topics_topic ON paper_topics(topic, score DESC);

-- Raw words with document frequency, for spelling correction ("protien" -> "protein").
-- The FTS index holds porter stems, which make poor suggestions.
CREATE TABLE vocab (
    term  TEXT PRIMARY KEY,
    df    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE VIRTUAL TABLE papers_fts USING fts5(
    title, abstract,
    content='papers', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN
    INSERT INTO papers_fts(rowid, title, abstract) VALUES (new.id, new.title, new.abstract);
END;
CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN
    INSERT INTO papers_fts(papers_fts, rowid, title, abstract)
        VALUES ('delete', old.id, old.title, old.abstract);
END;
CREATE TRIGGER papers_fts_update AFTER UPDATE OF title, abstract ON papers BEGIN
    INSERT INTO papers_fts(papers_fts, rowid, title, abstract)
        VALUES ('delete', old.id, old.title, old.abstract);
    INSERT INTO papers_fts(rowid, title, abstract) VALUES (new.id, new.title, new.abstract);
END;
