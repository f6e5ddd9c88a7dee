package track

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
)

func det(x, y, w, h float64, c detect.Class, score float32) detect.Detection {
	return detect.Detection{Box: geom.Box{X: x, Y: y, W: w, H: h}, Class: c, Score: score}
}

func newTracker(t *testing.T, cfg Config) *Tracker {
	t.Helper()
	tr, err := New(cfg)
	require.NoError(t, err)
	return tr
}

// ids returns the ids of ts in order.
func ids(ts []Track) []int {
	out := make([]int, len(ts))
	for i, tr := range ts {
		out[i] = tr.ID
	}
	return out
}

func TestConfigValidate(t *testing.T) {
	mod := func(f func(*Config)) Config {
		c := DefaultConfig(30)
		f(&c)
		return c
	}
	cases := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"default", DefaultConfig(30), true},
		{"zero fps", DefaultConfig(0), false},
		{"low above high", mod(func(c *Config) { c.LowThresh = 0.6 }), false},
		{"threshold above 1", mod(func(c *Config) { c.NewTrackThresh = 1.5 }), false},
		{"zero match IoU", mod(func(c *Config) { c.MatchIoU = 0 }), false},
		{"negative buffer", mod(func(c *Config) { c.BufferSeconds = -1 }), false},
		{"zero hits", mod(func(c *Config) { c.MinConfirmHits = 0 }), false},
		{"no buffer", mod(func(c *Config) { c.BufferSeconds = 0 }), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				_, err = New(tc.cfg)
				require.Error(t, err)
			}
		})
	}
}

func TestBufferScalesWithFPS(t *testing.T) {
	require.Equal(t, 30, DefaultConfig(30).bufferFrames())
	require.Equal(t, 25, DefaultConfig(25).bufferFrames())
	c := DefaultConfig(12.5)
	c.BufferSeconds = 2
	require.Equal(t, 25, c.bufferFrames())
}

func TestSingleObjectKeepsID(t *testing.T) {
	tr := newTracker(t, DefaultConfig(30))
	for f := 0; f < 60; f++ {
		out := tr.Update([]detect.Detection{det(10+5*float64(f), 50+2*float64(f), 40, 100, detect.Person, 0.9)})
		require.Len(t, out, 1, "frame %d", f+1)
		require.Equal(t, 1, out[0].ID)
		require.Equal(t, 0, out[0].DetIndex)
		require.Equal(t, detect.Person, out[0].Class)
		require.Equal(t, f+1, out[0].Hits)
		require.Equal(t, f, out[0].Age)
		require.Equal(t, f+1, tr.Frame())
	}
}

func TestNewTrackNeedsSecondHitAfterFirstFrame(t *testing.T) {
	tr := newTracker(t, DefaultConfig(30))
	require.Empty(t, tr.Update(nil))
	d := []detect.Detection{det(100, 100, 40, 100, detect.Person, 0.9)}
	require.Empty(t, tr.Update(d), "seen once: not yet confirmed")
	out := tr.Update(d)
	require.Equal(t, []int{1}, ids(out), "ids are handed out at confirmation")
	require.Equal(t, 2, out[0].Hits)
}

func TestOneShotFalsePositiveBurnsNoID(t *testing.T) {
	tr := newTracker(t, DefaultConfig(30))
	tr.Update(nil)
	tr.Update([]detect.Detection{det(500, 500, 40, 100, detect.Person, 0.9)}) // flicker
	tr.Update(nil)
	d := []detect.Detection{det(100, 100, 40, 100, detect.Person, 0.9)}
	tr.Update(d)
	require.Equal(t, []int{1}, ids(tr.Update(d)))
}

func TestCrossingObjectsKeepIDs(t *testing.T) {
	tr := newTracker(t, DefaultConfig(30))
	var idA, idB int
	for f := 0; f < 60; f++ {
		x := 8 * float64(f)
		dets := []detect.Detection{
			det(x, 100, 40, 100, detect.Person, 0.9),     // A moves right
			det(480-x, 120, 40, 100, detect.Person, 0.9), // B moves left, crossing A near f=30
		}
		out := tr.Update(dets)
		require.Len(t, out, 2, "frame %d", f+1)
		for _, o := range out {
			switch o.DetIndex {
			case 0:
				if idA == 0 {
					idA = o.ID
				}
				require.Equal(t, idA, o.ID, "A at frame %d", f+1)
			case 1:
				if idB == 0 {
					idB = o.ID
				}
				require.Equal(t, idB, o.ID, "B at frame %d", f+1)
			}
		}
	}
	require.NotEqual(t, idA, idB)
}

// walk runs one object moving right 4 px a frame, absent in the frames
// for which gone returns true, and returns the id reported per frame
// (0 when none).
func walk(t *testing.T, cfg Config, frames int, gone func(f int) bool) []int {
	tr := newTracker(t, cfg)
	got := make([]int, frames)
	for f := 0; f < frames; f++ {
		var dets []detect.Detection
		if !gone(f) {
			dets = append(dets, det(50+4*float64(f), 100, 40, 100, detect.Person, 0.9))
		}
		if out := tr.Update(dets); len(out) > 0 {
			require.Len(t, out, 1)
			got[f] = out[0].ID
		}
	}
	return got
}

func TestMissedDetectionsWithinBufferResume(t *testing.T) {
	cfg := DefaultConfig(10) // 10-frame buffer
	got := walk(t, cfg, 40, func(f int) bool { return f >= 10 && f < 18 })
	for f, id := range got {
		if f >= 10 && f < 18 {
			require.Zero(t, id, "frame %d: nothing to report while lost", f)
		} else {
			require.Equal(t, 1, id, "frame %d", f)
		}
	}
}

func TestMissedDetectionsBeyondBufferGetNewID(t *testing.T) {
	cfg := DefaultConfig(10)
	got := walk(t, cfg, 50, func(f int) bool { return f >= 10 && f < 22 }) // 12 > 10 frames
	require.Equal(t, 1, got[9])
	require.Zero(t, got[22], "a new track needs a second hit")
	for f := 23; f < 50; f++ {
		require.Equal(t, 2, got[f], "frame %d", f)
	}
}

func TestLowScoreDetectionsExtendButNeverStart(t *testing.T) {
	tr := newTracker(t, DefaultConfig(30))
	for f := 0; f < 10; f++ {
		require.Empty(t, tr.Update([]detect.Detection{det(300, 100, 40, 100, detect.Person, 0.3)}))
	}
	// A confident start, then the same object at low score (occluded).
	tr = newTracker(t, DefaultConfig(30))
	for f := 0; f < 20; f++ {
		score := float32(0.9)
		if f >= 5 {
			score = 0.3
		}
		out := tr.Update([]detect.Detection{det(50+3*float64(f), 100, 40, 100, detect.Person, score)})
		require.Len(t, out, 1, "frame %d", f)
		require.Equal(t, 1, out[0].ID)
		require.Equal(t, score, out[0].Score)
	}
}

func TestScoresBelowLowAreIgnored(t *testing.T) {
	tr := newTracker(t, DefaultConfig(30))
	tr.Update([]detect.Detection{det(50, 100, 40, 100, detect.Person, 0.9)})
	out := tr.Update([]detect.Detection{det(50, 100, 40, 100, detect.Person, 0.05)})
	require.Empty(t, out)
	require.Len(t, tr.Lost(), 1)
	require.Equal(t, -1, tr.Lost()[0].DetIndex)
}

func TestCarRelabelledTruckKeepsID(t *testing.T) {
	tr := newTracker(t, DefaultConfig(30))
	labels := []detect.Class{detect.Car, detect.Car, detect.Car, detect.Truck, detect.Car, detect.Bus, detect.Car}
	for f, c := range labels {
		out := tr.Update([]detect.Detection{det(100+6*float64(f), 300, 120, 60, c, 0.8)})
		require.Len(t, out, 1)
		require.Equal(t, 1, out[0].ID, "frame %d (%v)", f, c)
		require.Equal(t, detect.Car, out[0].Class, "the majority label wins")
	}
	// A persistent relabel eventually wins the vote.
	for f := len(labels); f < 20; f++ {
		out := tr.Update([]detect.Detection{det(100+6*float64(f), 300, 120, 60, detect.Truck, 0.8)})
		require.Equal(t, 1, out[0].ID)
	}
	out := tr.Update([]detect.Detection{det(100+6*20, 300, 120, 60, detect.Truck, 0.8)})
	require.Equal(t, detect.Truck, out[0].Class)
}

func TestPersonNeverJoinsCar(t *testing.T) {
	tr := newTracker(t, DefaultConfig(30))
	car := det(100, 100, 80, 80, detect.Car, 0.9)
	for f := 0; f < 5; f++ {
		require.Equal(t, []int{1}, ids(tr.Update([]detect.Detection{car})))
	}
	person := det(100, 100, 80, 80, detect.Person, 0.9)
	for f := 0; f < 5; f++ {
		for _, o := range tr.Update([]detect.Detection{person}) {
			require.NotEqual(t, 1, o.ID, "the car's id went to a person")
			require.Equal(t, detect.Person, o.Class)
		}
	}
	// Nor low-score boxes of another class.
	tr = newTracker(t, DefaultConfig(30))
	tr.Update([]detect.Detection{car})
	require.Empty(t, tr.Update([]detect.Detection{det(100, 100, 80, 80, detect.Bicycle, 0.3)}))
}

func TestDetIndexPointsIntoInput(t *testing.T) {
	tr := newTracker(t, DefaultConfig(30))
	dets := []detect.Detection{
		det(0, 0, 0, 0, detect.Person, 0.9), // empty: ignored
		det(500, 100, 40, 100, detect.Person, 0.9),
		det(100, 100, 40, 100, detect.Car, 0.9),
	}
	out := tr.Update(dets)
	require.Len(t, out, 2)
	for _, o := range out {
		require.Equal(t, dets[o.DetIndex].Class, o.Class)
		require.InDelta(t, dets[o.DetIndex].Box.X, o.Box.X, 1e-9)
	}
}

// Two tracks on one object: the lost one of the pair is dropped when a
// tracked track sits on it, keeping the longer-lived one.
func TestDuplicateLostTrackRemoved(t *testing.T) {
	tr := newTracker(t, DefaultConfig(30))
	a := det(100, 100, 40, 100, detect.Person, 0.9)
	for f := 0; f < 10; f++ {
		tr.Update([]detect.Detection{a})
	}
	// Force a short, confirmed track onto the same spot while the long
	// one is lost, as a drifting filter can.
	tr.lost, tr.tracked = tr.tracked, nil
	tr.lost[0].state = stateLost
	s := newStrack(a, 0, tr.frame)
	tr.confirm(s)
	tr.tracked = []*strack{s}
	tr.removeDuplicates()
	require.Empty(t, tr.tracked, "the younger, tracked copy goes")
	require.Len(t, tr.lost, 1)
	require.Equal(t, 1, tr.lost[0].id)
}

func TestMinConfirmHits(t *testing.T) {
	cfg := DefaultConfig(30)
	cfg.MinConfirmHits = 3
	tr := newTracker(t, cfg)
	tr.Update(nil)
	d := []detect.Detection{det(100, 100, 40, 100, detect.Person, 0.9)}
	require.Empty(t, tr.Update(d))
	require.Empty(t, tr.Update(d))
	out := tr.Update(d)
	require.Equal(t, []int{1}, ids(out))
	require.Equal(t, 3, out[0].Hits)

	cfg.MinConfirmHits = 1
	tr = newTracker(t, cfg)
	tr.Update(nil)
	require.Equal(t, []int{1}, ids(tr.Update(d)), "one hit suffices")
}

// An unconfirmed track that misses a frame is dropped, not kept as lost.
func TestUnconfirmedMissIsDropped(t *testing.T) {
	tr := newTracker(t, DefaultConfig(30))
	tr.Update(nil)
	d := []detect.Detection{det(100, 100, 40, 100, detect.Person, 0.9)}
	tr.Update(d)
	tr.Update(nil)
	require.Empty(t, tr.Lost())
	require.Empty(t, tr.Update(d), "starts over as a new, unconfirmed track")
	require.Equal(t, []int{1}, ids(tr.Update(d)))
}
