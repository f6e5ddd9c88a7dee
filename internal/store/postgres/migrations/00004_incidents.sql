-- Incidents, their transitions and the transactional outbox (issue 11).
-- Events stay in alerts: every rule firing is an alert row (stored,
-- counted, searchable through /api/v1/alerts); an incident groups alert
-- rows, and an event, its incident change and its outbox messages commit
-- in one transaction.

-- +goose Up
-- An optional idempotency key: recording the same event twice stores it once.
ALTER TABLE alerts ADD COLUMN event_key TEXT;
CREATE UNIQUE INDEX alerts_event_key ON alerts (event_key) WHERE event_key IS NOT NULL;

CREATE TABLE incidents (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    tracks            JSONB NOT NULL,
    notify            JSONB NOT NULL,
    best_alert        BIGINT NOT NULL,
    latest_alert      BIGINT NOT NULL,
    opened            TIMESTAMPTZ NOT NULL,
    last_event        TIMESTAMPTZ NOT NULL,
    updated           TIMESTAMPTZ NOT NULL,
    escalate_due      TIMESTAMPTZ,
    escalate_priority TEXT NOT NULL,
    escalate_notify   JSONB NOT NULL,
    escalated_at      TIMESTAMPTZ,
    auto_close_s      BIGINT NOT NULL,
    acked_at          TIMESTAMPTZ,
    dispatched_at     TIMESTAMPTZ,
    on_scene_at       TIMESTAMPTZ,
    resolved_at       TIMESTAMPTZ,
    closed_at         TIMESTAMPTZ
);
CREATE INDEX incidents_state ON incidents (state, id);
CREATE INDEX incidents_camera ON incidents (camera, id);
CREATE INDEX incidents_opened ON incidents (opened);

CREATE TABLE incident_events (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    alert_id    BIGINT NOT NULL REFERENCES alerts (id),
    at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (incident_id, alert_id)
);
CREATE INDEX incident_events_alert ON incident_events (alert_id);

CREATE TABLE incident_history (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    by_user     TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    unit_type   TEXT NOT NULL,
    unit_id     TEXT NOT NULL,
    note        TEXT NOT NULL
);
CREATE INDEX incident_history_incident ON incident_history (incident_id, id);

-- Messages committed with the change they announce, drained by the
-- delivery worker in seq order per (destination, camera).
CREATE TABLE outbox (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  TEXT NOT NULL,
    destination TEXT NOT NULL,
    camera      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    payload     BYTEA NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    created     TIMESTAMPTZ NOT NULL,
    next_at     TIMESTAMPTZ NOT NULL,
    last_error  TEXT NOT NULL,
    done_at     TIMESTAMPTZ,
    UNIQUE (message_id, destination)
);
CREATE INDEX outbox_lane ON outbox (state, destination, camera, seq);
CREATE INDEX outbox_done ON outbox (state, done_at);

-- Alert protocols replaced through the API, newest version in force.
CREATE TABLE protocol_versions (
    version INTEGER PRIMARY KEY,
    yaml    TEXT NOT NULL,
    author  TEXT NOT NULL,
    created TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE protocol_versions;
DROP TABLE outbox;
DROP TABLE incident_history;
DROP TABLE incident_events;
DROP TABLE incidents;
DROP INDEX alerts_event_key;
ALTER TABLE alerts DROP COLUMN event_key;
