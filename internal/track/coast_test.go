package track

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
)

// A walker detected on ten frames moving 4 px a frame is carried through
// three frames without detections at its predicted place, and picked up
// again by the same id when detections return.
func TestPredictCarriesTracksBetweenDetections(t *testing.T) {
	tr, err := New(DefaultConfig(5))
	require.NoError(t, err)
	det := func(i int) []detect.Detection {
		return []detect.Detection{{Box: geom.Box{X: 100 + 4*float64(i), Y: 50, W: 20, H: 60}, Class: detect.Person, Score: 0.9}}
	}
	var id int
	for i := range 10 {
		out := tr.Update(det(i))
		require.Len(t, out, 1)
		id = out[0].ID
	}
	for i := 10; i < 13; i++ {
		out := tr.Predict()
		require.Len(t, out, 1)
		require.Equal(t, id, out[0].ID)
		require.Equal(t, -1, out[0].DetIndex)
		require.InDelta(t, 100+4*float64(i), out[0].Box.X, 3, "frame %d predicted", i)
		m := tr.Motions()
		require.Len(t, m, 1)
		require.InDelta(t, 4, m[0].VX, 1)
	}
	out := tr.Update(det(13))
	require.Len(t, out, 1)
	require.Equal(t, id, out[0].ID, "same id after the carried frames")
	require.Equal(t, 14, tr.Frame())
}

// A carried frame reports only the tracks it retired itself: an id ended
// by the Update before it is not ended a second time, and a lost track
// whose buffer runs out during carried frames ends exactly once.
func TestPredictEndsEachTrackOnce(t *testing.T) {
	cfg := DefaultConfig(5) // 1 s buffer: 5 frames
	tr, err := New(cfg)
	require.NoError(t, err)
	walker := []detect.Detection{{Box: geom.Box{X: 100, Y: 50, W: 20, H: 60}, Class: detect.Person, Score: 0.9}}
	for range 3 {
		require.Len(t, tr.Update(walker), 1)
	}
	tr.Update(nil) // the walker is lost
	require.Empty(t, tr.Ended())
	ended := 0
	for range 10 {
		tr.Predict()
		ended += len(tr.Ended())
	}
	require.Equal(t, 1, ended, "the lost walker ends once while carried")
	tr.Predict()
	require.Empty(t, tr.Ended())
}
