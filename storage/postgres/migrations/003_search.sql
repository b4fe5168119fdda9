-- Native search. PostgreSQL keeps these in step transactionally, so there is no derived
-- index to catch up (sync_search_index returns 0) and nothing here is exported.
--
-- `search`: titles weighted A, abstracts B, ranked with ts_rank_cd; a GIN index.
-- `short_name`: the paper's normalized short name (`loramoe` in `LoRAMoE: ...`), written
--   by the application (bot.core.rank.title_name, which SQL cannot reproduce exactly).
-- A trigram index on the lower-cased title for fuzzy title lookups (autocomplete).
-- The pg_trgm extension itself is created by the migration runner (database-wide).

ALTER TABLE papers ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, title), 'A')
    || setweight(to_tsvector('english'::regconfig, abstract), 'B')
) STORED;
CREATE INDEX papers_search ON papers USING gin (search);

ALTER TABLE papers ADD COLUMN short_name TEXT COLLATE "C";
CREATE INDEX papers_short_name ON papers (short_name) WHERE short_name IS NOT NULL;

CREATE INDEX papers_title_trgm ON papers USING gin (lower(title) gin_trgm_ops);

-- data_version(): bumped by statement-level triggers in the writing transaction, so
-- every process sees the new number exactly when it sees the new rows.
CREATE TABLE data_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  BIGINT NOT NULL
);
INSERT INTO data_version VALUES (1, 0);

CREATE FUNCTION paperbot_bump_data_version() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE data_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER papers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON papers
    FOR EACH STATEMENT EXECUTE FUNCTION paperbot_bump_data_version();
CREATE TRIGGER paper_topics_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON paper_topics FOR EACH STATEMENT EXECUTE FUNCTION paperbot_bump_data_version();
