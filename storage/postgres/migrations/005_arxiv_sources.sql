-- arXiv as a source beside Hugging Face's daily papers: the same tables and columns as
-- storage/sqlite/migrations/006_arxiv_sources.sql (see there for what each one is).
-- Search filters on them in SQL; the statement triggers bump data_version, as for
-- papers and their topics, so caches keyed on it see a change of sources or categories.

ALTER TABLE dumps ADD COLUMN paper_source TEXT COLLATE "C" NOT NULL DEFAULT 'hf';
CREATE INDEX dumps_day ON dumps (day);

CREATE TABLE dump_papers (
    dump_id   BIGINT NOT NULL REFERENCES dumps (id) ON DELETE CASCADE,
    paper_id  BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    PRIMARY KEY (dump_id, paper_id)
);
CREATE INDEX dump_papers_paper ON dump_papers (paper_id);
INSERT INTO dump_papers (dump_id, paper_id) SELECT dump_id, paper_id FROM appearances;

CREATE TABLE paper_categories (
    paper_id  BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    category  TEXT COLLATE "C" NOT NULL,
    position  INTEGER NOT NULL,               -- 0: the primary category
    PRIMARY KEY (paper_id, category)
);
CREATE INDEX paper_categories_category ON paper_categories (category);

ALTER TABLE channel_subscriptions ADD COLUMN source TEXT NOT NULL DEFAULT 'all';

CREATE TRIGGER dump_papers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON dump_papers FOR EACH STATEMENT EXECUTE FUNCTION paperbot_bump_data_version();
CREATE TRIGGER paper_categories_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON paper_categories FOR EACH STATEMENT EXECUTE FUNCTION paperbot_bump_data_version();
