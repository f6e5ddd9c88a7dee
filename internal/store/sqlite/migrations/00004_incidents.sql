-- Incidents, their transitions and the transactional outbox (issue 11).
-- (SQLite: times are INTEGER microseconds since the Unix epoch, NULL when unset.)
-- Events stay in alerts: every rule firing is an alert row (stored,
-- counted, searchable through /api/v1/alerts); an incident groups alert
-- rows, and an event, its incident change and its outbox messages commit
-- in one transaction.

-- +goose Up
-- An optional idempotency key: recording the same event twice stores it once.
ALTER TABLE alerts ADD COLUMN event_key TEXT;
CREATE UNIQUE INDEX alerts_event_key ON alerts (event_key) WHERE event_key IS NOT NULL;

CREATE TABLE incidents (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    camera            TEXT NOT NULL,
    rule              TEXT NOT NULL,
    name              TEXT NOT NULL,
    place             TEXT NOT NULL,
    class             TEXT NOT NULL,
    protocol          TEXT NOT NULL,
    state             TEXT NOT NULL,
    priority          TEXT NOT NULL,
    severity          TEXT NOT NULL,
    summary           TEXT NOT NULL,
    unit              TEXT NOT NULL,  -- suggested unit type
    unit_type         TEXT NOT NULL,  -- dispatched unit type
    unit_id           TEXT NOT NULL,
    event_count       INTEGER NOT NULL,
    tracks            TEXT NOT NULL,
    notify            TEXT NOT NULL,
    best_alert        INTEGER NOT NULL,
    latest_alert      INTEGER NOT NULL,
    opened            INTEGER NOT NULL,
    last_event        INTEGER NOT NULL,
    updated           INTEGER NOT NULL,
    escalate_due      INTEGER,
    escalate_priority TEXT NOT NULL,
    escalate_notify   TEXT NOT NULL,
    escalated_at      INTEGER,
    auto_close_s      INTEGER NOT NULL,
    acked_at          INTEGER,
    dispatched_at     INTEGER,
    on_scene_at       INTEGER,
    resolved_at       INTEGER,
    closed_at         INTEGER
);
CREATE INDEX incidents_state ON incidents (state, id);
CREATE INDEX incidents_camera ON incidents (camera, id);
CREATE INDEX incidents_opened ON incidents (opened);

CREATE TABLE incident_events (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    alert_id    INTEGER NOT NULL REFERENCES alerts (id),
    at          INTEGER NOT NULL,
    PRIMARY KEY (incident_id, alert_id)
);
CREATE INDEX incident_events_alert ON incident_events (alert_id);

CREATE TABLE incident_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    by_user     TEXT NOT NULL,
    at          INTEGER NOT NULL,
    unit_type   TEXT NOT NULL,
    unit_id     TEXT NOT NULL,
    note        TEXT NOT NULL
);
CREATE INDEX incident_history_incident ON incident_history (incident_id, id);

-- Messages committed with the change they announce, drained by the
-- delivery worker in seq order per (destination, camera).
CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  TEXT NOT NULL,
    destination TEXT NOT NULL,
    camera      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    payload     BLOB NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    created     INTEGER NOT NULL,
    next_at     INTEGER NOT NULL,
    last_error  TEXT NOT NULL,
    done_at     INTEGER,
    UNIQUE (message_id, destination)
);
CREATE INDEX outbox_lane ON outbox (state, destination, camera, seq);
CREATE INDEX outbox_done ON outbox (state, done_at);

-- Alert protocols replaced through the API, newest version in force.
CREATE TABLE protocol_versions (
    version INTEGER PRIMARY KEY,
    yaml    TEXT NOT NULL,
    author  TEXT NOT NULL,
    created INTEGER NOT NULL
);

-- +goose Down
DROP TABLE protocol_versions;
DROP TABLE outbox;
DROP TABLE incident_history;
DROP TABLE incident_events;
DROP TABLE incidents;
DROP INDEX alerts_event_key;
ALTER TABLE alerts DROP COLUMN event_key;
