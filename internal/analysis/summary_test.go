package analysis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/track"
)

func TestSummariesEndTracksAndThinPaths(t *testing.T) {
	s := newSummaries()
	clock := Clock{Epoch: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	for i := 0; i < 300; i++ {
		pts := time.Duration(i) * 100 * time.Millisecond
		tr := []track.Track{{ID: 1, Class: detect.Person, Box: geom.Box{X: float64(i), Y: 10, W: 10, H: 30}}}
		if i < 2 {
			tr = append(tr, track.Track{ID: 2, Class: detect.Car, Box: geom.Box{W: 5, H: 5}})
		}
		s.observe(pts, tr)
	}
	require.Empty(t, s.end([]int{2}, clock), "track 2 was too short to keep")
	require.NotContains(t, s.open, 2)
	ended := s.end([]int{1, 3}, clock)
	require.Len(t, ended, 1, "an unknown id is ignored")
	sum := ended[0]
	require.Equal(t, 1, sum.TrackID)
	require.Equal(t, "person", sum.Class)
	require.Equal(t, 300, sum.Frames)
	require.Equal(t, clock.Epoch, sum.Start)
	require.Equal(t, clock.Epoch.Add(29900*time.Millisecond), sum.End)
	require.LessOrEqual(t, len(sum.Path), maxPathLen)
	require.InDelta(t, 0, sum.Path[0].PTS, 1e-9)
	require.InDelta(t, 29.9, sum.Path[len(sum.Path)-1].PTS, 1e-9, "the end point survives thinning")
	require.Empty(t, s.open)
}
