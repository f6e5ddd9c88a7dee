-- Several api nodes over one database (issue 15): a delivery worker
-- claims the outbox rows it sends, so no other node sends them while the
-- claim lasts; a claim whose node died expires and another node takes the
-- messages over (at least once; receivers drop repeats by message id).

-- +goose Up
ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;

-- +goose Down
ALTER TABLE outbox DROP COLUMN claimed_until;
ALTER TABLE outbox DROP COLUMN claimed_by;
