package service

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

func parkedCar(x float64) event.Event {
	return event.Event{Rule: "stopped_vehicle", Name: "shoulder-stop", Zone: "shoulder", Class: "car", Start: 1, End: 9,
		Path: []event.PathPoint{{PTS: 1, Image: [2]float64{x, 300}}, {PTS: 9, Image: [2]float64{x + 2, 301}}}}
}

// TestDismissedSituationDoesNotReAlert follows the feedback loop of a
// scene rule: an operator dismisses a parked car's alert, the next track
// at the same spot raises nothing, a car one bay over still alerts, and a
// confirmed alert at the spot lifts the suppression so it keeps alerting
// — across a restart of the service too.
func TestDismissedSituationDoesNotReAlert(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Parse([]byte("version: 1\ndata_dir: "+t.TempDir()+"\n"), "t.yaml")
	require.NoError(t, err)
	s, err := New(cfg, Deps{Store: st})
	require.NoError(t, err)
	p := &processor{id: "cam1", sinks: s.sinks()}
	p.sinks.Snapshot = nil
	frame := &decode.Frame{Width: 1280, Height: 720}
	raise := func(ev event.Event) int {
		before := alertCount(t, st)
		p.alert(ctx, ev, frame, nil, nil)
		return alertCount(t, st) - before
	}
	verdict := func(id int64, to store.AlertState) {
		a, err := st.Transition(ctx, id, to, "ana", "")
		require.NoError(t, err)
		require.NoError(t, s.Verdict(ctx, a, "ana"))
	}

	require.Equal(t, 1, raise(parkedCar(500)))
	verdict(lastAlert(t, st), store.StateFalseAlarm)
	sups, err := st.ListSuppressions(ctx, "cam1", time.Now())
	require.NoError(t, err)
	require.Len(t, sups, 1)
	require.InDelta(t, 0.04*1468.6, sups[0].Radius, 1, "4% of the frame diagonal")

	require.Equal(t, 0, raise(parkedCar(510)), "the same parked car under a new track id is suppressed")
	require.Equal(t, 1.0, testutil.ToFloat64(s.metrics.Suppressed.WithLabelValues("cam1", "stopped_vehicle")))
	require.Equal(t, 1, raise(parkedCar(700)), "a car one bay over still alerts")

	// After a restart the suppression is loaded from the store.
	s2, err := New(cfg, Deps{Store: st})
	require.NoError(t, err)
	require.NoError(t, s2.loadSuppressions(ctx))
	p.sinks = s2.sinks()
	p.sinks.Snapshot = nil
	require.Equal(t, 0, raise(parkedCar(505)), "suppressions survive a restart")

	// Confirming an alert at the spot lifts the suppression.
	id, err := st.AddAlert(ctx, withCamera(parkedCar(503), "cam1"))
	require.NoError(t, err)
	a, err := st.Transition(ctx, id, store.StateConfirmed, "ana", "")
	require.NoError(t, err)
	require.NoError(t, s2.Verdict(ctx, a, "ana"))
	require.Equal(t, 1, raise(parkedCar(505)), "a confirmed situation keeps alerting")
	require.Equal(t, 1, raise(parkedCar(505)))
	sups, err = st.ListSuppressions(ctx, "cam1", time.Now())
	require.NoError(t, err)
	require.Empty(t, sups)
}

func withCamera(ev event.Event, cam string) event.Event { ev.Camera = cam; return ev }

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
