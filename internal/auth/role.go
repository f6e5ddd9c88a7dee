// Package auth holds who may do what in Vigil: roles (each can do
// everything the roles below it can), local accounts with argon2id
// password hashes, browser sessions with CSRF tokens, API tokens for
// machine clients, camera groups that limit what a user sees, login
// throttling, and the append-only audit log. It stores through the narrow
// Store interface, which the SQL stores implement; the HTTP API enforces
// it (internal/httpapi).
//
// Secrets are never kept in clear: passwords as PHC-format argon2id
// hashes, session ids and token secrets (256 random bits each) as their
// SHA-256.
package auth

import "fmt"

// Role is a user's or token's level of trust. The zero value, Public, is
// what an unauthenticated request has.
type Role int

// Roles from least to most trusted; each includes the ones before it.
const (
	Public     Role = iota // monitoring probes and metrics, no login
	Viewer                 // watch cameras, alerts and incidents
	Operator               // handle alerts and incidents
	Supervisor             // plus scenes, protocols and suppressions
	Admin                  // plus cameras, users and settings
)

var roleNames = [...]string{"public", "viewer", "operator", "supervisor", "admin"}

// String is the role's name as written in configs and the API.
func (r Role) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return fmt.Sprintf("role(%d)", int(r))
	}
	return roleNames[r]
}

// ParseRole reads a role name; public is not a role anyone can be given.
func ParseRole(s string) (Role, error) {
	for i, n := range roleNames {
		if n == s && Role(i) != Public {
			return Role(i), nil
		}
	}
	return Public, fmt.Errorf("unknown role %q (known: viewer, operator, supervisor, admin)", s)
}

// Allows reports whether a holder of r may use something that needs need.
func (r Role) Allows(need Role) bool { return r >= need }

// MarshalText writes the role's name, so JSON shows "operator", not 2.
func (r Role) MarshalText() ([]byte, error) {
	if r < 0 || int(r) >= len(roleNames) {
		return nil, fmt.Errorf("invalid role %d", int(r))
	}
	return []byte(roleNames[r]), nil
}

// UnmarshalText reads a role name; "public" is refused like any unknown
// name, since no user or token may be given it.
func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Roles lists the roles a user or token can be given, least first.
func Roles() []Role { return []Role{Viewer, Operator, Supervisor, Admin} }
