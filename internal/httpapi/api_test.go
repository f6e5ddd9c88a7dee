package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRoutingErrorsAreJSON(t *testing.T) {
	hs := newHarness(t, Options{})
	w := hs.do("PATCH", "/api/v1/cameras", `{}`)
	requireError(t, w, http.StatusMethodNotAllowed, codeMethodNotAllowed)
	require.Contains(t, w.Header().Get("Allow"), "GET")
	require.Contains(t, w.Header().Get("Allow"), "POST")
	requireError(t, hs.do("DELETE", "/api/v1/alerts/1", ""), http.StatusMethodNotAllowed, codeMethodNotAllowed)
	requireError(t, hs.do("GET", "/api/v2/nothing", ""), http.StatusNotFound, codeNotFound)
	requireError(t, hs.do("GET", "/api/v1/cameras/a/b/c", ""), http.StatusNotFound, codeNotFound)
}

func TestProbes(t *testing.T) {
	hs := newHarness(t, Options{})
	require.Equal(t, http.StatusOK, hs.do("GET", "/healthz", "").Code)
	require.Equal(t, http.StatusOK, hs.do("GET", "/readyz", "").Code)
	hs.readyFn = func() error { return errors.New("store unreachable") }
	e := requireError(t, hs.do("GET", "/readyz", ""), http.StatusServiceUnavailable, codeUnavailable)
	require.Contains(t, e.Error.Message, "store unreachable")
	require.Equal(t, http.StatusOK, hs.do("GET", "/healthz", "").Code, "liveness does not depend on readiness")
	w := hs.do("GET", "/metrics", "")
	require.Equal(t, http.StatusOK, w.Code)
	require.Contains(t, w.Body.String(), "vigil_up 1")
	w = hs.do("GET", "/api/v1/openapi.yaml", "")
	require.Equal(t, http.StatusOK, w.Code)
	require.Contains(t, w.Body.String(), "openapi: 3")
}

func TestPanicBecomesInternalError(t *testing.T) {
	logs := &syncBuffer{}
	h := New(Deps{
		Store:   newMemStore(),
		Metrics: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }),
		Logger:  newTestLogger(logs),
	}, Options{})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	requireError(t, w, http.StatusInternalServerError, codeInternal)
	require.Contains(t, logs.String(), "boom")
	require.Contains(t, logs.String(), "http handler panic")
}

func TestMissingDeps(t *testing.T) {
	h := New(Deps{Store: newMemStore()}, Options{AuthDisabled: true})
	for _, path := range []string{"/metrics", "/api/v1/events"} {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", path, nil)
		req.RemoteAddr = "127.0.0.1:4000"
		h.ServeHTTP(w, req)
		requireError(t, w, http.StatusServiceUnavailable, codeUnavailable)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	require.Equal(t, http.StatusOK, w.Code, "no Ready func: ready")
}
