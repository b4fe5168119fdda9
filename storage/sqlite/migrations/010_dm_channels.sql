-- Each member's DM channel with the bot, as Discord last gave it: the id is stable for a
-- bot and a user, so a DM costs one request (the message) instead of two (opening the
-- channel first). A remembered channel that is gone (404) is opened again and replaced.
CREATE TABLE dm_channels (
    user_id     INTEGER PRIMARY KEY,
    channel_id  INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
);
