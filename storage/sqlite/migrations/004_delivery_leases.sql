-- Leased delivery claims, for several processes sharing one database (sharding).
-- `owner` is the process holding a 'sending' row and `lease_until` (ISO UTC, seconds)
-- when its claim lapses; another process may take the row over only after that, and
-- then reconciles against channel history first. Both stay NULL for single-process
-- claims, which behave exactly as before.
ALTER TABLE deliveries ADD COLUMN owner TEXT;
ALTER TABLE deliveries ADD COLUMN lease_until TEXT;
