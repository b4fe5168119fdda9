-- Channel digests, per-user follows and delivery times, guild topics, the delivery
-- ledger and small settings: the same tables as storage/sqlite/migrations/002, plus the
-- delivery lease (owner, lease_until) that SQLite gains in its own migration 004.

CREATE TABLE channel_subscriptions (
    channel_id   BIGINT PRIMARY KEY,
    guild_id     BIGINT NOT NULL,
    post_time    TEXT NOT NULL,               -- HH:MM, wall clock in `timezone`
    timezone     TEXT NOT NULL,               -- IANA name
    topics       TEXT NOT NULL DEFAULT '[]',  -- JSON list of topic slugs; empty = all
    max_items    BIGINT NOT NULL DEFAULT 10,
    created_by   BIGINT,
    created_at   TEXT NOT NULL,
    paused       INTEGER NOT NULL DEFAULT 0,
    failures     INTEGER NOT NULL DEFAULT 0,  -- consecutive 403/404s
    last_error   TEXT,
    last_run_day TEXT COLLATE "C"             -- local day of the last scheduled run
);
CREATE INDEX channel_subscriptions_guild ON channel_subscriptions (guild_id);

CREATE TABLE user_follows (
    user_id   BIGINT NOT NULL,
    kind      TEXT COLLATE "C" NOT NULL,      -- 'topic' or 'keyword'
    value     TEXT COLLATE "C" NOT NULL,      -- topic slug or the keyword text
    guild_id  BIGINT NOT NULL DEFAULT 0,      -- where a guild topic comes from; 0 = built-in
    PRIMARY KEY (user_id, kind, value, guild_id)
);

CREATE TABLE user_delivery (
    user_id         BIGINT PRIMARY KEY,
    post_time       TEXT NOT NULL DEFAULT '08:00',
    timezone        TEXT NOT NULL DEFAULT 'UTC',
    dm_closed       INTEGER NOT NULL DEFAULT 0,
    dm_closed_told  INTEGER NOT NULL DEFAULT 0,
    last_run_day    TEXT COLLATE "C"
);

CREATE TABLE guild_topics (
    guild_id  BIGINT NOT NULL,
    slug      TEXT COLLATE "C" NOT NULL,
    name      TEXT NOT NULL,
    keywords  TEXT NOT NULL DEFAULT '[]',
    phrases   TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (guild_id, slug)
);

-- One row per (target, day); see storage/sqlite/migrations/002_discord.sql. `owner`
-- and `lease_until` (ISO UTC timestamp) let several processes share the ledger: a live
-- lease of another owner is not taken over, an expired one is.
CREATE TABLE deliveries (
    target       TEXT COLLATE "C" NOT NULL,   -- 'channel:<id>' or 'user:<id>'
    day          TEXT COLLATE "C" NOT NULL,
    status       TEXT NOT NULL,               -- 'sending', 'sent', 'failed', 'empty'
    message_id   BIGINT,
    attempts     INTEGER NOT NULL DEFAULT 1,
    updated_at   TEXT NOT NULL,
    detail       TEXT,
    owner        TEXT,
    lease_until  TEXT,
    PRIMARY KEY (target, day)
);
CREATE INDEX deliveries_status ON deliveries (status);

CREATE TABLE meta (
    key    TEXT COLLATE "C" PRIMARY KEY,
    value  TEXT NOT NULL
);
