package analysis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/motion"
	"github.com/vigil-cctv/vigil/internal/track"
)

const cueW, cueH = 360, 240

// blob is a textured rectangle: flow needs texture to measure motion.
type blob struct{ x, y, w, h int }

func cueFrame(i int, blobs ...blob) *decode.Frame {
	pix := make([]byte, cueW*cueH*3)
	for j := range pix {
		pix[j] = 100
	}
	for _, b := range blobs {
		for y := max(b.y, 0); y < min(b.y+b.h, cueH); y++ {
			for x := max(b.x, 0); x < min(b.x+b.w, cueW); x++ {
				v := byte(40)
				if ((x-b.x)/3+(y-b.y)/3)%2 == 0 {
					v = 200
				}
				p := (y*cueW + x) * 3
				pix[p], pix[p+1], pix[p+2] = v, v, v
			}
		}
	}
	return &decode.Frame{Index: i, PTS: time.Duration(i) * 100 * time.Millisecond, Width: cueW, Height: cueH, Pix: pix}
}

// walkers cross at 2 px per frame, both ways, in four rows.
func walkers(t int) []blob {
	t %= 130
	return []blob{{30 + 2*t, 40, 12, 24}, {320 - 2*t, 90, 12, 24}, {50 + 2*t, 140, 12, 24}, {300 - 2*t, 190, 12, 24}}
}

func boxOf(b blob) track.Track {
	return track.Track{ID: 1, Box: geom.Box{X: float64(b.x), Y: float64(b.y), W: float64(b.w), H: float64(b.h)}}
}

// play runs frames [from, to) with walkers (tracked) and, from riderAt on,
// a fast rider (tracked when riderTracked); it returns the alerts' frames.
func play(c *motionCue, from, to, riderAt int, riderTracked bool) []int {
	var got []int
	for i := from; i < to; i++ {
		bs := walkers(i)
		var tracks []track.Track
		for _, b := range bs {
			tracks = append(tracks, boxOf(b))
		}
		if i >= riderAt {
			r := blob{20 + 7*(i-riderAt), 112, 14, 24}
			bs = append(bs, r)
			if riderTracked {
				tracks = append(tracks, boxOf(r))
			}
		}
		if _, ok := c.observe(cueFrame(i, bs...), tracks, nil); ok {
			got = append(got, i)
		}
	}
	return got
}

// TestMotionCueFlagsUntrackedFastMotion: after learning walkers, a fast
// rider the tracker does not report raises one motion alert; the same
// rider tracked raises none (the track-level baseline judges it then);
// walkers alone raise none.
func TestMotionCueFlagsUntrackedFastMotion(t *testing.T) {
	const warm = 20 * time.Second
	quiet := newMotionCue(cueW, cueH, motion.ModelOptions{Warmup: warm})
	require.Empty(t, play(quiet, 0, 400, 1<<30, false), "normal walking raises nothing")

	missed := newMotionCue(cueW, cueH, motion.ModelOptions{Warmup: warm})
	require.Empty(t, play(missed, 0, 260, 1<<30, false))
	got := play(missed, 260, 310, 260, false)
	require.Len(t, got, 1, "one alert per episode")
	require.LessOrEqual(t, got[0]-260, 20, "within 2 s of the rider appearing")

	tracked := newMotionCue(cueW, cueH, motion.ModelOptions{Warmup: warm})
	require.Empty(t, play(tracked, 0, 260, 1<<30, false))
	require.Empty(t, play(tracked, 260, 310, 260, true), "motion a track explains is not this cue's business")

	early := newMotionCue(cueW, cueH, motion.ModelOptions{Warmup: time.Hour})
	require.Empty(t, play(early, 0, 100, 50, false), "nothing during warm-up")
}

func TestMotionCueExplainsItself(t *testing.T) {
	c := newMotionCue(cueW, cueH, motion.ModelOptions{Warmup: 20 * time.Second})
	play(c, 0, 260, 1<<30, false)
	for i := 260; i < 310; i++ {
		r := blob{20 + 7*(i-260), 112, 14, 24}
		ev, ok := c.observe(cueFrame(i, append(walkers(i), r)...), nil, nil)
		if ok {
			require.Equal(t, "anomaly", ev.Rule)
			require.Equal(t, "motion", ev.Name)
			require.Contains(t, ev.Explanation, "no tracked object")
			require.GreaterOrEqual(t, ev.Values["score"], 5.0)
			require.Len(t, ev.Path, 1)
			return
		}
	}
	t.Fatal("no alert")
}
