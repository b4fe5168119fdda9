-- Titles a paper was listed under besides its current one (an edited title merged into
-- it, or its arXiv ID seen under a new title), so a search for any of them finds it.
-- The search index holds them as more values of the paper's title; a new variant logs
-- a change so the index picks it up. `title_blocks` now also holds a fingerprint of
-- each abstract's first words ('a:' blocks, see bot.core.abstracts): papers written
-- before this migration simply have none.

CREATE TABLE title_variants (
    paper_id  INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    title     TEXT NOT NULL,
    PRIMARY KEY (paper_id, title)
) WITHOUT ROWID;

CREATE TRIGGER title_variants_changed_insert AFTER INSERT ON title_variants BEGIN
    INSERT INTO paper_changes (paper_id) VALUES (new.paper_id);
END;
CREATE TRIGGER title_variants_changed_delete AFTER DELETE ON title_variants BEGIN
    INSERT INTO paper_changes (paper_id) VALUES (old.paper_id);
END;
