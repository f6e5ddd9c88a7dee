package ingest

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// thumbOf checks pix in a fresh copy of g's state and returns its thumbnail.
func thumbOf(g *MotionGate, pix []byte) Thumb {
	g.Check(0, w, h, pix)
	return g.Thumb()
}

// A frame is the same as a reference when only noise or a small exposure
// drift separates them, and not when anything moved, the exposure stepped
// or the size changed.
func TestThumbSame(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	g := NewMotionGate(GateOptions{})
	require.Empty(t, g.Thumb().Cells, "nothing checked yet")
	bg := flat(100)
	ref := thumbOf(g, bg)
	require.Len(t, ref.Cells, 64*48)
	require.True(t, thumbOf(g, bg).Same(ref), "the same frame")
	require.True(t, thumbOf(g, noisy(bg, 8, rng)).Same(ref), "sensor noise")
	require.True(t, thumbOf(g, flat(108)).Same(ref), "an exposure drift of 8 levels")
	require.False(t, thumbOf(g, flat(120)).Same(ref), "an exposure step of 20 levels")
	require.False(t, thumbOf(g, withSquare(bg, 300, 200, 24)).Same(ref), "a figure of two cells")
	require.False(t, thumbOf(g, withSquare(flat(106), 300, 200, 24)).Same(ref), "a figure, with the exposure drifting")
	require.False(t, Thumb{}.Same(ref))
	require.False(t, ref.Same(Thumb{}))

	small := NewMotionGate(GateOptions{})
	small.Check(0, 320, 240, make([]byte, 320*240*3))
	require.False(t, small.Thumb().Same(ref), "another frame size")
}

// patch sets the grey level of the clipped box x0..x1, y0..y1 on a copy
// of pix.
func patch(pix []byte, x0, y0, x1, y1 int, v byte) []byte {
	out := append([]byte(nil), pix...)
	for r := max(y0, 0); r < min(y1, h); r++ {
		for c := max(x0, 0); c < min(x1, w); c++ {
			i := (r*w + c) * 3
			out[i], out[i+1], out[i+2] = v, v, v
		}
	}
	return out
}

// A dim figure creeping in from the edge one pixel a frame changes no
// cell by CellDiff from one frame to the next — the gate never sees it —
// but the comparison with a reference adds the change up: after a few
// frames the view is no longer the same.
func TestThumbSeesWhatCreeps(t *testing.T) {
	g := NewMotionGate(GateOptions{})
	bg := flat(100)
	ref := thumbOf(g, bg)
	firstDiff := -1
	for x := 1; x <= 40; x++ {
		g.Check(ms(200*x), w, h, patch(bg, w-x, 300, w, 336, 130))
		boxes, global := g.Changes()
		require.False(t, global, "frame %d", x)
		require.Empty(t, boxes, "frame %d: too slow for the gate", x)
		if firstDiff < 0 && !g.Thumb().Same(ref) {
			firstDiff = x
		}
	}
	require.Positive(t, firstDiff, "the figure is seen against the reference")
	require.LessOrEqual(t, firstDiff, 12, "within a cell's width of creeping")
}
