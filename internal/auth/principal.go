package auth

import "context"

// How a request was authenticated, as recorded in the audit log.
const (
	ViaSession = "session" // the console's cookie
	ViaToken   = "token"   // an API token (Authorization: Bearer)
	ViaProxy   = "proxy"   // a trusted proxy's user header
	ViaLocal   = "local"   // authentication disabled, loopback only
	ViaCLI     = "cli"     // the vigil command line on the server
	ViaSystem  = "system"  // Vigil itself
)

// Principal is who a request acts as and what it may reach.
type Principal struct {
	User User
	// Role is the effective role: a token's role capped by its owner's.
	Role Role
	Via  string
	// TokenID names the API token used, if any.
	TokenID string
	// SessionID is the raw session id of a cookie login (never logged or
	// sent anywhere but back to its own browser).
	SessionID string
	// cameras limits the principal to these camera ids; nil: all.
	cameras map[string]bool
}

// Name is the user name actions are recorded under.
func (p Principal) Name() string { return p.User.Name }

// Limited reports whether the principal sees only some cameras.
func (p Principal) Limited() bool { return p.cameras != nil }

// CanSee reports whether the principal may see and act on a camera.
func (p Principal) CanSee(camera string) bool { return p.cameras == nil || p.cameras[camera] }

// Cameras lists the cameras a limited principal may see (nil when it is
// not limited), for filtering queries.
func (p Principal) Cameras() []string {
	if p.cameras == nil {
		return nil
	}
	out := make([]string, 0, len(p.cameras))
	for c := range p.cameras {
		out = append(out, c)
	}
	return out
}

// Actor is the principal as the audit log records it, from addr.
func (p Principal) Actor(addr string) Actor {
	return Actor{Name: p.Name(), Via: p.Via, Addr: addr}
}

// LocalPrincipal is who every request is when authentication is disabled
// (allowed only on loopback): an administrator named "local".
func LocalPrincipal() Principal {
	return Principal{User: User{Name: "local", Role: Admin}, Role: Admin, Via: ViaLocal}
}

// Actor is who did something, for the audit log.
type Actor struct {
	Name string
	Via  string
	Addr string
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal in ctx.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
