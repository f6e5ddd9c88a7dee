package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// Issue 16 item 9: the Host header was not checked, so a page on another
// origin could reach the API by DNS rebinding.
func TestHostGuard(t *testing.T) {
	hs := newHarness(t, Options{})
	h := HostGuard([]string{"vigil.city.example", "*.cctv.example"})(hs.h)
	do := func(host, origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/api/v1/cameras", nil)
		req.Host = host
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, hs.login(req))
		return w
	}
	for _, c := range []struct {
		host, origin string
		ok           bool
	}{
		{"127.0.0.1:8080", "", true},
		{"localhost:8080", "http://localhost:8080", true},
		{"[::1]:8080", "", true},
		{"10.0.0.7:8080", "http://10.0.0.7:8080", true},
		{"vigil.city.example", "https://vigil.city.example", true},
		{"VIGIL.city.example.:443", "", true},
		{"ops.cctv.example", "https://ops.cctv.example", true},
		{"", "", true},
		{"evil.example:8080", "", false},                           // DNS rebinding
		{"cctv.example", "", false},                                // the wildcard is for subdomains
		{"127.0.0.1:8080", "https://evil.example", false},          // a cross-site request
		{"127.0.0.1:8080", "null", false},                          // a sandboxed frame
		{"localhost:8080", "http://localhost.evil.example", false}, // not a loopback name
	} {
		w := do(c.host, c.origin)
		if c.ok {
			require.Equal(t, http.StatusOK, w.Code, "%+v: %s", c, w.Body.String())
			continue
		}
		e := requireError(t, w, http.StatusForbidden, codeHostRefused)
		if c.origin != "null" {
			require.Contains(t, e.Error.Message, "http.allowed_hosts", "%+v", c)
		}
	}
	// Console pages are guarded the same way when the whole mux is wrapped.
	console := HostGuard(nil)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	req := httptest.NewRequest("GET", "/", nil)
	req.Host = "rebind.evil.example"
	w := httptest.NewRecorder()
	console.ServeHTTP(w, req)
	require.Equal(t, http.StatusForbidden, w.Code)
}
