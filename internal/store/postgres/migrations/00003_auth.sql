-- Accounts, sessions, API tokens, camera groups and the audit log (issue 12).
-- Secrets are stored hashed only: passwords as PHC argon2id strings,
-- session ids and token secrets as their SHA-256 in hex.

-- +goose Up
-- groups_json lists the camera groups a user is limited to (empty: all
-- cameras). It is not a foreign key on purpose: deleting a group must
-- leave its users limited to nothing, never widen them to every camera.
CREATE TABLE users (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role         TEXT NOT NULL,
    groups_json  TEXT NOT NULL,
    disabled     BOOLEAN NOT NULL,
    password     TEXT NOT NULL,
    created      TIMESTAMPTZ NOT NULL,
    updated      TIMESTAMPTZ NOT NULL,
    password_set TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    created    TIMESTAMPTZ NOT NULL,
    last_seen  TIMESTAMPTZ NOT NULL,
    expires    TIMESTAMPTZ NOT NULL,
    addr       TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires);

-- expires, last_used and revoked are NULL when not set.
CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created     TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL,
    expires     TIMESTAMPTZ,
    last_used   TIMESTAMPTZ,
    revoked     TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE camera_groups (
    name         TEXT PRIMARY KEY,
    description  TEXT NOT NULL,
    cameras_json TEXT NOT NULL,
    updated      TIMESTAMPTZ NOT NULL
);

-- The audit log is append-only: the trigger refuses any change to a row.
CREATE TABLE audit (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
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
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- +goose Down
DROP TRIGGER audit_no_change ON audit;
DROP FUNCTION audit_append_only();
DROP TABLE audit;
DROP TABLE camera_groups;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
