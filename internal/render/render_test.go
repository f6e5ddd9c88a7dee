package render

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
)

const guard = 64 // guard bytes on each side of a test canvas

var (
	red   = color.RGBA{255, 0, 0, 255}
	green = color.RGBA{0, 255, 0, 255}
	bgCol = [3]byte{10, 20, 30}
)

// guarded is a canvas whose Pix sits between guard bytes, all filled with a
// background colour, so tests can check nothing outside it was written.
type guarded struct {
	Canvas
	buf []byte
}

func newGuarded(w, h int) guarded {
	buf := make([]byte, guard+w*h*3+guard)
	for i := range buf {
		buf[i] = 0xA5
	}
	pix := buf[guard : guard+w*h*3 : guard+w*h*3]
	for i := 0; i < len(pix); i += 3 {
		pix[i], pix[i+1], pix[i+2] = bgCol[0], bgCol[1], bgCol[2]
	}
	return guarded{Canvas: Canvas{W: w, H: h, Pix: pix}, buf: buf}
}

func (g guarded) guardsIntact() bool {
	for _, b := range g.buf[:guard] {
		if b != 0xA5 {
			return false
		}
	}
	for _, b := range g.buf[len(g.buf)-guard:] {
		if b != 0xA5 {
			return false
		}
	}
	return true
}

func (g guarded) at(x, y int) [3]byte {
	i := (y*g.W + x) * 3
	return [3]byte{g.Pix[i], g.Pix[i+1], g.Pix[i+2]}
}

func (g guarded) changed(x, y int) bool { return g.at(x, y) != bgCol }

func (g guarded) countChanged() int {
	n := 0
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			if g.changed(x, y) {
				n++
			}
		}
	}
	return n
}

func rgb(c color.RGBA) [3]byte { return [3]byte{c.R, c.G, c.B} }

func TestRectBorderAndInterior(t *testing.T) {
	g := newGuarded(40, 30)
	g.Rect(geom.Box{X: 10, Y: 5, W: 20, H: 15}, red, 2)
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			inBox := x >= 10 && x < 30 && y >= 5 && y < 20
			inInterior := x >= 12 && x < 28 && y >= 7 && y < 18
			want := inBox && !inInterior
			if want {
				require.Equal(t, rgb(red), g.at(x, y), "border pixel (%d,%d)", x, y)
			} else {
				require.False(t, g.changed(x, y), "pixel (%d,%d) should be untouched", x, y)
			}
		}
	}
	require.True(t, g.guardsIntact())
}

func TestRectThickFills(t *testing.T) {
	g := newGuarded(20, 20)
	g.Rect(geom.Box{X: 2, Y: 2, W: 4, H: 4}, red, 10)
	require.Equal(t, 16, g.countChanged())
	require.True(t, g.guardsIntact())
}

func TestRectClipsAtEachEdge(t *testing.T) {
	cases := map[string]geom.Box{
		"left":   {X: -10, Y: 5, W: 20, H: 10},
		"right":  {X: 30, Y: 5, W: 20, H: 10},
		"top":    {X: 5, Y: -10, W: 10, H: 20},
		"bottom": {X: 5, Y: 25, W: 10, H: 20},
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			g := newGuarded(40, 30)
			g.Rect(b, red, 3)
			require.True(t, g.guardsIntact())
			require.Positive(t, g.countChanged())
			// Every changed pixel lies within the (clipped) box.
			cb := b.Clip(40, 30)
			for y := 0; y < g.H; y++ {
				for x := 0; x < g.W; x++ {
					if g.changed(x, y) {
						require.True(t, float64(x) >= cb.X && float64(x) < cb.X2() &&
							float64(y) >= cb.Y && float64(y) < cb.Y2(), "(%d,%d) outside %v", x, y, cb)
					}
				}
			}
		})
	}
	// A box larger than the frame on every side has no visible edge.
	g0 := newGuarded(40, 30)
	g0.Rect(geom.Box{X: -5, Y: -5, W: 60, H: 50}, red, 3)
	require.Zero(t, g0.countChanged())
	require.True(t, g0.guardsIntact())
	// The visible edges of a box hanging off the left edge are drawn, the
	// clipped one is not.
	g := newGuarded(40, 30)
	g.Rect(geom.Box{X: -10, Y: 5, W: 20, H: 10}, red, 1)
	require.True(t, g.changed(0, 5))   // top edge
	require.True(t, g.changed(9, 10))  // right edge
	require.False(t, g.changed(0, 10)) // left edge is off-frame
}

func TestDegenerateInputsDrawNothing(t *testing.T) {
	g := newGuarded(40, 30)
	nan, inf := math.NaN(), math.Inf(1)
	for _, b := range []geom.Box{
		{}, {X: 5, Y: 5}, {X: 5, Y: 5, W: -3, H: 4}, {X: nan, Y: 1, W: 3, H: 3},
		{X: 1, Y: 1, W: inf, H: 3}, {X: -inf, Y: 1, W: inf, H: 3},
		{X: 100, Y: 100, W: 10, H: 10}, {X: -100, Y: -100, W: 10, H: 10},
	} {
		g.Rect(b, red, 2)
		g.Fill(b, red)
	}
	g.Line(geom.Point{X: nan, Y: 0}, geom.Point{X: 5, Y: 5}, red, 1)
	g.Line(geom.Point{X: -inf, Y: 0}, geom.Point{X: inf, Y: 0}, red, 3)
	g.Polygon([]geom.Point{{X: 1, Y: 1}, {X: nan, Y: 5}, {X: 9, Y: 9}}, red, 128)
	g.Label(5, 5, "", red, green)
	require.Zero(t, g.countChanged())
	require.True(t, g.guardsIntact())

	// An empty or inconsistent canvas is a no-op.
	for _, c := range []Canvas{{}, {W: 10, H: 10}, {W: 10, H: 10, Pix: make([]byte, 10)}, {W: -1, H: 5, Pix: make([]byte, 100)}} {
		c.Rect(geom.Box{X: 1, Y: 1, W: 5, H: 5}, red, 1)
		c.Label(0, 0, "x", red, green)
		c.Polygon([]geom.Point{{X: 0, Y: 0}, {X: 5, Y: 0}, {X: 0, Y: 5}}, red, 100)
		DrawObjects(c, []Object{{ID: 1, Box: geom.Box{X: 1, Y: 1, W: 3, H: 3}}}, nil)
		DrawHUD(c, "hi")
	}
}

func TestLabelDrawsTextInsideFrame(t *testing.T) {
	g := newGuarded(100, 40)
	bg := color.RGBA{0, 0, 0, 255}
	fg := color.RGBA{255, 255, 255, 255}
	g.Label(90, 35, "person 12", fg, bg) // would overflow right and bottom
	require.True(t, g.guardsIntact())
	w, h := LabelSize("person 12")
	var fgN, bgN int
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			switch g.at(x, y) {
			case rgb(fg):
				fgN++
				require.True(t, x >= g.W-w && y >= g.H-h)
			case rgb(bg):
				bgN++
				require.True(t, x >= g.W-w && y >= g.H-h)
			}
		}
	}
	require.Greater(t, fgN, 50, "text should ink pixels")
	require.Equal(t, w*h, fgN+bgN, "label box moved fully inside the frame")

	// Different text gives different pixels.
	a, b := newGuarded(60, 20), newGuarded(60, 20)
	a.Label(0, 0, "car 7", fg, bg)
	b.Label(0, 0, "car 8", fg, bg)
	require.False(t, bytes.Equal(a.Pix, b.Pix))

	// Non-ASCII runes draw the replacement glyph rather than nothing.
	u := newGuarded(60, 20)
	u.Text(0, 0, "é", fg)
	require.Positive(t, u.countChanged())
}

func TestLabelWiderThanFrameIsClipped(t *testing.T) {
	g := newGuarded(20, 8)
	g.Label(-50, -50, "a long label that does not fit", red, green)
	require.True(t, g.guardsIntact())
	require.Equal(t, 20*8, g.countChanged())
}

func TestLineAndPolygon(t *testing.T) {
	g := newGuarded(30, 30)
	g.Line(geom.Point{X: 0.5, Y: 0.5}, geom.Point{X: 29.5, Y: 29.5}, red, 1)
	for i := 0; i < 30; i++ {
		require.Equal(t, rgb(red), g.at(i, i))
	}
	require.Equal(t, 30, g.countChanged())

	// A line from far outside, crossing the frame, is clipped cheaply.
	g = newGuarded(30, 30)
	g.Line(geom.Point{X: -1e11, Y: 10}, geom.Point{X: 1e11, Y: 10}, red, 3)
	require.Equal(t, 30*3, g.countChanged())
	require.True(t, g.guardsIntact())

	// Square polygon fill at half alpha, outline opaque.
	g = newGuarded(30, 30)
	g.FillPolygon([]geom.Point{{X: 5, Y: 5}, {X: 25, Y: 5}, {X: 25, Y: 25}, {X: 5, Y: 25}}, color.RGBA{200, 0, 0, 255}, 128)
	require.Equal(t, 400, g.countChanged())
	px := g.at(15, 15)
	require.InDelta(t, (200*128+10*127)/255, int(px[0]), 1)
	require.False(t, g.changed(4, 15))
	require.False(t, g.changed(25, 15))

	g = newGuarded(30, 30)
	g.Polygon([]geom.Point{{X: -10, Y: -10}, {X: 50, Y: 15}, {X: -10, Y: 40}}, green, 60)
	require.True(t, g.guardsIntact())
	require.Positive(t, g.countChanged())
}

func TestTranslucentBlend(t *testing.T) {
	g := newGuarded(4, 4)
	// Premultiplied half-transparent white.
	g.Fill(geom.Box{X: 0, Y: 0, W: 4, H: 4}, color.RGBA{128, 128, 128, 128})
	px := g.at(1, 1)
	require.InDelta(t, 128+10*127/255, int(px[0]), 1)
	require.InDelta(t, 128+30*127/255, int(px[2]), 1)
}

func TestTrails(t *testing.T) {
	tr := NewTrails(3, 5)
	for f := 0; f < 10; f++ {
		objs := []Object{{ID: 1, Box: geom.Box{X: float64(f), Y: 0, W: 2, H: 4}}}
		if f < 2 {
			objs = append(objs, Object{ID: 2, Box: geom.Box{X: 0, Y: 0, W: 2, H: 2}})
		}
		objs = append(objs, Object{ID: -1, Box: geom.Box{W: 1, H: 1}}, Object{ID: 3, Box: geom.Box{X: math.NaN(), W: 1, H: 1}})
		tr.Add(f, objs)
	}
	require.Equal(t, []geom.Point{{X: 8, Y: 4}, {X: 9, Y: 4}, {X: 10, Y: 4}}, tr.Points(1))
	require.Nil(t, tr.Points(2), "id 2 last seen at frame 1, forgotten after 5 frames")
	require.Equal(t, 1, tr.Len())
	tr.Reset()
	require.Zero(t, tr.Len())
}

func TestDrawObjectsAndHUD(t *testing.T) {
	g := newGuarded(200, 150)
	tr := NewTrails(10, 30)
	objs := []Object{
		{ID: 12, Class: detect.Person, Box: geom.Box{X: 20, Y: 40, W: 30, H: 80}},
		{ID: 7, Class: detect.Car, Box: geom.Box{X: 150, Y: -10, W: 80, H: 40}},
		{ID: -1, Class: detect.Bus, Box: geom.Box{X: 100, Y: 100, W: 20, H: 20}, Score: 0.87},
	}
	for f := 0; f < 5; f++ {
		for i := range objs {
			objs[i].Box.X += 2
		}
		tr.Add(f, objs)
	}
	DrawObjects(g.Canvas, objs, tr)
	require.True(t, g.guardsIntact())
	require.Equal(t, rgb(ColorFor(12)), g.at(int(objs[0].Box.X), 80), "left edge of person box")
	require.Equal(t, rgb(ColorFor(7)), g.at(160, 20), "car box's left edge")
	require.Equal(t, rgb(ColorFor(7)), g.at(199, 29), "car box's bottom edge, clipped at the right")
	require.False(t, g.changed(199, 20), "car box interior")
	require.Equal(t, rgb(Untracked), g.at(110, 119))
	// The person's label sits above its box.
	lw, lh := LabelSize("person 12")
	x0 := int(objs[0].Box.X)
	require.Equal(t, rgb(ColorFor(12)), g.at(x0, 40-lh))
	require.Equal(t, rgb(ColorFor(12)), g.at(x0+lw-1, 40-1))

	h := newGuarded(200, 150)
	DrawHUD(h.Canvas, "cam-01 lobby", "pts 00:01:02.345", "fps 15.0  people 3")
	require.True(t, h.guardsIntact())
	require.True(t, h.changed(5, 5))
	require.False(t, h.changed(199, 149))
	var white int
	for y := 0; y < 60; y++ {
		for x := 0; x < 150; x++ {
			if h.at(x, y) == [3]byte{255, 255, 255} {
				white++
			}
		}
	}
	require.Greater(t, white, 100)
}

func TestColorForStable(t *testing.T) {
	require.Equal(t, ColorFor(3), ColorFor(3+len(Palette)))
	require.NotEqual(t, ColorFor(3), ColorFor(4))
	require.Equal(t, Untracked, ColorFor(-5))
}

func TestFromFrame(t *testing.T) {
	f := &decode.Frame{Width: 4, Height: 2, Pix: make([]byte, 24)}
	c := FromFrame(f)
	c.Fill(geom.Box{X: 0, Y: 0, W: 4, H: 2}, red)
	require.Equal(t, byte(255), f.Pix[21])
	require.Equal(t, Canvas{}, FromFrame(nil))
}

func coord(t *rapid.T, label string) float64 {
	return rapid.OneOf(
		rapid.Float64Range(-100, 200),
		rapid.Float64Range(-1e13, 1e13),
		rapid.SampledFrom([]float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, -0.5, 1e300, -1e300, math.MaxFloat64}),
	).Draw(t, label)
}

func colour(t *rapid.T) color.RGBA {
	a := rapid.Uint8().Draw(t, "a")
	return color.RGBA{rapid.Uint8().Draw(t, "r"), rapid.Uint8().Draw(t, "g"), rapid.Uint8().Draw(t, "b"), a}
}

func TestPropertyNeverPanicsNorWritesOutside(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := rapid.IntRange(1, 64).Draw(t, "w")
		h := rapid.IntRange(1, 64).Draw(t, "h")
		g := newGuarded(w, h)
		tr := NewTrails(rapid.IntRange(-1, 8).Draw(t, "n"), rapid.IntRange(-1, 5).Draw(t, "age"))
		steps := rapid.IntRange(1, 20).Draw(t, "steps")
		for i := 0; i < steps; i++ {
			switch rapid.IntRange(0, 8).Draw(t, "op") {
			case 0:
				g.Rect(geom.Box{X: coord(t, "x"), Y: coord(t, "y"), W: coord(t, "bw"), H: coord(t, "bh")}, colour(t), rapid.IntRange(-5, 200).Draw(t, "th"))
			case 1:
				g.Fill(geom.Box{X: coord(t, "x"), Y: coord(t, "y"), W: coord(t, "bw"), H: coord(t, "bh")}, colour(t))
			case 2:
				g.Line(geom.Point{X: coord(t, "x0"), Y: coord(t, "y0")}, geom.Point{X: coord(t, "x1"), Y: coord(t, "y1")}, colour(t), rapid.IntRange(-2, 100).Draw(t, "th"))
			case 3:
				g.Label(rapid.IntRange(-1<<40, 1<<40).Draw(t, "lx"), rapid.IntRange(-100, 100).Draw(t, "ly"), rapid.String().Draw(t, "s"), colour(t), colour(t))
			case 4:
				g.Text(rapid.IntRange(-100, 100).Draw(t, "tx"), rapid.IntRange(-100, 100).Draw(t, "ty"), rapid.String().Draw(t, "s"), colour(t))
			case 5, 6:
				n := rapid.IntRange(0, 8).Draw(t, "npts")
				pts := make([]geom.Point, n)
				for k := range pts {
					pts[k] = geom.Point{X: coord(t, "px"), Y: coord(t, "py")}
				}
				if rapid.Bool().Draw(t, "poly") {
					g.Polygon(pts, colour(t), rapid.Uint8().Draw(t, "fa"))
				} else {
					g.Polyline(pts, colour(t), rapid.IntRange(-1, 10).Draw(t, "th"))
				}
			case 7:
				n := rapid.IntRange(0, 5).Draw(t, "nobj")
				objs := make([]Object, n)
				for k := range objs {
					objs[k] = Object{
						ID:    rapid.IntRange(-3, 1000).Draw(t, "id"),
						Class: detect.Class(rapid.IntRange(-1, 90).Draw(t, "cls")),
						Box:   geom.Box{X: coord(t, "x"), Y: coord(t, "y"), W: coord(t, "bw"), H: coord(t, "bh")},
						Score: rapid.Float32().Draw(t, "score"),
					}
				}
				tr.Add(i, objs)
				DrawObjects(g.Canvas, objs, tr)
			case 8:
				DrawHUD(g.Canvas, rapid.SliceOfN(rapid.String(), 0, 4).Draw(t, "lines")...)
			}
			if !g.guardsIntact() {
				t.Fatalf("wrote outside the canvas")
			}
		}
	})
}

// benchScene is 30 moving objects with 30-point trails on a 768×576 frame.
func benchScene() (Canvas, []Object, *Trails) {
	const w, h = 768, 576
	c := Canvas{W: w, H: h, Pix: make([]byte, w*h*3)}
	objs := make([]Object, 30)
	tr := NewTrails(30, 50)
	for f := 0; f < 40; f++ {
		for i := range objs {
			cls := detect.Person
			bw, bh := 40.0, 110.0
			if i%3 == 0 {
				cls, bw, bh = detect.Car, 120, 70
			}
			objs[i] = Object{
				ID:    i + 1,
				Class: cls,
				Box: geom.Box{
					X: float64((i*53+f*3)%(w-60)) - 20, Y: float64((i*97+f*2)%(h-60)) - 20,
					W: bw, H: bh,
				},
				Score: 0.9,
			}
		}
		tr.Add(f, objs)
	}
	return c, objs, tr
}

func BenchmarkDrawObjects30(b *testing.B) {
	c, objs, tr := benchScene()
	b.ReportAllocs()
	for b.Loop() {
		DrawObjects(c, objs, tr)
		DrawHUD(c, "cam-01 lobby", "pts 00:01:02.345", "fps 15.0", fmt.Sprintf("objects %d", len(objs)))
	}
}

func BenchmarkTrailsAdd30(b *testing.B) {
	_, objs, tr := benchScene()
	b.ReportAllocs()
	f := 40
	for b.Loop() {
		tr.Add(f, objs)
		f++
	}
}
