package httpapi

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

const codeHostRefused = "host_not_allowed"

// HostGuard refuses requests whose Host header, or whose Origin header
// when there is one, names a host the deployment does not serve under. It
// is the defence against DNS rebinding (a page on evil.example whose name
// is re-pointed at the server: the browser then sends Host: evil.example)
// and against cross-site requests from another origin (Origin:
// https://evil.example). Wrap the whole handler, console included; it
// composes with any authentication middleware in either order.
//
// Allowed are: IP literals (a rebinding page always has a name), the
// loopback names localhost and *.localhost, an empty Host (non-browser
// HTTP/1.0 clients), and the names in allowed, each exact or "*.suffix"
// for any subdomain. Origin "null" (sandboxed frames, file:// pages) is
// refused.
func HostGuard(allowed []string) func(http.Handler) http.Handler {
	g := hostGuard{exact: map[string]bool{}}
	for _, h := range allowed {
		h = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
		if suffix, ok := strings.CutPrefix(h, "*."); ok {
			g.suffixes = append(g.suffixes, "."+suffix)
		} else if h != "" {
			g.exact[h] = true
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if msg := g.refusal(r); msg != "" {
				writeError(w, errorf(http.StatusForbidden, codeHostRefused, "%s", msg))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

type hostGuard struct {
	exact    map[string]bool
	suffixes []string
}

// refusal says why r is refused, "" when it is not.
func (g hostGuard) refusal(r *http.Request) string {
	if r.Host != "" && !g.allowed(hostOnly(r.Host)) {
		return "host " + quote(hostOnly(r.Host)) + " is not one this server answers to; add it to http.allowed_hosts"
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return ""
	}
	u, err := url.Parse(origin)
	if origin == "null" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "requests from origin " + quote(origin) + " are not accepted"
	}
	if !g.allowed(hostOnly(u.Host)) {
		return "requests from origin " + quote(origin) + " are not accepted; add its host to http.allowed_hosts"
	}
	return ""
}

func (g hostGuard) allowed(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost") || g.exact[host] {
		return true
	}
	for _, s := range g.suffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// hostOnly strips the port and IPv6 brackets from a Host value.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

// quote bounds and quotes a header value for an error message.
func quote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return `"` + strings.Map(func(r rune) rune {
		if r < ' ' || r == '"' || r == 0x7f {
			return '?'
		}
		return r
	}, s) + `"`
}

// IsStreaming reports the routes that stream for as long as the client
// watches (live views, the event stream), which must not get a whole-
// request read or write timeout.
func IsStreaming(r *http.Request) bool {
	return r.URL.Path == "/api/v1/events" || strings.HasSuffix(r.URL.Path, "/live.mjpeg")
}
