package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
)

// fakeFeedback records verdicts and lifts suppressions in the store.
type fakeFeedback struct {
	st     store.Store
	mu     sync.Mutex
	seen   []store.AlertState
	by     string
	lifted []int64
}

func (f *fakeFeedback) Verdict(_ context.Context, a store.Alert, by string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, a.State)
	f.by = by
	return nil
}

// lastBy is who gave the last verdict.
func (f *fakeFeedback) lastBy() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.by
}

func (f *fakeFeedback) Lift(ctx context.Context, id int64) error {
	f.mu.Lock()
	f.lifted = append(f.lifted, id)
	f.mu.Unlock()
	return f.st.DeleteSuppression(ctx, id)
}

func (f *fakeFeedback) verdicts() []store.AlertState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]store.AlertState(nil), f.seen...)
}

// fakeBaselines knows camera "cam1" only.
type fakeBaselines struct {
	mu   sync.Mutex
	last HeatmapQuery
}

func (f *fakeBaselines) BaselineState(camera string) (any, error) {
	if camera != "cam1" {
		return nil, fmt.Errorf("camera %s: %w", camera, store.ErrNotFound)
	}
	return map[string]any{"warm": true}, nil
}

func (f *fakeBaselines) Heatmap(camera string, q HeatmapQuery) ([]byte, error) {
	if camera != "cam1" {
		return nil, store.ErrNotFound
	}
	f.mu.Lock()
	f.last = q
	f.mu.Unlock()
	return []byte("\x89PNG\r\n\x1a\n"), nil
}

func addTestAlert(t *testing.T, hs *harness, rule, name string) int64 {
	t.Helper()
	id, err := hs.store.AddAlert(context.Background(), event.Event{Rule: rule, Name: name, Camera: "cam1", Class: "car", Start: 1, End: 2})
	require.NoError(t, err)
	return id
}

func TestVerdictsReachFeedbackAndPrecision(t *testing.T) {
	hs := newHarness(t, Options{})
	move := func(id int64, to string) {
		readJSON[alertView](t, hs.do("POST", fmt.Sprintf("/api/v1/alerts/%d/transition", id), `{"to":"`+to+`"}`), http.StatusOK)
	}
	a, b, c := addTestAlert(t, hs, "anomaly", "speed"), addTestAlert(t, hs, "anomaly", "speed"), addTestAlert(t, hs, "anomaly", "speed")
	d := addTestAlert(t, hs, "wrong_way", "ramp")
	move(a, "confirmed")
	move(b, "false_alarm")
	move(c, "false_alarm")
	move(d, "acknowledged")
	move(a, "closed")
	require.Equal(t, []store.AlertState{store.StateConfirmed, store.StateFalseAlarm, store.StateFalseAlarm}, hs.verdict.verdicts(),
		"only confirmations and dismissals are feedback")

	type resp struct {
		Rules []ruleVerdicts `json:"rules"`
	}
	r := readJSON[resp](t, hs.do("GET", "/api/v1/stats/verdicts?camera=cam1", ""), http.StatusOK)
	require.Len(t, r.Rules, 1)
	require.Equal(t, "speed", r.Rules[0].Name)
	require.Equal(t, 1, r.Rules[0].Confirmed)
	require.Equal(t, 2, r.Rules[0].FalseAlarm)
	require.InDelta(t, 1.0/3, *r.Rules[0].Precision, 1e-9)
	require.Len(t, r.Rules[0].Days, 1)
	requireError(t, hs.do("GET", "/api/v1/stats/verdicts?bogus=1", ""), http.StatusBadRequest, codeBadRequest)
}

func TestSuppressionRoutes(t *testing.T) {
	hs := newHarness(t, Options{})
	ctx := context.Background()
	id, err := hs.store.AddSuppression(ctx, store.Suppression{Camera: "cam1", Rule: "stopped_vehicle", Class: "car",
		X: 5, Y: 6, Radius: 20, AlertID: 1, By: "ana", Expires: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	type resp struct {
		Suppressions []store.Suppression `json:"suppressions"`
	}
	r := readJSON[resp](t, hs.do("GET", "/api/v1/suppressions?camera=cam1", ""), http.StatusOK)
	require.Len(t, r.Suppressions, 1)
	require.Equal(t, id, r.Suppressions[0].ID)
	r = readJSON[resp](t, hs.do("GET", "/api/v1/suppressions?camera=cam9", ""), http.StatusOK)
	require.NotNil(t, r.Suppressions)
	require.Empty(t, r.Suppressions)

	require.Equal(t, http.StatusNoContent, hs.do("DELETE", fmt.Sprintf("/api/v1/suppressions/%d", id), "").Code)
	require.Equal(t, []int64{id}, hs.verdict.lifted)
	requireError(t, hs.do("DELETE", fmt.Sprintf("/api/v1/suppressions/%d", id), ""), http.StatusNotFound, codeNotFound)
	requireError(t, hs.do("DELETE", "/api/v1/suppressions/x", ""), http.StatusBadRequest, codeBadRequest)
	requireError(t, hs.do("DELETE", "/api/v1/suppressions/0", ""), http.StatusBadRequest, codeBadRequest)
}

func TestBaselineRoutes(t *testing.T) {
	hs := newHarness(t, Options{})
	st := readJSON[map[string]any](t, hs.do("GET", "/api/v1/cameras/cam1/baseline", ""), http.StatusOK)
	require.Equal(t, true, st["warm"])
	requireError(t, hs.do("GET", "/api/v1/cameras/cam2/baseline", ""), http.StatusNotFound, codeNotFound)

	w := hs.do("GET", "/api/v1/cameras/cam1/baseline/heatmap.png?kind=direction&class=car&hour=30", "")
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "image/png", w.Header().Get("Content-Type"))
	require.Equal(t, HeatmapQuery{Kind: "direction", Class: "car", Hour: 30}, hs.base.last)
	require.Equal(t, http.StatusOK, hs.do("GET", "/api/v1/cameras/cam1/baseline/heatmap.png", "").Code)
	require.Equal(t, HeatmapQuery{Kind: "occupancy", Hour: -1}, hs.base.last, "defaults: occupancy, all hours")
	for _, q := range []string{"kind=heat", "hour=168", "hour=-1", "hour=x", "colour=red"} {
		requireError(t, hs.do("GET", "/api/v1/cameras/cam1/baseline/heatmap.png?"+q, ""), http.StatusBadRequest, codeBadRequest)
	}
	requireError(t, hs.do("GET", "/api/v1/cameras/cam2/baseline/heatmap.png", ""), http.StatusNotFound, codeNotFound)

	bare := New(Deps{Store: newMemStore()}, Options{AuthDisabled: true})
	for _, p := range []string{"/api/v1/cameras/cam1/baseline", "/api/v1/cameras/cam1/baseline/heatmap.png"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", p, nil)
		req.RemoteAddr = "127.0.0.1:4000"
		bare.ServeHTTP(rec, req)
		requireError(t, rec, http.StatusServiceUnavailable, codeUnavailable)
	}
}
