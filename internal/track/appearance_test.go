package track

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/vigil-cctv/vigil/internal/detect"
)

// labelled is an Appearance for tests: detection i of the current frame
// looks like unit vector looks[i] (0 or 1) in two dimensions; it records
// which detections were embedded.
type labelled struct {
	looks []int
	asked []int
}

func (l *labelled) Embed(idx []int) [][]float32 {
	out := make([][]float32, len(idx))
	for k, i := range idx {
		l.asked = append(l.asked, i)
		v := make([]float32, 2)
		v[l.looks[i]] = 1
		out[k] = v
	}
	return out
}

func (l *labelled) Clean(int) bool { return true }

func person(x float64) detect.Detection { return det(x, 0, 40, 100, detect.Person, 0.9) }

// swapFrames has two people standing 10 px apart for three frames, then
// a frame where each detection sits exactly on the other's track, as
// when two people cross: by IoU alone the ids change hands.
func swapFrames() (frames [][]detect.Detection, looks [][]int) {
	for i := 0; i < 3; i++ {
		frames = append(frames, []detect.Detection{person(0), person(10)})
		looks = append(looks, []int{0, 1})
	}
	frames = append(frames, []detect.Detection{person(10), person(0)})
	looks = append(looks, []int{0, 1}) // person 0 is now at x=10
	return frames, looks
}

func TestAppearanceKeepsIDsWhereIoUSwaps(t *testing.T) {
	frames, looks := swapFrames()
	motion := newTracker(t, DefaultConfig(10))
	fused := newTracker(t, DefaultConfig(10))
	var byMotion, byLooks []Track
	for i, dets := range frames {
		byMotion = motion.Update(dets)
		byLooks = fused.UpdateWith(dets, &labelled{looks: looks[i]})
	}
	// Track 1 started on person 0 (x=0), track 2 on person 1 (x=10).
	require.Len(t, byMotion, 2)
	require.Len(t, byLooks, 2)
	idAt := func(ts []Track, di int) int {
		for _, tr := range ts {
			if tr.DetIndex == di {
				return tr.ID
			}
		}
		return 0
	}
	require.Equal(t, 2, idAt(byMotion, 0), "IoU alone gives person 0's detection to track 2")
	require.Equal(t, 1, idAt(byLooks, 0), "appearance keeps person 0 on track 1")
	require.Equal(t, 2, idAt(byLooks, 1))
}

func TestAppearanceNeedsProximity(t *testing.T) {
	// Beyond ProximityIoU appearance does not count, so the result is
	// motion's even though every look is decisive.
	frames, looks := swapFrames()
	cfg := DefaultConfig(10)
	cfg.ProximityIoU = 0.7 // the crossed pairs overlap by IoU 0.6 only
	motion := newTracker(t, DefaultConfig(10))
	fused := newTracker(t, cfg)
	for i, dets := range frames {
		want := motion.Update(dets)
		require.Equal(t, want, fused.UpdateWith(dets, &labelled{looks: looks[i]}))
	}
}

func TestAppearanceAskedOnlyWhenNeeded(t *testing.T) {
	tr := newTracker(t, DefaultConfig(10))
	app := &labelled{looks: []int{0, 1}}
	// Two people far apart: each is embedded once, when confirmed (the
	// first frame confirms at once), and never again while isolated.
	for f := 0; f < 10; f++ {
		x := 4 * float64(f)
		tr.UpdateWith([]detect.Detection{person(x), person(x + 300)}, app)
	}
	require.Equal(t, []int{0, 1}, app.asked)
	// Two detections on the first track make its match ambiguous: both
	// are embedded (once), the far track's detection is not.
	app = &labelled{looks: []int{0, 1, 1}}
	tr.UpdateWith([]detect.Detection{person(40), person(45), person(340)}, app)
	require.Equal(t, []int{0, 1}, app.asked)
}

func TestLearnKeepsUnitNorm(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := &strack{}
		n := rapid.IntRange(1, 10).Draw(t, "n")
		for i := 0; i < n; i++ {
			v := unitVec(t, "v")
			if v == nil {
				continue
			}
			s.learn(v, rapid.Float64Range(0, 0.99).Draw(t, "m"), i)
			var norm float64
			for _, x := range s.feat {
				norm += float64(x) * float64(x)
			}
			if math.Abs(norm-1) > 1e-4 && norm != 0 {
				t.Fatalf("feature norm² %v", norm)
			}
		}
	})
}

// unitVec draws a random unit vector in four dimensions (nil if zero).
func unitVec(t *rapid.T, label string) []float32 {
	v := make([]float32, 4)
	var norm float64
	for i := range v {
		v[i] = float32(rapid.Float64Range(-1, 1).Draw(t, label))
		norm += float64(v[i]) * float64(v[i])
	}
	if norm < 1e-6 {
		return nil
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(norm))
	}
	return v
}

// randomLooks gives every detection a random unit embedding, some none,
// and a random clean flag: whatever it says, the tracker's invariants
// hold.
type randomLooks struct {
	t     *rapid.T
	clean map[int]bool
}

func (r *randomLooks) Embed(idx []int) [][]float32 {
	out := make([][]float32, len(idx))
	for k := range idx {
		if rapid.Bool().Draw(r.t, "has") {
			out[k] = unitVec(r.t, "e")
		}
	}
	return out
}

func (r *randomLooks) Clean(i int) bool {
	if c, ok := r.clean[i]; ok {
		return c
	}
	r.clean[i] = rapid.Bool().Draw(r.t, "clean")
	return r.clean[i]
}

func TestPropertyAppearanceInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tr, err := New(genConfig(t))
		if err != nil {
			t.Fatal(err)
		}
		seen, retired := map[int]bool{}, map[int]bool{}
		maxID := 0
		frames := rapid.IntRange(1, 25).Draw(t, "frames")
		for f := 0; f < frames; f++ {
			dets := genDets(t, "")
			out := tr.UpdateWith(dets, &randomLooks{t: t, clean: map[int]bool{}})
			checkFrame(t, tr, dets, out, seen, retired, &maxID)
		}
	})
}

// noLooks embeds nothing: UpdateWith must then be Update exactly.
type noLooks struct{}

func (noLooks) Embed(idx []int) [][]float32 { return make([][]float32, len(idx)) }
func (noLooks) Clean(int) bool              { return true }

func TestPropertyNoEmbeddingsIsMotionOnly(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := genConfig(t)
		a, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := New(cfg)
		frames := rapid.IntRange(1, 25).Draw(t, "frames")
		for f := 0; f < frames; f++ {
			dets := genDets(t, "")
			want, got := a.Update(dets), b.UpdateWith(dets, noLooks{})
			if len(want) != len(got) {
				t.Fatalf("frame %d: %v vs %v", f, ids(want), ids(got))
			}
			for i := range want {
				if want[i] != got[i] {
					t.Fatalf("frame %d: %+v vs %+v", f, want[i], got[i])
				}
			}
		}
	})
}

func TestObserve(t *testing.T) {
	tr := newTracker(t, DefaultConfig(10))
	ts := tr.Update([]detect.Detection{person(0)})
	require.True(t, tr.Observe(ts[0].ID, []float32{1, 0}))
	require.False(t, tr.Observe(99, []float32{1, 0}))
	require.Equal(t, []float32{1, 0}, tr.tracked[0].feat)
	// A second observation in the same frame is ignored.
	tr.Observe(ts[0].ID, []float32{0, 1})
	require.Equal(t, []float32{1, 0}, tr.tracked[0].feat)
	tr.Update([]detect.Detection{person(2)})
	tr.Observe(ts[0].ID, []float32{0, 1})
	f := tr.tracked[0].feat
	require.InDelta(t, 0.9/math.Hypot(0.9, 0.1), f[0], 1e-6)
	require.InDelta(t, 0.1/math.Hypot(0.9, 0.1), f[1], 1e-6)
}
