package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// checkResponse asserts the fuzz invariants: malformed input is the
// client's fault (never 5xx) and every 4xx carries a JSON error body.
func checkResponse(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("status %d: %s", w.Code, w.Body.String())
	}
	if w.Code < 400 {
		return
	}
	var e errBody
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("status %d without a JSON error body: %q", w.Code, w.Body.String())
	}
}

func FuzzAlertsQuery(f *testing.F) {
	for _, s := range []string{
		"", "camera=cam-1&limit=10", "state=new&since=2024-05-01T08:00:00Z&until=2024-05-01T09:00:00Z",
		"cursor=" + encodeCursor(50), "limit=0", "limit=99999999999999999999", "since=%zz", "a=1&a=2",
		"cursor=djE6LTE", "state=closed;rule=x", "until=2024-05-01T08:00:00+25:00", "class=%00",
	} {
		f.Add(s)
	}
	hs := newFuzzHarness(f, Options{})
	for i := 0; i < 30; i++ {
		if _, err := hs.store.AddAlert(f.Context(), sampleEvent(i)); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, q string) {
		req := httptest.NewRequest("GET", "/api/v1/alerts", nil)
		req.URL.RawQuery = q
		checkResponse(t, hs.serve(req))
	})
}

func FuzzCameraBody(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","url":"rtsp://u:p@h:554/x","fps":5}`, `{"id":"b","url":"http://h/onvif","kind":"onvif"}`,
		`{"id":"c","url":"/v/x.mp4"}`, `{"url":"rtsp://admin:xxxxx@10.0.0.5/live"}`, `{"url":"rtsp://admin@evil/"}`,
		`{"id":"a","fps":1e400}`, `{"id":"a","url":"rtsp://h/"} x`, `null`, `[]`, `{"id":"a","enabled":"yes"}`,
		`{"id":"a","url":"rtsp://[::1"}`, `{"id":"\u0000","url":"rtsp://h/"}`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		hs := newFuzzHarness(t, Options{})
		stored := `{"id":"cam","url":"rtsp://admin:` + secret + `@10.0.0.5/live"}`
		if w := hs.do("POST", "/api/v1/cameras", stored); w.Code != http.StatusCreated {
			t.Fatalf("seed camera: %d %s", w.Code, w.Body.String())
		}
		for _, req := range []struct{ method, path string }{{"POST", "/api/v1/cameras"}, {"PUT", "/api/v1/cameras/cam"}} {
			w := hs.doType(req.method, req.path, string(body), "application/json")
			checkResponse(t, w)
			if strings.Contains(w.Body.String(), secret) {
				t.Fatalf("%s %s leaks the stored password: %s", req.method, req.path, w.Body.String())
			}
		}
		if strings.Contains(hs.logs.String(), secret) {
			t.Fatalf("log leaks the stored password")
		}
	})
}

func FuzzTransitionBody(f *testing.F) {
	for _, s := range []string{
		`{"to":"acknowledged","by":"Ana"}`, `{"to":"closed","by":"Ana","note":"done"}`, `{"to":"new","by":"x"}`,
		`{"to":"acknowledged"}`, `{"to":1}`, `{"to":"closed","by":"a","x":1}`, `{`, `""`, `{"by":"` + strings.Repeat("a", 200) + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		hs := newFuzzHarness(t, Options{})
		if _, err := hs.store.AddAlert(t.Context(), sampleEvent(0)); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second try meets the state the first one left
			checkResponse(t, hs.doType("POST", "/api/v1/alerts/1/transition", string(body), "application/json"))
		}
	})
}

func FuzzSceneBody(f *testing.F) {
	f.Add([]byte(validScene))
	f.Add([]byte(invalidScene))
	f.Add([]byte("version: [\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		hs := newFuzzHarness(t, Options{})
		if w := hs.do("POST", "/api/v1/cameras", `{"id":"gate","url":"rtsp://h/"}`); w.Code != http.StatusCreated {
			t.Fatalf("seed camera: %d", w.Code)
		}
		checkResponse(t, hs.doType("PUT", "/api/v1/cameras/gate/scene", string(body), "application/yaml"))
	})
}

// FuzzFeedbackQueries sends arbitrary query strings to the feedback and
// baseline routes: none may answer 5xx.
func FuzzFeedbackQueries(f *testing.F) {
	for _, s := range []string{
		"", "kind=direction&class=car&hour=30", "hour=168", "hour=-1", "kind=%zz", "camera=cam1&since=2024-05-01T08:00:00Z",
		"since=2030-01-01T00:00:00Z&until=2020-01-01T00:00:00Z", "class=" + strings.Repeat("x", 200), "a=1&a=2",
	} {
		f.Add(uint8(0), s)
		f.Add(uint8(1), s)
		f.Add(uint8(2), s)
	}
	paths := []string{"/api/v1/cameras/cam1/baseline/heatmap.png", "/api/v1/stats/verdicts", "/api/v1/suppressions"}
	hs := newFuzzHarness(f, Options{})
	f.Fuzz(func(t *testing.T, which uint8, q string) {
		req := httptest.NewRequest("GET", paths[int(which)%len(paths)], nil)
		req.URL.RawQuery = q
		checkResponse(t, hs.serve(req))
	})
}
