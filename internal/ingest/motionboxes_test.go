package ingest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// grey makes a w×h RGB frame of one grey level with a bright rectangle.
func greyWithBox(w, h int, level byte, box geom.Box) []byte {
	pix := make([]byte, w*h*3)
	for y := range h {
		for x := range w {
			v := level
			if float64(x) >= box.X && float64(x) < box.X2() && float64(y) >= box.Y && float64(y) < box.Y2() {
				v = 250
			}
			i := (y*w + x) * 3
			pix[i], pix[i+1], pix[i+2] = v, v, v
		}
	}
	return pix
}

// Two separate movers give two boxes, each covering its mover; a still
// frame gives none; a lighting change is global.
func TestMotionBoxesFindWhatChanged(t *testing.T) {
	const w, h = 640, 480
	g := NewMotionGate(GateOptions{})
	none := geom.Box{}
	g.Check(0, w, h, greyWithBox(w, h, 60, none))
	_, global := g.Boxes()
	require.True(t, global, "nothing known after the first frame")

	a := geom.Box{X: 40, Y: 40, W: 30, H: 80}
	b := geom.Box{X: 500, Y: 300, W: 40, H: 100}
	frame := greyWithBox(w, h, 60, a)
	copy(frame, frame) // a and b drawn into one frame below
	fb := greyWithBox(w, h, 60, b)
	for i := range frame {
		frame[i] = max(frame[i], fb[i])
	}
	require.True(t, g.Check(200*time.Millisecond, w, h, frame))
	boxes, global := g.Boxes()
	require.False(t, global)
	require.Len(t, boxes, 2)
	for _, want := range []geom.Box{a, b} {
		covered := false
		for _, got := range boxes {
			if got.Intersection(want) >= want.Area()*0.999 {
				covered = true
			}
		}
		require.True(t, covered, "%+v covered by one of %+v", want, boxes)
	}

	g.Check(400*time.Millisecond, w, h, frame)
	boxes, global = g.Boxes()
	require.False(t, global)
	require.Empty(t, boxes, "a still frame has no motion")

	g.Check(600*time.Millisecond, w, h, greyWithBox(w, h, 120, none))
	_, global = g.Boxes()
	require.True(t, global, "the whole view brightened")
}

// Changes reports a mover's box, and nothing for a change below the
// gate's thresholds (one cell flickering: compression noise).
func TestMotionChangesIgnoreNoise(t *testing.T) {
	const w, h = 640, 480
	g := NewMotionGate(GateOptions{})
	g.Check(0, w, h, greyWithBox(w, h, 60, geom.Box{}))
	_, global := g.Changes()
	require.True(t, global)
	speck := geom.Box{X: 100, Y: 100, W: 10, H: 10} // one cell of 64×48
	g.Check(200*time.Millisecond, w, h, greyWithBox(w, h, 60, speck))
	boxes, global := g.Changes()
	require.False(t, global)
	require.Empty(t, boxes, "one changed cell is noise")
	mover := geom.Box{X: 300, Y: 200, W: 40, H: 100}
	g.Check(400*time.Millisecond, w, h, greyWithBox(w, h, 60, mover))
	boxes, global = g.Changes()
	require.False(t, global)
	require.NotEmpty(t, boxes)
}

// A large object entering (a car filling a third of a top-down view) is
// local motion with a box, not a change of the whole view: the mean grey
// difference passes the threshold, the median cell does not move.
func TestMotionLargeObjectIsNotGlobal(t *testing.T) {
	const w, h = 768, 432
	g := NewMotionGate(GateOptions{})
	g.Check(0, w, h, greyWithBox(w, h, 60, geom.Box{}))
	car := geom.Box{X: 200, Y: 50, W: 300, H: 300}
	g.Check(200*time.Millisecond, w, h, greyWithBox(w, h, 60, car))
	require.Greater(t, g.Last().MeanDiff, 4.0, "the mean alone would call it global")
	boxes, global := g.Boxes()
	require.False(t, global)
	require.Len(t, boxes, 1)
	require.GreaterOrEqual(t, boxes[0].Intersection(car), car.Area()*0.999)
}
