-- +goose Up
CREATE TABLE cameras (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    url     TEXT NOT NULL,
    kind    TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    fps     DOUBLE PRECISION NOT NULL,
    created TIMESTAMPTZ NOT NULL,
    updated TIMESTAMPTZ NOT NULL
);

CREATE TABLE scenes (
    camera  TEXT NOT NULL,
    version INTEGER NOT NULL,
    yaml    TEXT NOT NULL,
    author  TEXT NOT NULL,
    created TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (camera, version)
);

CREATE TABLE alerts (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule       TEXT NOT NULL,
    camera     TEXT NOT NULL,
    class      TEXT NOT NULL,
    start_pts  DOUBLE PRECISION NOT NULL,
    state      TEXT NOT NULL,
    created    TIMESTAMPTZ NOT NULL,
    updated    TIMESTAMPTZ NOT NULL,
    event_json JSONB NOT NULL
);
CREATE INDEX alerts_camera ON alerts (camera, id);
CREATE INDEX alerts_rule ON alerts (rule, id);
CREATE INDEX alerts_state ON alerts (state, id);
CREATE INDEX alerts_created ON alerts (created);

CREATE TABLE alert_history (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id   BIGINT NOT NULL REFERENCES alerts (id),
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    by_user    TEXT NOT NULL,
    at         TIMESTAMPTZ NOT NULL,
    note       TEXT NOT NULL
);
CREATE INDEX alert_history_alert ON alert_history (alert_id, id);

CREATE TABLE tracks (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    camera     TEXT NOT NULL,
    track_id   INTEGER NOT NULL,
    class      TEXT NOT NULL,
    start_at   TIMESTAMPTZ NOT NULL,
    end_at     TIMESTAMPTZ NOT NULL,
    path       JSONB NOT NULL,
    attributes JSONB NOT NULL
);
CREATE INDEX tracks_camera_start ON tracks (camera, start_at);
CREATE INDEX tracks_start ON tracks (start_at);

CREATE TABLE counts (
    camera    TEXT NOT NULL,
    name      TEXT NOT NULL,
    class     TEXT NOT NULL,
    direction TEXT NOT NULL,
    bucket    TIMESTAMPTZ NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (camera, name, class, direction, bucket)
);
CREATE INDEX counts_bucket ON counts (bucket);

-- +goose Down
DROP TABLE counts;
DROP TABLE tracks;
DROP TABLE alert_history;
DROP TABLE alerts;
DROP TABLE scenes;
DROP TABLE cameras;
