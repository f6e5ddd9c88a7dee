package service

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
	"github.com/vigil-cctv/vigil/internal/track"
)

// shoulderScene has one stopped-vehicle rule on a road zone.
const shoulderScene = `version: 1
camera: cam1
image: {width: 1280, height: 720}
zones:
  - {name: shoulder, type: carriageway, polygon: [[0, 250], [1279, 250], [1279, 450], [0, 450]]}
rules:
  - {type: stopped_vehicle, name: shoulder-stop, zone: shoulder, min_dwell: 2s}
`

// parkCar plays a car parked at x for 4 s through a fresh chain of camera
// cam1 (with the service's suppressions) and delivers what it raises.
func parkCar(t *testing.T, s *Service, x float64) {
	t.Helper()
	sc, err := scene.Parse([]byte(shoulderScene), "shoulder.yaml")
	require.NoError(t, err)
	frames := map[int][]track.Track{}
	for i := range 40 {
		frames[i] = []track.Track{{ID: 1, Class: detect.Car, Box: geom.Box{X: x - 45, Y: 310, W: 90, H: 40}, Score: 0.9}}
	}
	chain, err := analysis.New(analysis.Config{Camera: "cam1", Scene: sc, Epoch: time.Now(), Suppress: s.supp,
		Tracker: analysis.Recorded{R: track.NewReplay(frames, track.DefaultConfig(10))}})
	require.NoError(t, err)
	p := &processor{id: "cam1", chain: chain, sinks: s.sinks()}
	p.sinks.Snapshot = nil
	for i := range 40 {
		p.deliver(context.Background(), chain.Step(&decode.Frame{Index: i, PTS: time.Duration(i) * 100 * time.Millisecond, Width: 1280, Height: 720}, nil), sc)
	}
	p.deliver(context.Background(), chain.Close(), sc)
}

// TestDismissedSituationDoesNotReAlert follows the feedback loop of a
// scene rule through the analysis chain: an operator dismisses a parked
// car's alert, the next track at the same spot raises nothing, a car one
// bay over still alerts, and a confirmed alert at the spot lifts the
// suppression so it keeps alerting — across a restart of the service too.
func TestDismissedSituationDoesNotReAlert(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Parse([]byte("version: 1\ndata_dir: "+t.TempDir()+"\n"), "t.yaml")
	require.NoError(t, err)
	s, err := New(cfg, Deps{Store: st})
	require.NoError(t, err)
	raise := func(s *Service, x float64) int {
		before := alertCount(t, st)
		parkCar(t, s, x)
		return alertCount(t, st) - before
	}
	verdict := func(s *Service, id int64, to store.AlertState) {
		a, err := st.Transition(ctx, id, to, "ana", "")
		require.NoError(t, err)
		require.NoError(t, s.Verdict(ctx, a, "ana"))
	}

	require.Equal(t, 1, raise(s, 500))
	verdict(s, lastAlert(t, st), store.StateFalseAlarm)
	sups, err := st.ListSuppressions(ctx, "cam1", time.Now())
	require.NoError(t, err)
	require.Len(t, sups, 1)
	require.InDelta(t, 0.04*1468.6, sups[0].Radius, 1, "4% of the frame diagonal")

	require.Equal(t, 0, raise(s, 510), "the same parked car under a new track id is suppressed")
	require.Equal(t, 1.0, testutil.ToFloat64(s.metrics.Suppressed.WithLabelValues("cam1", "stopped_vehicle")))
	require.Equal(t, 1, raise(s, 700), "a car one bay over still alerts")

	// After a restart the suppression is loaded from the store.
	s2, err := New(cfg, Deps{Store: st})
	require.NoError(t, err)
	require.NoError(t, s2.loadSuppressions(ctx))
	require.Equal(t, 0, raise(s2, 505), "suppressions survive a restart")

	// Confirming another alert at the spot lifts the suppression.
	first, err := st.GetAlert(ctx, lastAlertAt(t, st, 500))
	require.NoError(t, err)
	id, err := st.AddAlert(ctx, first.Event)
	require.NoError(t, err)
	verdict(s2, id, store.StateConfirmed)
	require.Equal(t, 1, raise(s2, 505), "a confirmed situation keeps alerting")
	require.Equal(t, 1, raise(s2, 505))
	sups, err = st.ListSuppressions(ctx, "cam1", time.Now())
	require.NoError(t, err)
	require.Empty(t, sups)
}

// lastAlertAt is the newest alert whose path starts near x.
func lastAlertAt(t *testing.T, st store.Store, x float64) int64 {
	t.Helper()
	as, err := st.ListAlerts(context.Background(), store.AlertFilter{Limit: 500})
	require.NoError(t, err)
	for _, a := range as {
		if len(a.Event.Path) > 0 && a.Event.Path[0].Image[0] > x-20 && a.Event.Path[0].Image[0] < x+20 {
			return a.ID
		}
	}
	t.Fatalf("no alert near x=%v", x)
	return 0
}

func alertCount(t *testing.T, st store.Store) int {
	t.Helper()
	as, err := st.ListAlerts(context.Background(), store.AlertFilter{Limit: 500})
	require.NoError(t, err)
	return len(as)
}

func lastAlert(t *testing.T, st store.Store) int64 {
	t.Helper()
	as, err := st.ListAlerts(context.Background(), store.AlertFilter{Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, as)
	return as[0].ID
}
