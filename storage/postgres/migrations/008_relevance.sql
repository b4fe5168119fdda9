-- Personal relevance: the same tables as storage/sqlite/migrations/009_relevance.sql
-- (feedback, mutes, paper_authors, user_follows.label, paper_vectors, corpus_stats).

CREATE TABLE feedback (
    user_id     BIGINT NOT NULL,
    paper_id    BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    signal      TEXT COLLATE "C" NOT NULL DEFAULT 'none',   -- 'like', 'dislike' or 'none'
    saved       INTEGER NOT NULL DEFAULT 0,
    guild_id    BIGINT,
    seq         BIGINT NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL,
    saved_at    TEXT COLLATE "C",
    PRIMARY KEY (user_id, paper_id)
);
CREATE INDEX feedback_paper ON feedback (paper_id, signal);
CREATE INDEX feedback_saved ON feedback (user_id, saved, saved_at);

CREATE TABLE mutes (
    user_id     BIGINT NOT NULL,
    kind        TEXT COLLATE "C" NOT NULL,      -- 'keyword', 'topic' or 'author'
    value       TEXT COLLATE "C" NOT NULL,
    label       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, kind, value)
);

CREATE TABLE paper_authors (
    paper_id  BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    name      TEXT NOT NULL,
    name_key  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (paper_id, position)
);
CREATE INDEX paper_authors_key ON paper_authors (name_key, paper_id);
INSERT INTO meta (key, value)
    SELECT 'paper_authors_todo', CAST(id AS TEXT) FROM papers WHERE id = (SELECT MAX(id) FROM papers);

ALTER TABLE user_follows ADD COLUMN label TEXT;

CREATE TABLE paper_vectors (
    paper_id  BIGINT PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
    vector    BYTEA NOT NULL
);
CREATE TABLE corpus_stats (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  BIGINT NOT NULL,
    stats    BYTEA NOT NULL
);
