package config

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Auth configures who may use the console and the API (internal/auth).
// Authentication is on unless Disabled, which is allowed only when the
// service listens on a loopback address.
type Auth struct {
	// Disabled serves every loopback request as an administrator named
	// "local", with no login; refused for any other listen address.
	Disabled bool `yaml:"disabled"`
	// SessionIdle ends a console session unused this long (default 1h);
	// SessionMax ends any session this long after login (default 12h).
	SessionIdle Duration `yaml:"session_idle"`
	SessionMax  Duration `yaml:"session_max"`
	// TrustedProxies are addresses or CIDR ranges of authenticating
	// proxies; only requests from them may name the user in
	// ProxyUserHeader (the user must exist in Vigil, which gives the role).
	TrustedProxies  []string `yaml:"trusted_proxies"`
	ProxyUserHeader string   `yaml:"proxy_user_header"`
	// TrustedOrigins are other origins whose pages may make changes
	// ("https://console.example"), e.g. behind a proxy that rewrites Host.
	TrustedOrigins []string `yaml:"trusted_origins"`
	// DemoUser, when no user exists yet, creates an administrator "demo"
	// with a generated password printed once (for make run).
	DemoUser bool `yaml:"demo_user"`
}

func (a *Auth) defaults() {
	if a.SessionIdle == 0 {
		a.SessionIdle = Duration(time.Hour)
	}
	if a.SessionMax == 0 {
		a.SessionMax = Duration(12 * time.Hour)
	}
}

// Proxies are the trusted proxy ranges (validated by Parse).
func (a Auth) Proxies() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range a.TrustedProxies {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// parsePrefix reads a CIDR range or a single address.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	ip = ip.Unmap()
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

func (a Auth) validate(listen string) []fieldError {
	var errs []fieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, fieldError{path: path, msg: fmt.Sprintf(format, args...)})
	}
	if err := a.CheckListen(listen); err != nil {
		add("$.auth.disabled", "%v", err)
	}
	if a.SessionIdle < Duration(time.Minute) {
		add("$.auth.session_idle", "must be at least 1m, got %v", time.Duration(a.SessionIdle))
	}
	if a.SessionMax < a.SessionIdle || a.SessionMax > Duration(30*24*time.Hour) {
		add("$.auth.session_max", "must be from session_idle to 720h, got %v", time.Duration(a.SessionMax))
	}
	for i, s := range a.TrustedProxies {
		if _, err := parsePrefix(s); err != nil {
			add(fmt.Sprintf("$.auth.trusted_proxies[%d]", i), "want an IP address or CIDR range, got %q", s)
		}
	}
	if (a.ProxyUserHeader == "") != (len(a.TrustedProxies) == 0) {
		add("$.auth.proxy_user_header", "trusted_proxies and proxy_user_header go together")
	}
	if h := a.ProxyUserHeader; h != "" && http.CanonicalHeaderKey(h) != http.CanonicalHeaderKey(strings.TrimSpace(h)) {
		add("$.auth.proxy_user_header", "not a header name: %q", h)
	}
	for i, o := range a.TrustedOrigins {
		if err := http.NewCrossOriginProtection().AddTrustedOrigin(o); err != nil {
			add(fmt.Sprintf("$.auth.trusted_origins[%d]", i), "%v", err)
		}
	}
	return errs
}

// CheckListen refuses disabled authentication unless listen is a loopback
// address: anyone who can reach the port would be an administrator.
func (a Auth) CheckListen(listen string) error {
	if !a.Disabled || IsLoopback(listen) {
		return nil
	}
	return fmt.Errorf("authentication may be disabled only when listening on a loopback address (127.0.0.1, ::1, localhost), not %q", listen)
}

// IsLoopback reports whether a host:port listens on loopback only.
func IsLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
