-- arXiv as a source beside Hugging Face's daily papers.
--
-- `dumps.paper_source`: the source a dump lists papers from ('hf' or 'arxiv'); every
--   dump before this migration was Hugging Face's.
-- `dump_papers`: which papers each dump listed (an arXiv replacement changes a paper
--   without listing it). With the dump's day and source it says which sources listed a
--   paper on a day, what a channel's `source` filter needs; moving a dump to another
--   day (`--redate`) moves that with it. Filled for the old dumps from the appearances.
-- `paper_categories`: a paper's arXiv categories, `position` 0 being the primary one.
-- `channel_subscriptions.source`: what a digest takes: 'all', 'hf', 'arxiv' or
--   'arxiv:cs.CL,cs.LG' (bot.core.sources).
-- The search index holds each paper's sources and categories: changes to them are
-- logged like any change to what the index holds.

ALTER TABLE dumps ADD COLUMN paper_source TEXT NOT NULL DEFAULT 'hf';
CREATE INDEX dumps_day ON dumps(day);

CREATE TABLE dump_papers (
    dump_id   INTEGER NOT NULL REFERENCES dumps(id) ON DELETE CASCADE,
    paper_id  INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    PRIMARY KEY (dump_id, paper_id)
) WITHOUT ROWID;
CREATE INDEX dump_papers_paper ON dump_papers(paper_id);
INSERT INTO dump_papers (dump_id, paper_id) SELECT dump_id, paper_id FROM appearances;

CREATE TABLE paper_categories (
    paper_id  INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    category  TEXT NOT NULL,
    position  INTEGER NOT NULL,               -- 0: the primary category
    PRIMARY KEY (paper_id, category)
) WITHOUT ROWID;
CREATE INDEX paper_categories_category ON paper_categories(category);

ALTER TABLE channel_subscriptions ADD COLUMN source TEXT NOT NULL DEFAULT 'all';

CREATE TRIGGER dump_papers_changed_insert AFTER INSERT ON dump_papers BEGIN
    INSERT INTO paper_changes (paper_id) VALUES (new.paper_id);
END;
CREATE TRIGGER dump_papers_changed_delete AFTER DELETE ON dump_papers BEGIN
    INSERT INTO paper_changes (paper_id) VALUES (old.paper_id);
END;
CREATE TRIGGER paper_categories_changed_insert AFTER INSERT ON paper_categories BEGIN
    INSERT INTO paper_changes (paper_id) VALUES (new.paper_id);
END;
CREATE TRIGGER paper_categories_changed_delete AFTER DELETE ON paper_categories BEGIN
    INSERT INTO paper_changes (paper_id) VALUES (old.paper_id);
END;
