-- Search moves from FTS5 to a tantivy index derived from these tables (see
-- storage/sqlite/search_index.py). Every change to what the index holds is logged here,
-- in the same transaction as the change, so the index can always catch up exactly.

DROP TRIGGER IF EXISTS papers_fts_insert;
DROP TRIGGER IF EXISTS papers_fts_delete;
DROP TRIGGER IF EXISTS papers_fts_update;
DROP TABLE IF EXISTS papers_fts;

CREATE TABLE paper_changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    paper_id  INTEGER NOT NULL
);

CREATE TRIGGER papers_changed_insert AFTER INSERT ON papers BEGIN
    INSERT INTO paper_changes (paper_id) VALUES (new.id);
END;
CREATE TRIGGER papers_changed_update AFTER UPDATE OF title, abstract, last_seen ON papers BEGIN
    INSERT INTO paper_changes (paper_id) VALUES (new.id);
END;
CREATE TRIGGER papers_changed_delete AFTER DELETE ON papers BEGIN
    INSERT INTO paper_changes (paper_id) VALUES (old.id);
END;
CREATE TRIGGER topics_changed_insert AFTER INSERT ON paper_topics BEGIN
    INSERT INTO paper_changes (paper_id) VALUES (new.paper_id);
END;
CREATE TRIGGER topics_changed_update AFTER UPDATE ON paper_topics BEGIN
    INSERT INTO paper_changes (paper_id) VALUES (new.paper_id);
END;
CREATE TRIGGER topics_changed_delete AFTER DELETE ON paper_topics BEGIN
    INSERT INTO paper_changes (paper_id) VALUES (old.paper_id);
END;

CREATE INDEX papers_recent ON papers(last_seen DESC, id DESC);
