// Package auth holds who may do what in Vigil: the roles of the console's
// users and API tokens, ordered so that each role can do everything the
// roles below it can.
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
