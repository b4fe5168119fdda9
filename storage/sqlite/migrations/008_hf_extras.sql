-- What the Hugging Face JSON says about a paper beyond its text: HF's AI summary and
-- keywords, code and project links, the submitting organization and the discussion's
-- size (the latest dump that gave a value wins). The keywords are searchable: a change
-- to them is logged for the search index like a change to the title or abstract.
--
-- A channel digest's `paper_order`: 'popular' (HF upvotes where the day's dump gave
-- them, else the dump's order) or 'dump' (the dump's order).

ALTER TABLE papers ADD COLUMN ai_summary TEXT NOT NULL DEFAULT '';
ALTER TABLE papers ADD COLUMN ai_keywords TEXT NOT NULL DEFAULT '[]';
ALTER TABLE papers ADD COLUMN github_repo TEXT;
ALTER TABLE papers ADD COLUMN github_stars INTEGER;
ALTER TABLE papers ADD COLUMN project_page TEXT;
ALTER TABLE papers ADD COLUMN organization TEXT NOT NULL DEFAULT '';
ALTER TABLE papers ADD COLUMN num_comments INTEGER;

DROP TRIGGER papers_changed_update;
CREATE TRIGGER papers_changed_update
AFTER UPDATE OF title, abstract, last_seen, ai_keywords ON papers BEGIN
    INSERT INTO paper_changes (paper_id) VALUES (new.id);
END;

ALTER TABLE channel_subscriptions ADD COLUMN paper_order TEXT NOT NULL DEFAULT 'popular';
