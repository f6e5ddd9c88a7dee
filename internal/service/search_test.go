package service

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

// TestSearchIndexFollowsStore: a described summary is stored and indexed
// at once, and an index rebuilt from the store finds the same tracks.
func TestSearchIndexFollowsStore(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	ix := search.NewIndex()
	p := &processor{sinks: Sinks{Store: st, Search: ix}}
	t0 := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	red := &search.Appearance{Upper: []string{"red"}, Embedding: []float32{1, 2, 3}}
	require.NoError(t, p.storeTrack(ctx, store.TrackSummary{Camera: "c", TrackID: 1, Class: "person", Start: t0, End: t0, Appearance: red}))
	require.NoError(t, p.storeTrack(ctx, store.TrackSummary{Camera: "c", TrackID: 2, Class: "person", Start: t0, End: t0}))
	res, err := ix.Search(search.Query{Upper: []string{"red"}})
	require.NoError(t, err)
	require.Len(t, res.Hits, 1)

	built, err := LoadIndex(ctx, st)
	require.NoError(t, err)
	require.Equal(t, 1, built.Len())
	again, err := built.Search(search.Query{Upper: []string{"red"}})
	require.NoError(t, err)
	require.Equal(t, res.Hits, again.Hits)
	all, err := st.ListTracks(ctx, "c", time.Time{}, time.Time{}, 0)
	require.NoError(t, err)
	require.Len(t, all, 2, "the undescribed track is stored too")
}
