package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPIDoc describes every route; a test holds it to the route table.
//
//go:embed openapi.yaml
var openAPIDoc []byte

func (a *api) openAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(openAPIDoc)
	return nil
}

// healthz answers while the process serves at all: a liveness probe, so
// it checks nothing that a restart would not fix.
func (a *api) healthz(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz reports whether the service can do its work (store reachable,
// cameras loaded); load balancers route traffic by it.
func (a *api) readyz(w http.ResponseWriter, _ *http.Request) error {
	if a.deps.Ready != nil {
		if err := a.deps.Ready(); err != nil {
			return unavailable("not ready: %v", err)
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (a *api) metrics(w http.ResponseWriter, r *http.Request) error {
	if a.deps.Metrics == nil {
		return unavailable("metrics are not configured")
	}
	a.deps.Metrics.ServeHTTP(w, r)
	return nil
}
