-- Personal relevance: members' feedback on papers and their mutes, papers' authors by
-- name key, author follows' display names, and the papers' relevance vectors with the
-- corpus statistics they are weighed by (docs/RELEVANCE.md).

-- One row per member and paper while it says something: 👍/👎 (`signal`) and/or a save.
-- `guild_id` is the server the click came from (the community signal); `seq` orders a
-- member's ratings, oldest first, even within one second.
CREATE TABLE feedback (
    user_id     INTEGER NOT NULL,
    paper_id    INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    signal      TEXT NOT NULL DEFAULT 'none',   -- 'like', 'dislike' or 'none'
    saved       INTEGER NOT NULL DEFAULT 0,
    guild_id    INTEGER,
    seq         INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    saved_at    TEXT,
    PRIMARY KEY (user_id, paper_id)
) WITHOUT ROWID;
CREATE INDEX feedback_paper ON feedback(paper_id, signal);
CREATE INDEX feedback_saved ON feedback(user_id, saved, saved_at);

-- Papers a member never wants to see: a keyword (stored as a keyword follow is), a
-- topic key, or an author's name key; `label` is what they typed.
CREATE TABLE mutes (
    user_id     INTEGER NOT NULL,
    kind        TEXT NOT NULL,                  -- 'keyword', 'topic' or 'author'
    value       TEXT NOT NULL,
    label       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, kind, value)
) WITHOUT ROWID;

-- Every author of every paper, with the name key (bot/core/authors.py) that matches
-- accents, case and initials: author autocomplete and "papers by this author". Papers
-- stored before this migration are filled in when the database is next opened, up to
-- the id recorded in meta (`paper_authors_todo`).
CREATE TABLE paper_authors (
    paper_id  INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    name      TEXT NOT NULL,
    name_key  TEXT NOT NULL,
    PRIMARY KEY (paper_id, position)
) WITHOUT ROWID;
CREATE INDEX paper_authors_key ON paper_authors(name_key, paper_id);
INSERT INTO meta (key, value)
    SELECT 'paper_authors_todo', CAST(id AS TEXT) FROM papers WHERE id = (SELECT MAX(id) FROM papers);

-- An author follow's value is the name key; `label` keeps the name as followed.
ALTER TABLE user_follows ADD COLUMN label TEXT;

-- Each paper's vector (`PaperVector.to_bytes()`), written after the paper is stored,
-- and the one corpus statistics blob (`CorpusStats.to_bytes()`) that counts every
-- paper with a vector exactly once; `version` goes up with every write, so two writers
-- never count the same papers twice.
CREATE TABLE paper_vectors (
    paper_id  INTEGER PRIMARY KEY REFERENCES papers(id) ON DELETE CASCADE,
    vector    BLOB NOT NULL
);
CREATE TABLE corpus_stats (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL,
    stats    BLOB NOT NULL
);
