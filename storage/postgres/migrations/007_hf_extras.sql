-- What the Hugging Face JSON says about a paper beyond its text: HF's AI summary and
-- keywords, code and project links, the submitting organization and the discussion's
-- size (the latest dump that gave a value wins). The keywords (a JSON list, as on
-- SQLite) join the weighted tsvector with the abstract's weight B.
--
-- A channel digest's `paper_order`: 'popular' (HF upvotes where the day's dump gave
-- them, else the dump's order) or 'dump' (the dump's order).

ALTER TABLE papers ADD COLUMN ai_summary TEXT NOT NULL DEFAULT '';
ALTER TABLE papers ADD COLUMN ai_keywords TEXT NOT NULL DEFAULT '[]';
ALTER TABLE papers ADD COLUMN github_repo TEXT;
ALTER TABLE papers ADD COLUMN github_stars BIGINT;
ALTER TABLE papers ADD COLUMN project_page TEXT;
ALTER TABLE papers ADD COLUMN organization TEXT NOT NULL DEFAULT '';
ALTER TABLE papers ADD COLUMN num_comments BIGINT;

ALTER TABLE papers DROP COLUMN search;
ALTER TABLE papers ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, title), 'A')
    || setweight(to_tsvector('english'::regconfig, variant_titles), 'A')
    || setweight(to_tsvector('english'::regconfig, abstract), 'B')
    || setweight(to_tsvector('english'::regconfig, ai_keywords), 'B')
) STORED;
CREATE INDEX papers_search ON papers USING gin (search);

ALTER TABLE channel_subscriptions ADD COLUMN paper_order TEXT NOT NULL DEFAULT 'popular';
