package config

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAuthDefaults(t *testing.T) {
	c, err := Parse([]byte("version: 1\n"), "v.yaml")
	require.NoError(t, err)
	require.False(t, c.Auth.Disabled, "authentication is on by default")
	require.Equal(t, Duration(time.Hour), c.Auth.SessionIdle)
	require.Equal(t, Duration(12*time.Hour), c.Auth.SessionMax)
	require.Empty(t, c.MonitorListen)
}

func TestAuthConfig(t *testing.T) {
	c, err := Parse([]byte(`version: 1
listen: "[::1]:8080"
monitor_listen: 127.0.0.1:9090
auth:
  disabled: true
  session_idle: 30m
  session_max: 8h
  trusted_proxies: [10.0.0.0/8, 192.0.2.7]
  proxy_user_header: X-Remote-User
  trusted_origins: ["https://vigil.example"]
`), "v.yaml")
	require.NoError(t, err)
	require.True(t, c.Auth.Disabled)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32")}, c.Auth.Proxies())
	require.Equal(t, "127.0.0.1:9090", c.MonitorListen)
}

func TestAuthConfigErrors(t *testing.T) {
	for yaml, want := range map[string]string{
		"listen: 0.0.0.0:8080\nauth: {disabled: true}":                      "v.yaml:3:18: auth.disabled: authentication may be disabled only when listening on a loopback address",
		"listen: localhost:8080\nauth: {disabled: true, session_idle: 10s}": "auth.session_idle: must be at least 1m",
		"auth: {session_idle: 2h, session_max: 1h}":                         "auth.session_max: must be from session_idle to 720h",
		"auth: {trusted_proxies: [10.0.0.0/33], proxy_user_header: X-U}":    "auth.trusted_proxies[0]: want an IP address or CIDR range",
		"auth: {trusted_proxies: [10.0.0.1]}":                               "auth.proxy_user_header: trusted_proxies and proxy_user_header go together",
		"auth: {trusted_origins: [vigil.example]}":                          "auth.trusted_origins[0]",
		"monitor_listen: 9090":                                              "monitor_listen: want host:port",
		"monitor_listen: 127.0.0.1:8080":                                    "monitor_listen: must differ from listen",
	} {
		_, err := Parse([]byte("version: 1\n"+yaml+"\n"), "v.yaml")
		require.ErrorContains(t, err, want, yaml)
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:80": true, "[::1]:80": true, "localhost:80": true, "127.1.2.3:80": true,
		"0.0.0.0:80": false, ":80": false, "[::]:80": false, "10.0.0.1:80": false, "vigil.example:80": false} {
		require.Equal(t, want, IsLoopback(addr), addr)
	}
}
