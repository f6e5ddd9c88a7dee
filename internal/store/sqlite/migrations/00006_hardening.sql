-- Issue 16 (hardening): an alert written through the spool after a failed
-- store write carries the spool's key, so that a retry after an ambiguous
-- failure (committed, but the answer lost) finds the alert instead of
-- adding it twice. NULLs are distinct in a unique index in both engines:
-- alerts written directly need no key.

-- +goose Up
ALTER TABLE alerts ADD COLUMN dedup_key TEXT;
CREATE UNIQUE INDEX alerts_dedup_key ON alerts (dedup_key);

-- +goose Down
DROP INDEX alerts_dedup_key;
ALTER TABLE alerts DROP COLUMN dedup_key;
