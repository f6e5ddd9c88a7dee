package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/store"
)

// clusterRecords is what the cluster's store writer needs (issue 15);
// both engines implement it through sqlstore.
type clusterRecords interface {
	AddAlertOnce(ctx context.Context, key string, e event.Event) (int64, bool, error)
	AddTrackOnce(ctx context.Context, key string, t store.TrackSummary) (bool, error)
	TrackIDByKey(ctx context.Context, key string) (int64, error)
	AddCountsOnce(ctx context.Context, key string, cs []store.Count) (bool, error)
	PutBaselineIfNewer(ctx context.Context, camera string, data []byte, fence, seq uint64) (bool, error)
	PruneApplied(ctx context.Context, before time.Time) (int64, error)
	WriteBatch(ctx context.Context, b store.RecordBatch) ([]store.NewAlert, error)
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

	// A worker's described track is searchable once, however often it
	// arrives.
	tr.TrackID, tr.Appearance = 5, &search.Appearance{Upper: []string{"red"}, Embedding: []float32{1, 0, 0, 0}}
	for i, want := range []bool{true, false} {
		added, err := cs.AddTrackOnce(ctx, "tr-cam1-5", tr)
		require.NoError(t, err)
		require.Equal(t, want, added, "write %d", i)
	}
	id, err := cs.TrackIDByKey(ctx, "tr-cam1-5")
	require.NoError(t, err)
	_, err = cs.TrackIDByKey(ctx, "tr-nowhere")
	require.ErrorIs(t, err, store.ErrNotFound)
	if ss, ok := s.(store.SearchStore); ok {
		recs, err := ss.SearchRecords(ctx, 0, 10)
		require.NoError(t, err)
		require.Len(t, recs, 1, "the plain track is not described")
		require.Equal(t, id, recs[0].ID)
		require.NotZero(t, recs[0].Upper)
	}

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

// testClusterBatch: a batch is written in one go, and written again adds
// nothing.
func testClusterBatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	cs := clusterStore(t, s)
	pre, _, err := cs.AddAlertOnce(ctx, "ev-old", sampleEvent("cam1", "loitering", "person", 1))
	require.NoError(t, err)
	b := store.RecordBatch{
		Alerts: []store.KeyedAlert{
			{Key: "ev-b", Event: sampleEvent("cam1", "intrusion", "person", 3)},
			{Key: "ev-old", Event: sampleEvent("cam1", "loitering", "person", 1)},
			{Key: "ev-a", Event: sampleEvent("cam1", "intrusion", "person", 2)},
		},
		Tracks:    []store.KeyedTrack{{Key: "tr-1", Track: store.TrackSummary{Camera: "cam1", TrackID: 1, Class: "car", Start: at(1), End: at(2)}}},
		Counts:    []store.KeyedCounts{{Key: "ct-1", Counts: []store.Count{{Camera: "cam1", Name: "l", Class: "car", Bucket: at(0), N: 4}}}},
		Baselines: []store.BaselineSnapshot{{Camera: "cam1", Data: []byte("b1"), Fence: 3, Seq: 1}},
	}
	added, err := cs.WriteBatch(ctx, b)
	require.NoError(t, err)
	require.Len(t, added, 2, "the alert stored before is not new")
	for _, a := range added {
		require.NotEqual(t, pre, a.ID)
		got, err := s.GetAlert(ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, "intrusion", got.Event.Rule)
	}
	again, err := cs.WriteBatch(ctx, b)
	require.NoError(t, err)
	require.Empty(t, again)
	alerts, err := s.ListAlerts(ctx, store.AlertFilter{Camera: "cam1"})
	require.NoError(t, err)
	require.Len(t, alerts, 3)
	counts, err := s.ListCounts(ctx, store.CountFilter{Camera: "cam1"})
	require.NoError(t, err)
	require.EqualValues(t, 4, counts[0].N)
	tracks, err := s.ListTracks(ctx, "cam1", time.Time{}, time.Time{}, 0)
	require.NoError(t, err)
	require.Len(t, tracks, 1)
	data, _, err := s.GetBaseline(ctx, "cam1")
	require.NoError(t, err)
	require.Equal(t, "b1", string(data))
}
