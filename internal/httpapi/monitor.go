package httpapi

import (
	"net/http"
	"slices"
)

// monitorPaths are the routes for monitoring systems: open, no login.
var monitorPaths = []string{"/metrics", "/healthz", "/readyz"}

func isMonitorPath(p string) bool { return slices.Contains(monitorPaths, p) }

// NewMonitor serves only /metrics, /healthz and /readyz, for a separate
// monitoring address (config monitor_listen); the main handler then
// leaves them out (Options.SeparateMonitor).
func NewMonitor(deps Deps, opts Options) http.Handler {
	opts.SeparateMonitor = false
	h := New(deps, opts)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isMonitorPath(r.URL.Path) {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}
