package auth

import (
	"context"
	"encoding/json"
	"time"
)

// User is a local account. Groups limits the user to the cameras of those
// camera groups; empty means every camera.
type User struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	DisplayName  string    `json:"display_name,omitempty"`
	Role         Role      `json:"role"`
	Groups       []string  `json:"groups"`
	Disabled     bool      `json:"disabled"`
	PasswordHash string    `json:"-"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
	// PasswordSet is when the password last changed.
	PasswordSet time.Time `json:"password_set"`
}

// Session is a logged-in browser. Only the hash of its id is stored.
type Session struct {
	IDHash    string
	UserID    int64
	Created   time.Time
	LastSeen  time.Time
	Expires   time.Time // absolute end, whatever the activity
	Addr      string
	UserAgent string
}

// Token is an API token for a machine client. Its role is capped by its
// owner's: a token never gives more than the user who holds it has now.
type Token struct {
	ID         string    `json:"id"`
	UserID     int64     `json:"-"`
	User       string    `json:"user"` // owner's name (filled in on reads)
	Name       string    `json:"name"`
	Role       Role      `json:"role"`
	SecretHash string    `json:"-"`
	Created    time.Time `json:"created"`
	CreatedBy  string    `json:"created_by"`
	Expires    time.Time `json:"expires,omitzero"`   // zero: never
	LastUsed   time.Time `json:"last_used,omitzero"` // zero: never used
	Revoked    time.Time `json:"revoked,omitzero"`   // zero: active
}

// CameraGroup names a set of cameras, for the wall and for limiting users.
type CameraGroup struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Cameras     []string  `json:"cameras"`
	Updated     time.Time `json:"updated"`
}

// AuditEntry is one line of the append-only audit log: who did what to
// which object, what it was before and after, when and from where.
type AuditEntry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`  // user name, "-" before login, "cli:<os user>", "system"
	Via    string    `json:"via"`    // session, token, proxy, cli, local, system
	Action string    `json:"action"` // e.g. login, login_failed, alert.transition
	Object string    `json:"object"` // e.g. alert/42, camera/plaza, user/ana
	// Before and After are JSON (null when absent); secrets never appear.
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
	Addr   string          `json:"addr"` // client address, "local" for the CLI
	Detail string          `json:"detail,omitempty"`
}

// AuditFilter selects audit entries, newest first; zero fields do not
// filter. Action and Object match exactly or, ending in "*", by prefix.
type AuditFilter struct {
	Actor  string
	Action string
	Object string
	Since  time.Time
	Until  time.Time
	After  int64 // cursor: ID < After
	Limit  int
}

// Store keeps accounts, sessions, tokens, camera groups and the audit log.
// sqlstore implements it for SQLite and PostgreSQL; missing records give
// errors wrapping store.ErrNotFound, duplicates store.ErrConflict.
type Store interface {
	CreateUser(ctx context.Context, u User) (int64, error)
	GetUser(ctx context.Context, id int64) (User, error)
	GetUserByName(ctx context.Context, name string) (User, error)
	ListUsers(ctx context.Context) ([]User, error)
	// UpdateUser replaces every mutable field of the user with u's ID.
	UpdateUser(ctx context.Context, u User) error
	CountUsers(ctx context.Context) (int, error)

	CreateSession(ctx context.Context, s Session) error
	GetSession(ctx context.Context, idHash string) (Session, error)
	TouchSession(ctx context.Context, idHash string, at time.Time) error
	DeleteSession(ctx context.Context, idHash string) error
	// DeleteUserSessions logs a user out everywhere.
	DeleteUserSessions(ctx context.Context, userID int64) error
	// DeleteExpiredSessions removes sessions past their absolute end or
	// idle since before idleBefore; it returns how many.
	DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error)

	CreateToken(ctx context.Context, t Token) error
	GetToken(ctx context.Context, id string) (Token, error)
	// ListTokens lists a user's tokens (every token when userID is 0).
	ListTokens(ctx context.Context, userID int64) ([]Token, error)
	RevokeToken(ctx context.Context, id string, at time.Time) error
	TouchToken(ctx context.Context, id string, at time.Time) error

	PutGroup(ctx context.Context, g CameraGroup) error
	GetGroup(ctx context.Context, name string) (CameraGroup, error)
	ListGroups(ctx context.Context) ([]CameraGroup, error)
	DeleteGroup(ctx context.Context, name string) error

	AppendAudit(ctx context.Context, e AuditEntry) (int64, error)
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}
