-- Members' DM channels: the same table as storage/sqlite/migrations/010_dm_channels.sql.
CREATE TABLE dm_channels (
    user_id     BIGINT PRIMARY KEY,
    channel_id  BIGINT NOT NULL,
    updated_at  TEXT NOT NULL
);
