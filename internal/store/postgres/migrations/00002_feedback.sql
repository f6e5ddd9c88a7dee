-- Operator feedback and learned baselines (issue 6).

-- +goose Up
-- The rule's name (from the scene) is kept in a column so verdict
-- statistics can group by it; older rows have ''.
ALTER TABLE alerts ADD COLUMN name TEXT NOT NULL DEFAULT '';

-- One learned baseline per camera, replaced whole: it is an opaque,
-- versioned blob written by internal/baseline.
CREATE TABLE baselines (
    camera  TEXT PRIMARY KEY,
    data    BYTEA NOT NULL,
    updated TIMESTAMPTZ NOT NULL
);

-- A dismissed situation that must not alert again until it expires.
CREATE TABLE suppressions (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    camera   TEXT NOT NULL,
    rule     TEXT NOT NULL,
    name     TEXT NOT NULL,
    class    TEXT NOT NULL,
    place    TEXT NOT NULL,
    x        DOUBLE PRECISION NOT NULL,
    y        DOUBLE PRECISION NOT NULL,
    radius   DOUBLE PRECISION NOT NULL,
    alert_id BIGINT NOT NULL,
    by_user  TEXT NOT NULL,
    created  TIMESTAMPTZ NOT NULL,
    expires  TIMESTAMPTZ NOT NULL
);
CREATE INDEX suppressions_camera ON suppressions (camera, expires);
CREATE INDEX alert_history_at ON alert_history (at);

-- +goose Down
DROP INDEX alert_history_at;
DROP TABLE suppressions;
DROP TABLE baselines;
ALTER TABLE alerts DROP COLUMN name;
