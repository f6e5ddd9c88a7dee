package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/store"
)

func testBaselines(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, _, err := s.GetBaseline(ctx, "cam1")
	require.ErrorIs(t, err, store.ErrNotFound)
	blob := []byte{0, 1, 2, 0xff, 'v', 0}
	require.NoError(t, s.PutBaseline(ctx, "cam1", blob))
	require.NoError(t, s.PutBaseline(ctx, "cam2", []byte("other")))
	got, at, err := s.GetBaseline(ctx, "cam1")
	require.NoError(t, err)
	require.Equal(t, blob, got, "binary data round-trips byte for byte")
	require.False(t, at.IsZero())
	require.NoError(t, s.PutBaseline(ctx, "cam1", []byte("v2")))
	got, _, err = s.GetBaseline(ctx, "cam1")
	require.NoError(t, err)
	require.Equal(t, []byte("v2"), got, "a put replaces the blob")
}

func testSuppressions(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Now().UTC()
	live := store.Suppression{Camera: "cam1", Rule: "stopped_vehicle", Name: "ramp", Class: "car", Place: "shoulder",
		X: 120.5, Y: 300.25, Radius: 40, AlertID: 7, By: "ana", Expires: now.Add(time.Hour)}
	id1, err := s.AddSuppression(ctx, live)
	require.NoError(t, err)
	expired := live
	expired.Expires = now.Add(-time.Minute)
	_, err = s.AddSuppression(ctx, expired)
	require.NoError(t, err)
	other := live
	other.Camera = "cam2"
	id3, err := s.AddSuppression(ctx, other)
	require.NoError(t, err)
	require.Greater(t, id3, id1)

	got, err := s.ListSuppressions(ctx, "cam1", now)
	require.NoError(t, err)
	require.Len(t, got, 1, "expired suppressions are not in force")
	require.Equal(t, id1, got[0].ID)
	require.False(t, got[0].Created.IsZero())
	want := live
	want.ID, want.Created, want.Expires = id1, got[0].Created, got[0].Expires
	require.Equal(t, want, got[0])
	require.WithinDuration(t, live.Expires, got[0].Expires, time.Millisecond)

	all, err := s.ListSuppressions(ctx, "", now)
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.NoError(t, s.DeleteSuppression(ctx, id1))
	require.ErrorIs(t, s.DeleteSuppression(ctx, id1), store.ErrNotFound)
	got, err = s.ListSuppressions(ctx, "cam1", now)
	require.NoError(t, err)
	require.Empty(t, got)
}

func testVerdicts(t *testing.T, s store.Store) {
	ctx := context.Background()
	move := func(camera, rule, name string, to ...store.AlertState) {
		t.Helper()
		e := sampleEvent(camera, rule, "car", 1)
		e.Name = name
		id := addAlert(t, s, e)
		for _, st := range to {
			_, err := s.Transition(ctx, id, st, "ana", "")
			require.NoError(t, err)
		}
	}
	move("cam1", "anomaly", "speed", store.StateConfirmed, store.StateClosed)
	move("cam1", "anomaly", "speed", store.StateAcknowledged, store.StateFalseAlarm)
	move("cam1", "anomaly", "speed", store.StateFalseAlarm)
	move("cam1", "anomaly", "direction", store.StateConfirmed)
	move("cam1", "wrong_way", "ramp", store.StateAcknowledged)
	move("cam2", "anomaly", "speed", store.StateConfirmed)

	got, err := s.Verdicts(ctx, store.VerdictFilter{Camera: "cam1"})
	require.NoError(t, err)
	require.Len(t, got, 2, "one row per camera, rule, name and day; unjudged alerts are not counted")
	byName := map[string]store.VerdictCount{}
	for _, v := range got {
		byName[v.Name] = v
		require.Equal(t, v.Day, v.Day.Truncate(24*time.Hour))
	}
	require.Equal(t, 1, byName["speed"].Confirmed)
	require.Equal(t, 2, byName["speed"].FalseAlarm)
	require.Equal(t, 1, byName["direction"].Confirmed)
	require.Equal(t, "anomaly", byName["direction"].Rule)

	all, err := s.Verdicts(ctx, store.VerdictFilter{})
	require.NoError(t, err)
	require.Len(t, all, 3)
	none, err := s.Verdicts(ctx, store.VerdictFilter{Since: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	require.Empty(t, none)
}
