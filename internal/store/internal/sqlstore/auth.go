package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/store"
)

// This file implements auth.Store: users, sessions, API tokens and camera
// groups. Errors never quote a password hash or a session or token hash.

var _ auth.Store = (*DB)(nil)

// optTime binds a time that may be unset as NULL.
func (d Dialect) optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.arg(Norm(t))
}

// notFound wraps sql.ErrNoRows as store.ErrNotFound.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// mustAffect turns "no row changed" into store.ErrNotFound.
func mustAffect(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("store: %s: %w", what, store.ErrNotFound)
	}
	return nil
}

const userCols = "id, name, display_name, role, groups_json, disabled, password, created, updated, password_set"

// CreateUser inserts u and returns its ID; a taken name is store.ErrConflict.
func (db *DB) CreateUser(ctx context.Context, u auth.User) (int64, error) {
	groups, err := json.Marshal(nonNilStrings(u.Groups))
	if err != nil {
		return 0, err
	}
	q := db.D.rebind(`INSERT INTO users (name, display_name, role, groups_json, disabled, password, created, updated, password_set)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	var id int64
	err = db.W.QueryRowContext(ctx, q, u.Name, u.DisplayName, u.Role.String(), string(groups), u.Disabled, u.PasswordHash,
		db.D.arg(Norm(u.Created)), db.D.arg(Norm(u.Updated)), db.D.arg(Norm(u.PasswordSet))).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: create user %q: %w", u.Name, db.conflict(err))
	}
	return id, nil
}

// GetUser returns the user with id.
func (db *DB) GetUser(ctx context.Context, id int64) (auth.User, error) {
	u, err := scanUser(db.R.QueryRowContext(ctx, db.D.rebind(`SELECT `+userCols+` FROM users WHERE id = ?`), id))
	if err != nil {
		return u, notFound(err, fmt.Sprintf("user %d", id))
	}
	return u, nil
}

// GetUserByName returns the user called name.
func (db *DB) GetUserByName(ctx context.Context, name string) (auth.User, error) {
	u, err := scanUser(db.R.QueryRowContext(ctx, db.D.rebind(`SELECT `+userCols+` FROM users WHERE name = ?`), name))
	if err != nil {
		return u, notFound(err, fmt.Sprintf("user %q", name))
	}
	return u, nil
}

// ListUsers returns every user by name.
func (db *DB) ListUsers(ctx context.Context) ([]auth.User, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return collect(rows, scanUser, "list users")
}

// UpdateUser replaces the mutable fields of the user with u.ID.
func (db *DB) UpdateUser(ctx context.Context, u auth.User) error {
	groups, err := json.Marshal(nonNilStrings(u.Groups))
	if err != nil {
		return err
	}
	res, err := db.W.ExecContext(ctx, db.D.rebind(`UPDATE users SET display_name = ?, role = ?, groups_json = ?,
		disabled = ?, password = ?, updated = ?, password_set = ? WHERE id = ?`),
		u.DisplayName, u.Role.String(), string(groups), u.Disabled, u.PasswordHash,
		db.D.arg(Norm(u.Updated)), db.D.arg(Norm(u.PasswordSet)), u.ID)
	return mustAffect(res, err, fmt.Sprintf("update user %q", u.Name))
}

// CountUsers returns how many users exist.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

func scanUser(s scanner) (auth.User, error) {
	var u auth.User
	var role, groups string
	err := s.Scan(&u.ID, &u.Name, &u.DisplayName, &role, &groups, &u.Disabled, &u.PasswordHash,
		timeCol{&u.Created}, timeCol{&u.Updated}, timeCol{&u.PasswordSet})
	if err != nil {
		return u, err
	}
	if u.Role, err = auth.ParseRole(role); err != nil {
		return u, fmt.Errorf("user %q: %w", u.Name, err)
	}
	if err := json.Unmarshal([]byte(groups), &u.Groups); err != nil {
		return u, fmt.Errorf("user %q: groups: %w", u.Name, err)
	}
	return u, nil
}

// CreateSession stores a session.
func (db *DB) CreateSession(ctx context.Context, s auth.Session) error {
	_, err := db.W.ExecContext(ctx, db.D.rebind(`INSERT INTO sessions (id_hash, user_id, created, last_seen, expires, addr, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?)`), s.IDHash, s.UserID, db.D.arg(Norm(s.Created)), db.D.arg(Norm(s.LastSeen)),
		db.D.arg(Norm(s.Expires)), s.Addr, s.UserAgent)
	if err != nil {
		return fmt.Errorf("store: create session of user %d: %w", s.UserID, db.conflict(err))
	}
	return nil
}

// GetSession returns the session whose id hashes to idHash.
func (db *DB) GetSession(ctx context.Context, idHash string) (auth.Session, error) {
	var s auth.Session
	err := db.R.QueryRowContext(ctx, db.D.rebind(`SELECT id_hash, user_id, created, last_seen, expires, addr, user_agent
		FROM sessions WHERE id_hash = ?`), idHash).Scan(&s.IDHash, &s.UserID, timeCol{&s.Created}, timeCol{&s.LastSeen},
		timeCol{&s.Expires}, &s.Addr, &s.UserAgent)
	if err != nil {
		return s, notFound(err, "session")
	}
	return s, nil
}

// TouchSession records the session's last use.
func (db *DB) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	res, err := db.W.ExecContext(ctx, db.D.rebind(`UPDATE sessions SET last_seen = ? WHERE id_hash = ?`), db.D.arg(Norm(at)), idHash)
	return mustAffect(res, err, "touch session")
}

// DeleteSession removes one session.
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	res, err := db.W.ExecContext(ctx, db.D.rebind(`DELETE FROM sessions WHERE id_hash = ?`), idHash)
	return mustAffect(res, err, "delete session")
}

// DeleteUserSessions removes every session of a user.
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) error {
	if _, err := db.W.ExecContext(ctx, db.D.rebind(`DELETE FROM sessions WHERE user_id = ?`), userID); err != nil {
		return fmt.Errorf("store: delete sessions of user %d: %w", userID, err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their end or idle too long.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	res, err := db.W.ExecContext(ctx, db.D.rebind(`DELETE FROM sessions WHERE expires <= ? OR last_seen <= ?`),
		db.D.arg(Norm(now)), db.D.arg(Norm(idleBefore)))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

const tokenCols = "t.id, t.user_id, u.name, t.name, t.role, t.secret_hash, t.created, t.created_by, t.expires, t.last_used, t.revoked"

// CreateToken stores an API token (its secret only hashed).
func (db *DB) CreateToken(ctx context.Context, t auth.Token) error {
	_, err := db.W.ExecContext(ctx, db.D.rebind(`INSERT INTO api_tokens (id, user_id, name, role, secret_hash, created, created_by, expires, last_used, revoked)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), t.ID, t.UserID, t.Name, t.Role.String(), t.SecretHash,
		db.D.arg(Norm(t.Created)), t.CreatedBy, db.D.optTime(t.Expires), db.D.optTime(t.LastUsed), db.D.optTime(t.Revoked))
	if err != nil {
		return fmt.Errorf("store: create token %s: %w", t.ID, db.conflict(err))
	}
	return nil
}

// GetToken returns the token with id, with its owner's name.
func (db *DB) GetToken(ctx context.Context, id string) (auth.Token, error) {
	t, err := scanToken(db.R.QueryRowContext(ctx, db.D.rebind(`SELECT `+tokenCols+` FROM api_tokens t
		JOIN users u ON u.id = t.user_id WHERE t.id = ?`), id))
	if err != nil {
		return t, notFound(err, "token "+id)
	}
	return t, nil
}

// ListTokens lists a user's tokens, or all when userID is 0, newest first.
func (db *DB) ListTokens(ctx context.Context, userID int64) ([]auth.Token, error) {
	var w where
	if userID != 0 {
		w.add("t.user_id = ?", userID)
	}
	rows, err := db.R.QueryContext(ctx, db.D.rebind(`SELECT `+tokenCols+` FROM api_tokens t
		JOIN users u ON u.id = t.user_id`+w.String()+` ORDER BY t.created DESC, t.id`), w.args...)
	if err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	return collect(rows, scanToken, "list tokens")
}

// RevokeToken marks a token revoked at at.
func (db *DB) RevokeToken(ctx context.Context, id string, at time.Time) error {
	res, err := db.W.ExecContext(ctx, db.D.rebind(`UPDATE api_tokens SET revoked = ? WHERE id = ? AND revoked IS NULL`),
		db.D.arg(Norm(at)), id)
	return mustAffect(res, err, "revoke token "+id)
}

// TouchToken records a token's last use.
func (db *DB) TouchToken(ctx context.Context, id string, at time.Time) error {
	res, err := db.W.ExecContext(ctx, db.D.rebind(`UPDATE api_tokens SET last_used = ? WHERE id = ?`), db.D.arg(Norm(at)), id)
	return mustAffect(res, err, "touch token "+id)
}

func scanToken(s scanner) (auth.Token, error) {
	var t auth.Token
	var role string
	err := s.Scan(&t.ID, &t.UserID, &t.User, &t.Name, &role, &t.SecretHash, timeCol{&t.Created}, &t.CreatedBy,
		timeCol{&t.Expires}, timeCol{&t.LastUsed}, timeCol{&t.Revoked})
	if err != nil {
		return t, err
	}
	t.Role, err = auth.ParseRole(role)
	return t, err
}

// PutGroup inserts or replaces a camera group.
func (db *DB) PutGroup(ctx context.Context, g auth.CameraGroup) error {
	cams, err := json.Marshal(nonNilStrings(g.Cameras))
	if err != nil {
		return err
	}
	_, err = db.W.ExecContext(ctx, db.D.rebind(`INSERT INTO camera_groups (name, description, cameras_json, updated) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET description = excluded.description, cameras_json = excluded.cameras_json,
		updated = excluded.updated`), g.Name, g.Description, string(cams), db.D.arg(Norm(g.Updated)))
	if err != nil {
		return fmt.Errorf("store: put group %q: %w", g.Name, err)
	}
	return nil
}

// GetGroup returns one camera group.
func (db *DB) GetGroup(ctx context.Context, name string) (auth.CameraGroup, error) {
	g, err := scanGroup(db.R.QueryRowContext(ctx, db.D.rebind(`SELECT name, description, cameras_json, updated
		FROM camera_groups WHERE name = ?`), name))
	if err != nil {
		return g, notFound(err, fmt.Sprintf("group %q", name))
	}
	return g, nil
}

// ListGroups returns every camera group by name.
func (db *DB) ListGroups(ctx context.Context) ([]auth.CameraGroup, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT name, description, cameras_json, updated FROM camera_groups ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list groups: %w", err)
	}
	return collect(rows, scanGroup, "list groups")
}

// DeleteGroup removes a camera group.
func (db *DB) DeleteGroup(ctx context.Context, name string) error {
	res, err := db.W.ExecContext(ctx, db.D.rebind(`DELETE FROM camera_groups WHERE name = ?`), name)
	return mustAffect(res, err, fmt.Sprintf("delete group %q", name))
}

func scanGroup(s scanner) (auth.CameraGroup, error) {
	var g auth.CameraGroup
	var cams string
	if err := s.Scan(&g.Name, &g.Description, &cams, timeCol{&g.Updated}); err != nil {
		return g, err
	}
	return g, json.Unmarshal([]byte(cams), &g.Cameras)
}

// collect scans every row with scan.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error), what string) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
