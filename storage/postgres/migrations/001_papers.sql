-- Papers, the keys they are known by, the days they appeared, their topics and the
-- dumps already ingested. Table and column names mirror storage/sqlite/migrations so
-- rows copy straight between backends; ids are BIGINT (Discord snowflakes), days and
-- timestamps stay ISO TEXT and JSON stays TEXT, exactly as SQLite stores them.
-- Days, keys and terms are compared and ordered; COLLATE "C" makes that byte order,
-- as in SQLite, whatever the database's locale.

CREATE TABLE papers (
    id          BIGSERIAL PRIMARY KEY,
    title       TEXT NOT NULL,
    norm_title  TEXT NOT NULL,
    abstract    TEXT NOT NULL DEFAULT '',
    arxiv_id    TEXT UNIQUE,
    authors     TEXT NOT NULL DEFAULT '[]',   -- JSON list of names
    upvotes     BIGINT,
    published   TEXT,                         -- arXiv date, ISO
    first_seen  TEXT COLLATE "C" NOT NULL,    -- ISO day
    last_seen   TEXT COLLATE "C" NOT NULL
);
CREATE INDEX papers_last_seen ON papers (last_seen);
CREATE INDEX papers_recent ON papers (last_seen DESC, id DESC);

CREATE TABLE paper_keys (
    key       TEXT COLLATE "C" PRIMARY KEY,
    paper_id  BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE
);
CREATE INDEX paper_keys_paper ON paper_keys (paper_id);

CREATE TABLE title_blocks (
    block     TEXT COLLATE "C" NOT NULL,
    paper_id  BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    PRIMARY KEY (block, paper_id)
);

CREATE TABLE dumps (
    id            BIGSERIAL PRIMARY KEY,
    content_hash  TEXT NOT NULL UNIQUE,
    source        TEXT NOT NULL,
    format        TEXT NOT NULL,
    day           TEXT COLLATE "C" NOT NULL,
    day_source    TEXT NOT NULL,
    ingested_at   TEXT NOT NULL,
    report        TEXT NOT NULL               -- the health report, JSON
);

CREATE TABLE appearances (
    paper_id  BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    day       TEXT COLLATE "C" NOT NULL,
    position  BIGINT,
    upvotes   BIGINT,
    dump_id   BIGINT NOT NULL REFERENCES dumps (id),
    PRIMARY KEY (paper_id, day)
);
CREATE INDEX appearances_day ON appearances (day, position);

-- DOUBLE PRECISION, not REAL: SQLite's REAL is 8 bytes, and a copy must be exact.
CREATE TABLE paper_topics (
    paper_id  BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    topic     TEXT COLLATE "C" NOT NULL,
    score     DOUBLE PRECISION NOT NULL,
    why       TEXT NOT NULL DEFAULT '[]',     -- JSON list of matched rules
    PRIMARY KEY (paper_id, topic)
);
CREATE INDEX paper_topics_topic ON paper_topics (topic, score DESC);

-- Raw words with document frequency, for spelling correction.
CREATE TABLE vocab (
    term  TEXT COLLATE "C" PRIMARY KEY,
    df    BIGINT NOT NULL
);
