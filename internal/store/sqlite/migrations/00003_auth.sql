-- Accounts, sessions, API tokens, camera groups and the audit log (issue 12).
-- Secrets are stored hashed only: passwords as PHC argon2id strings,
-- session ids and token secrets as their SHA-256 in hex.

-- +goose Up
-- groups_json lists the camera groups a user is limited to (empty: all
-- cameras). It is not a foreign key on purpose: deleting a group must
-- leave its users limited to nothing, never widen them to every camera.
CREATE TABLE users (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role         TEXT NOT NULL,
    groups_json  TEXT NOT NULL,
    disabled     INTEGER NOT NULL,
    password     TEXT NOT NULL,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    password_set INTEGER NOT NULL
);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created    INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    expires    INTEGER NOT NULL,
    addr       TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires);

-- expires, last_used and revoked are NULL when not set.
CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created     INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    expires     INTEGER,
    last_used   INTEGER,
    revoked     INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE camera_groups (
    name         TEXT PRIMARY KEY,
    description  TEXT NOT NULL,
    cameras_json TEXT NOT NULL,
    updated      INTEGER NOT NULL
);

-- The audit log is append-only: the triggers refuse any change to a row.
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    via         TEXT NOT NULL,
    action      TEXT NOT NULL,
    object      TEXT NOT NULL,
    before_json TEXT NOT NULL,
    after_json  TEXT NOT NULL,
    addr        TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_object ON audit (object, id);
CREATE INDEX audit_action ON audit (action, id);

-- +goose StatementBegin
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_no_delete;
DROP TRIGGER audit_no_update;
DROP TABLE audit;
DROP TABLE camera_groups;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
