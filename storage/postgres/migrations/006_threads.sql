-- Discussion threads: a digest's thread mode and each paper's thread per channel; see
-- storage/sqlite/migrations/007_threads.sql.
ALTER TABLE channel_subscriptions ADD COLUMN thread TEXT NOT NULL DEFAULT 'none';

CREATE TABLE paper_threads (
    channel_id  BIGINT NOT NULL,
    paper_id    BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    thread_id   BIGINT NOT NULL,
    guild_id    BIGINT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (channel_id, paper_id)
);
