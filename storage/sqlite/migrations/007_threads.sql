-- Discussion threads. A channel's digest may start threads (`thread`: 'none', 'digest'
-- for one per digest post, 'paper' for one per paper); the delivery ledger keeps each
-- extra message and thread as a row of its own (target 'channel:<id>/<step>').
-- `paper_threads` remembers the thread of each paper in each channel, whether a digest
-- or `/discuss` started it, so `/discuss` finds it again instead of starting another.
ALTER TABLE channel_subscriptions ADD COLUMN thread TEXT NOT NULL DEFAULT 'none';

CREATE TABLE paper_threads (
    channel_id  INTEGER NOT NULL,
    paper_id    INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    thread_id   INTEGER NOT NULL,             -- the thread's id (= its starter message's)
    guild_id    INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (channel_id, paper_id)
) WITHOUT ROWID;
