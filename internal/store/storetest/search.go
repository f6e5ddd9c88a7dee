package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/store"
)

func searchStore(t *testing.T, s store.Store) store.SearchStore {
	t.Helper()
	ss, ok := s.(store.SearchStore)
	require.True(t, ok, "%T must implement store.SearchStore", s)
	return ss
}

// testSearchTracks: appearances are stored with their summaries, come
// back as index records page by page, and an index built from them
// answers a query.
func testSearchTracks(t *testing.T, s store.Store) {
	ctx := context.Background()
	ss := searchStore(t, s)
	red := search.Appearance{Upper: []string{"red", "white"}, Lower: []string{"black"}, Carried: []string{"backpack"},
		Heading: "north", HeightM: 1.78, Zones: []string{"gate"}, Embedding: []float32{1, 0, 0, 0}, Thumb: []byte{0xff, 0xd8, 1}}
	blue := search.Appearance{Upper: []string{"blue"}, Lower: []string{"blue"}, Heading: "south", Embedding: []float32{0, 1, 0, 0}}
	car := search.Appearance{Colours: []string{"white"}, Heading: "east"}
	mk := func(cam string, id, sec int, class string, a *search.Appearance) store.TrackSummary {
		return store.TrackSummary{Camera: cam, TrackID: id, Class: class, Start: at(sec), End: at(sec + 5),
			Path: []event.PathPoint{{PTS: float64(sec), Image: [2]float64{1, 2}}}, Appearance: a}
	}
	ids, err := ss.AddTracks(ctx, []store.TrackSummary{mk("cam1", 1, 0, "person", &red), mk("cam1", 2, 10, "person", nil),
		mk("cam2", 3, 20, "person", &blue)})
	require.NoError(t, err)
	require.Len(t, ids, 3)
	require.Less(t, ids[0], ids[1])
	require.NoError(t, s.AddTrack(ctx, mk("cam2", 4, 30, "car", &car)))

	var recs []search.Record
	for after := int64(0); ; {
		page, err := ss.SearchRecords(ctx, after, 2)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		recs, after = append(recs, page...), page[len(page)-1].ID
	}
	require.Len(t, recs, 3, "the track without appearance is not searchable")
	require.Equal(t, search.RecordOf(ids[0], "cam1", "person", at(0), at(5), red), recs[0])
	require.Equal(t, "car", recs[2].Class)
	require.Nil(t, recs[2].Vec)

	ix, err := search.Build(recs)
	require.NoError(t, err)
	res, err := ix.Search(search.Query{Upper: []string{"red"}, Carried: []string{"backpack"}, Zones: []string{"gate"}})
	require.NoError(t, err)
	require.Len(t, res.Hits, 1)
	require.Equal(t, ids[0], res.Hits[0].ID)

	got, err := ss.GetTracks(ctx, []int64{ids[2], 999999, ids[0], ids[1]})
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.Equal(t, []int64{ids[2], ids[0], ids[1]}, []int64{got[0].ID, got[1].ID, got[2].ID})
	want := red
	want.Embedding, want.Thumb = nil, nil
	require.Equal(t, &want, got[1].Appearance)
	require.Nil(t, got[2].Appearance)
	require.Equal(t, "cam1", got[1].Camera)
	require.Len(t, got[1].Path, 1)

	thumb, err := ss.TrackThumb(ctx, ids[0])
	require.NoError(t, err)
	require.Equal(t, red.Thumb, thumb)
	_, err = ss.TrackThumb(ctx, ids[2])
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = ss.TrackThumb(ctx, ids[1])
	require.ErrorIs(t, err, store.ErrNotFound)
}
