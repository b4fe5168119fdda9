-- Titles a paper was listed under besides its current one (an edited title merged into
-- it, or its arXiv ID seen under a new title), so a search for any of them finds it.
-- `title_blocks` now also holds a fingerprint of each abstract's first words ('a:'
-- blocks, see bot.core.abstracts): papers written before have none.
--
-- The variants join the weighted tsvector as title text (weight A) through the derived
-- `variant_titles` column, which a trigger keeps in step with `title_variants` in the
-- writing transaction (ingest and `migrate-db` imports alike). Concatenated after the
-- title, they leave the vector of a paper without variants exactly as it was.

CREATE TABLE title_variants (
    paper_id  BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    title     TEXT NOT NULL,
    PRIMARY KEY (paper_id, title)
);

ALTER TABLE papers ADD COLUMN variant_titles TEXT NOT NULL DEFAULT '';

CREATE FUNCTION paperbot_add_title_variants() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE papers p
    SET variant_titles = concat_ws(E'\n', NULLIF(p.variant_titles, ''), a.titles)
    FROM (
        SELECT paper_id, string_agg(title, E'\n' ORDER BY title) AS titles
        FROM added GROUP BY paper_id
    ) a
    WHERE p.id = a.paper_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER title_variants_added AFTER INSERT ON title_variants
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION paperbot_add_title_variants();

ALTER TABLE papers DROP COLUMN search;
ALTER TABLE papers ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, title), 'A')
    || setweight(to_tsvector('english'::regconfig, variant_titles), 'A')
    || setweight(to_tsvector('english'::regconfig, abstract), 'B')
) STORED;
CREATE INDEX papers_search ON papers USING gin (search);
