-- Channel digests, per-user follows and delivery times, guild topics, and the
-- delivery ledger that makes every post happen exactly once.

CREATE TABLE channel_subscriptions (
    channel_id   INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    post_time    TEXT NOT NULL,               -- HH:MM, wall clock in `timezone`
    timezone     TEXT NOT NULL,               -- IANA name, e.g. Europe/Berlin
    topics       TEXT NOT NULL DEFAULT '[]',  -- JSON list of topic slugs; empty = all
    max_items    INTEGER NOT NULL DEFAULT 10,
    created_by   INTEGER,
    created_at   TEXT NOT NULL,
    paused       INTEGER NOT NULL DEFAULT 0,
    failures     INTEGER NOT NULL DEFAULT 0,  -- consecutive 403/404s
    last_error   TEXT,
    last_run_day TEXT                         -- local day of the last scheduled run
);
CREATE INDEX channel_subscriptions_guild ON channel_subscriptions(guild_id);

CREATE TABLE user_follows (
    user_id   INTEGER NOT NULL,
    kind      TEXT NOT NULL,                  -- 'topic' or 'keyword'
    value     TEXT NOT NULL,                  -- topic slug or the keyword text
    guild_id  INTEGER NOT NULL DEFAULT 0,     -- where a guild topic comes from; 0 = built-in
    PRIMARY KEY (user_id, kind, value, guild_id)
) WITHOUT ROWID;

CREATE TABLE user_delivery (
    user_id         INTEGER PRIMARY KEY,
    post_time       TEXT NOT NULL DEFAULT '08:00',
    timezone        TEXT NOT NULL DEFAULT 'UTC',
    dm_closed       INTEGER NOT NULL DEFAULT 0,   -- Discord said 50007: stop trying
    dm_closed_told  INTEGER NOT NULL DEFAULT 0,   -- the user has been told once
    last_run_day    TEXT                          -- local day of the last scheduled run
);

CREATE TABLE guild_topics (
    guild_id  INTEGER NOT NULL,
    slug      TEXT NOT NULL,
    name      TEXT NOT NULL,
    keywords  TEXT NOT NULL DEFAULT '[]',
    phrases   TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (guild_id, slug)
) WITHOUT ROWID;

-- One row per (target, day). A row is written as 'sending' before the message goes
-- out and becomes 'sent' with the message id after; a 'sending' row found at start is
-- reconciled against the channel's history before anything is sent again.
CREATE TABLE deliveries (
    target      TEXT NOT NULL,                -- 'channel:<id>' or 'user:<id>'
    day         TEXT NOT NULL,
    status      TEXT NOT NULL,                -- 'sending', 'sent', 'failed', 'empty'
    message_id  INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 1,
    updated_at  TEXT NOT NULL,
    detail      TEXT,
    PRIMARY KEY (target, day)
) WITHOUT ROWID;

CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;
