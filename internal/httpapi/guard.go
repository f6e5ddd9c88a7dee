package httpapi

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/vigil-cctv/vigil/internal/auth"
)

// Cookie and header names of the console's session.
const (
	// SessionCookie holds the session id: HttpOnly, so no script (and no
	// injected script) can read it.
	SessionCookie = "vigil_session"
	// CSRFCookie holds the session's CSRF token for the console's script
	// to echo in CSRFHeader on every state-changing request.
	CSRFCookie = "vigil_csrf"
	CSRFHeader = "X-CSRF-Token"
)

// guard authenticates each request to a route that needs a role, refuses
// cross-site and CSRF-less state changes, checks the route's least role
// and puts the principal in the request's context. Requests that match no
// route pass through to the JSON 404/405 of dispatch.
func (a *api) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := a.mux.Handler(r)
		need, ok := a.roles[pattern]
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		unsafe := !isSafeMethod(r.Method)
		if unsafe {
			if err := a.cop.Check(r); err != nil {
				a.fail(w, r, forbidden("cross-origin request refused: %v", err))
				return
			}
		}
		if need == auth.Public {
			next.ServeHTTP(w, r)
			return
		}
		p, err := a.authenticate(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if unsafe && p.Via == auth.ViaSession && !auth.CheckCSRF(p.SessionID, r.Header.Get(CSRFHeader)) {
			a.fail(w, r, forbidden("missing or wrong %s header: reload the console and try again", CSRFHeader))
			return
		}
		if !p.Role.Allows(need) {
			a.fail(w, r, forbidden("this needs the %s role; %s has %s", need, p.Name(), p.Role))
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// authenticate finds who a request acts as: an API token when there is an
// Authorization header (never falling back to the cookie if it is bad),
// else a trusted proxy's user header, else the session cookie.
func (a *api) authenticate(r *http.Request) (auth.Principal, error) {
	if a.opts.AuthDisabled {
		if !isLoopback(r.RemoteAddr) {
			return auth.Principal{}, unauthenticated("authentication is disabled, which serves loopback clients only")
		}
		return auth.LocalPrincipal(), nil
	}
	if a.deps.Auth == nil {
		return auth.Principal{}, unavailable("authentication is not configured")
	}
	ctx := r.Context()
	var p auth.Principal
	var err error
	switch h := r.Header.Get("Authorization"); {
	case h != "":
		p, err = a.deps.Auth.Token(ctx, h)
	case a.fromTrustedProxy(r) && r.Header.Get(a.opts.ProxyUserHeader) != "":
		p, err = a.deps.Auth.ProxyUser(ctx, r.Header.Get(a.opts.ProxyUserHeader))
	default:
		c, cerr := r.Cookie(SessionCookie)
		if cerr != nil {
			return p, unauthenticated("log in first (POST /api/v1/login) or send an API token")
		}
		p, err = a.deps.Auth.Session(ctx, c.Value)
	}
	if errors.Is(err, auth.ErrUnauthenticated) {
		return p, unauthenticated("%v", err)
	}
	return p, err
}

// principal is who the request acts as; the zero Principal on routes that
// need no login.
func principal(r *http.Request) auth.Principal {
	p, _ := auth.FromContext(r.Context())
	return p
}

// fromTrustedProxy reports whether the request's peer is a configured
// proxy, whose headers (user, forwarded address) are believed.
func (a *api) fromTrustedProxy(r *http.Request) bool {
	if len(a.opts.TrustedProxies) == 0 {
		return false
	}
	ip, ok := peerIP(r.RemoteAddr)
	if !ok {
		return false
	}
	for _, p := range a.opts.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// clientAddr is where a request came from, for the audit log and login
// throttling: the peer, or behind a trusted proxy the last address in
// X-Forwarded-For that is not itself a trusted proxy.
func (a *api) clientAddr(r *http.Request) string {
	if !a.fromTrustedProxy(r) {
		return r.RemoteAddr
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !a.trusted(ip.Unmap()) {
			return ip.Unmap().String()
		}
	}
	return r.RemoteAddr
}

func (a *api) trusted(ip netip.Addr) bool {
	for _, p := range a.opts.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func peerIP(remote string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	return ip.Unmap(), err == nil
}

// isLoopback reports whether a peer address is on this machine.
func isLoopback(remote string) bool {
	ip, ok := peerIP(remote)
	return ok && ip.IsLoopback()
}

// setSessionCookies hands the browser its session: the id in an HttpOnly
// cookie, the CSRF token in one the console's script reads. Both are
// Secure (browsers accept Secure cookies from http://localhost and
// 127.0.0.1; anywhere else Vigil must be served over TLS) and
// SameSite=Strict, so no other site's page sends them.
func (a *api) setSessionCookies(w http.ResponseWriter, sid string) {
	maxAge := int(a.deps.Auth.SessionMax().Seconds())
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: sid, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: auth.CSRFToken(sid), Path: "/", MaxAge: maxAge,
		Secure: true, SameSite: http.SameSiteStrictMode})
}

func clearSessionCookies(w http.ResponseWriter) {
	for _, name := range []string{SessionCookie, CSRFCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: name == SessionCookie, Secure: true, SameSite: http.SameSiteStrictMode})
	}
}

// securityHeaders sets the headers every API response carries.
func securityHeaders(next http.Handler) http.Handler { return auth.SecurityHeaders(next) }
