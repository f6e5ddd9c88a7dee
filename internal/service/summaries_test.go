package service

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/rules"
	"github.com/vigil-cctv/vigil/internal/track"
)

func TestSummariesEndTracksAndThinPaths(t *testing.T) {
	s := newSummaries("cam")
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 300; i++ {
		pts := time.Duration(i) * 100 * time.Millisecond
		tr := []track.Track{{ID: 1, Class: detect.Person, Box: geom.Box{X: float64(i), Y: 10, W: 10, H: 30}}}
		if i < 2 {
			tr = append(tr, track.Track{ID: 2, Class: detect.Car, Box: geom.Box{W: 5, H: 5}})
		}
		s.observe(pts, t0.Add(pts), tr)
	}
	ended := s.ended(30*time.Second, false)
	require.Empty(t, ended, "track 2 was too short to keep; track 1 is still live")
	require.NotContains(t, s.open, 2)
	ended = s.ended(30*time.Second, true)
	require.Len(t, ended, 1)
	sum := ended[0]
	require.Equal(t, "person", sum.Class)
	require.Equal(t, t0, sum.Start)
	require.Equal(t, t0.Add(29900*time.Millisecond), sum.End)
	require.LessOrEqual(t, len(sum.Path), maxPathLen)
	require.InDelta(t, 0, sum.Path[0].PTS, 1e-9)
	require.InDelta(t, 29.9, sum.Path[len(sum.Path)-1].PTS, 1e-9, "the end point survives thinning")
}

func TestSummariesCountDeltas(t *testing.T) {
	s := newSummaries("cam")
	s.observe(0, time.Unix(1000, 0), nil)
	c := []rules.Count{{Line: "gate", Class: "person", Direction: "in", Start: 0, N: 3}}
	got := s.newCounts(c)
	require.Len(t, got, 1)
	require.Equal(t, int64(3), got[0].N)
	require.Empty(t, s.newCounts(c), "nothing new")
	c[0].N = 5
	got = s.newCounts(c)
	require.Equal(t, int64(2), got[0].N)
	require.Equal(t, time.Unix(1000, 0), got[0].Bucket)
}
