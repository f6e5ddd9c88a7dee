-- City scale (issue 15): records arrive from NATS JetStream at least once
-- and are written exactly once by their deterministic key.

-- +goose Up
-- The key of an alert or track published by a worker (NULL for those
-- written by a single-node service); a redelivery hits the unique index.
ALTER TABLE alerts ADD COLUMN msg_id TEXT;
CREATE UNIQUE INDEX alerts_msg_id ON alerts (msg_id);
ALTER TABLE tracks ADD COLUMN msg_id TEXT;
CREATE UNIQUE INDEX tracks_msg_id ON tracks (msg_id);

-- Counter increments are not idempotent by themselves: the key of every
-- applied batch is kept (pruned after the streams' retention).
CREATE TABLE cluster_applied (
    msg_id  TEXT PRIMARY KEY,
    applied INTEGER NOT NULL
);
CREATE INDEX cluster_applied_at ON cluster_applied (applied);

-- A baseline snapshot replaces the stored one only when it is newer: a
-- larger owner fence, or the same owner's later snapshot.
ALTER TABLE baselines ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE baselines ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE baselines DROP COLUMN seq;
ALTER TABLE baselines DROP COLUMN fence;
DROP TABLE cluster_applied;
DROP INDEX tracks_msg_id;
ALTER TABLE tracks DROP COLUMN msg_id;
DROP INDEX alerts_msg_id;
ALTER TABLE alerts DROP COLUMN msg_id;
