package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
)

// clusterRecords is what the cluster's store writer needs (issue 15);
// both engines implement it through sqlstore.
type clusterRecords interface {
	AddAlertOnce(ctx context.Context, key string, e event.Event) (int64, bool, error)
	AddTrackOnce(ctx context.Context, key string, t store.TrackSummary) (bool, error)
	AddCountsOnce(ctx context.Context, key string, cs []store.Count) (bool, error)
	PutBaselineIfNewer(ctx context.Context, camera string, data []byte, fence, seq uint64) (bool, error)
	PruneApplied(ctx context.Context, before time.Time) (int64, error)
}

func clusterStore(t *testing.T, s store.Store) clusterRecords {
	t.Helper()
	cs, ok := s.(clusterRecords)
	require.True(t, ok, "%T does not implement the cluster writes", s)
	return cs
}

// testClusterOnce: every record written twice, or concurrently, is
// stored once; single-node writes (no key) are unaffected.
func testClusterOnce(t *testing.T, s store.Store) {
	ctx := context.Background()
	cs := clusterStore(t, s)

	e := sampleEvent("cam1", "wrong_way", "car", 12.5)
	id1, added, err := cs.AddAlertOnce(ctx, "ev-cam1-a", e)
	require.NoError(t, err)
	require.True(t, added)
	id2, added, err := cs.AddAlertOnce(ctx, "ev-cam1-a", e)
	require.NoError(t, err)
	require.False(t, added)
	require.Equal(t, id1, id2, "a duplicate returns the stored alert")
	addAlert(t, s, e) // a single-node write without a key
	addAlert(t, s, e)
	all, err := s.ListAlerts(ctx, store.AlertFilter{Camera: "cam1"})
	require.NoError(t, err)
	require.Len(t, all, 3)
	got, err := s.GetAlert(ctx, id1)
	require.NoError(t, err)
	require.Equal(t, e, got.Event)

	var wg sync.WaitGroup
	ids := make([]int64, 8)
	for i := range ids {
		wg.Go(func() {
			id, _, err := cs.AddAlertOnce(ctx, "ev-cam1-race", e)
			require.NoError(t, err)
			ids[i] = id
		})
	}
	wg.Wait()
	for _, id := range ids {
		require.Equal(t, ids[0], id, "concurrent redeliveries agree on one alert")
	}

	tr := store.TrackSummary{Camera: "cam1", TrackID: 4, Class: "person", Start: at(1), End: at(9),
		Path: []event.PathPoint{{PTS: 1, Image: [2]float64{1, 2}}}}
	for i, want := range []bool{true, false} {
		added, err := cs.AddTrackOnce(ctx, "tr-cam1-4", tr)
		require.NoError(t, err)
		require.Equal(t, want, added, "write %d", i)
	}
	tracks, err := s.ListTracks(ctx, "cam1", time.Time{}, time.Time{}, 0)
	require.NoError(t, err)
	require.Len(t, tracks, 1)

	c := []store.Count{{Camera: "cam1", Name: "gate", Class: "car", Direction: "in", Bucket: at(0), N: 3}}
	for _, key := range []string{"ct-1", "ct-1", "ct-2", "ct-1"} {
		_, err := cs.AddCountsOnce(ctx, key, c)
		require.NoError(t, err)
	}
	counts, err := s.ListCounts(ctx, store.CountFilter{Camera: "cam1"})
	require.NoError(t, err)
	require.Len(t, counts, 1)
	require.EqualValues(t, 6, counts[0].N, "two distinct batches of 3, repeats ignored")

	n, err := cs.PruneApplied(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
}

// testClusterBaselineOrder: a snapshot replaces the stored one only when
// its (fence, seq) is newer.
func testClusterBaselineOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	cs := clusterStore(t, s)
	for _, w := range []struct {
		fence, seq uint64
		want       bool
		stored     string
	}{
		{10, 1, true, "10/1"},
		{10, 3, true, "10/3"},
		{10, 2, false, "10/3"}, // late redelivery
		{10, 3, false, "10/3"}, // duplicate
		{9, 99, false, "10/3"}, // earlier owner
		{12, 1, true, "12/1"},  // new owner
	} {
		applied, err := cs.PutBaselineIfNewer(ctx, "cam1", fmt.Appendf(nil, "%d/%d", w.fence, w.seq), w.fence, w.seq)
		require.NoError(t, err)
		require.Equal(t, w.want, applied, "fence %d seq %d", w.fence, w.seq)
		data, _, err := s.GetBaseline(ctx, "cam1")
		require.NoError(t, err)
		require.Equal(t, w.stored, string(data))
	}
}
