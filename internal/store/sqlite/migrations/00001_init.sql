-- Times are INTEGER microseconds since the Unix epoch, UTC: SQLite has no
-- time type, and integers compare and sort correctly in range filters.

-- +goose Up
CREATE TABLE cameras (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    url     TEXT NOT NULL,
    kind    TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    fps     REAL NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);

CREATE TABLE scenes (
    camera  TEXT NOT NULL,
    version INTEGER NOT NULL,
    yaml    TEXT NOT NULL,
    author  TEXT NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (camera, version)
);

-- AUTOINCREMENT so an ID is never reused: IDs are pagination cursors and
-- operators quote them.
CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    rule       TEXT NOT NULL,
    camera     TEXT NOT NULL,
    class      TEXT NOT NULL,
    start_pts  REAL NOT NULL,
    state      TEXT NOT NULL,
    created    INTEGER NOT NULL,
    updated    INTEGER NOT NULL,
    event_json TEXT NOT NULL
);
CREATE INDEX alerts_camera ON alerts (camera, id);
CREATE INDEX alerts_rule ON alerts (rule, id);
CREATE INDEX alerts_state ON alerts (state, id);
CREATE INDEX alerts_created ON alerts (created);

CREATE TABLE alert_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id   INTEGER NOT NULL REFERENCES alerts (id),
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    by_user    TEXT NOT NULL,
    at         INTEGER NOT NULL,
    note       TEXT NOT NULL
);
CREATE INDEX alert_history_alert ON alert_history (alert_id, id);

CREATE TABLE tracks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    camera     TEXT NOT NULL,
    track_id   INTEGER NOT NULL,
    class      TEXT NOT NULL,
    start_at   INTEGER NOT NULL,
    end_at     INTEGER NOT NULL,
    path       TEXT NOT NULL,
    attributes TEXT NOT NULL
);
CREATE INDEX tracks_camera_start ON tracks (camera, start_at);
CREATE INDEX tracks_start ON tracks (start_at);

CREATE TABLE counts (
    camera    TEXT NOT NULL,
    name      TEXT NOT NULL,
    class     TEXT NOT NULL,
    direction TEXT NOT NULL,
    bucket    INTEGER NOT NULL,
    n         INTEGER NOT NULL,
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
