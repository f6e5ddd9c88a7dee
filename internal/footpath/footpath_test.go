package footpath

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/geom"
)

const frame = 100 * time.Millisecond

// walk adds n samples of a point moving 1 px (0.1 m on the ground) per
// frame along x, with a ±2 px jitter in y every other frame.
func walk(n int, window time.Duration) History {
	var h History
	for i := range n {
		jitter := float64(2 * (i%2*2 - 1))
		img := geom.Point{X: float64(i), Y: 50 + jitter}
		h.Add(time.Duration(i)*frame, img, geom.Point{X: float64(i) / 10}, i != 3, window)
	}
	return h
}

func TestSmoothingRemovesJitter(t *testing.T) {
	h := walk(10, 400*time.Millisecond)
	s := h.Cur()
	require.InDelta(t, 50, s.Img.Y, 1e-9, "four frames average the ±2 px jitter away")
	require.InDelta(t, 7.5, s.Img.X, 1e-9, "mean of x = 6..9")
	require.True(t, s.GOK)
	require.InDelta(t, 0.75, s.G.X, 1e-9)
	raw := walk(10, time.Nanosecond).Cur()
	require.InDelta(t, 52, raw.Img.Y, 1e-9, "a tiny window keeps the raw point")
}

func TestVelocity(t *testing.T) {
	h := walk(30, 300*time.Millisecond)
	now := h.Cur().PTS
	for _, tc := range []struct {
		name   string
		window time.Duration
		ground bool
		want   float64 // x per second
		ok     bool
	}{
		{"image", time.Second, false, 10, true},
		{"ground", time.Second, true, 1, true},
		{"older than the track", 5 * time.Second, false, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := h.Velocity(now, tc.window, tc.ground)
			require.Equal(t, tc.ok, ok)
			if ok {
				require.InDelta(t, tc.want, v.X, 1e-9)
				require.InDelta(t, 0, v.Y, 1e-9)
			}
		})
	}
	var off History // outside the calibrated area: no ground point at all
	for i := range 20 {
		off.Add(time.Duration(i)*frame, geom.Point{X: float64(i)}, geom.Point{}, false, 300*time.Millisecond)
	}
	_, ok := off.Velocity(off.Cur().PTS, time.Second, true)
	require.False(t, ok, "no ground speed without ground points")
	v, ok := off.Velocity(off.Cur().PTS, time.Second, false)
	require.True(t, ok)
	require.InDelta(t, 10, v.X, 1e-9)
}

func TestTrimKeepsTheWindow(t *testing.T) {
	h := walk(100, 300*time.Millisecond)
	h.Trim(80 * frame)
	require.LessOrEqual(t, h[0].PTS, 80*frame, "one sample at or before the cut stays, for velocity")
	require.Less(t, len(h), 100)
	require.Equal(t, 99*frame, h.Cur().PTS)
}

func TestEventPathThinsAndEndsAtCurrent(t *testing.T) {
	h := walk(100, 300*time.Millisecond)
	var path []Point
	for i := 0; i < 99; i += 2 {
		path = append(path, PointOf(&h[i]))
	}
	got := EventPath(path, h.Cur(), 20*frame, 10)
	require.Len(t, got, 10)
	require.InDelta(t, 2.0, got[0].PTS, 1e-9, "starts at `from`")
	require.InDelta(t, 9.9, got[9].PTS, 1e-9, "ends at the current sample")
	require.NotNil(t, got[9].Ground)
	all := EventPath(path[:3], h.Cur(), 0, 10)
	require.Len(t, all, 4, "fewer points than the cap are kept, plus the current one")
}
