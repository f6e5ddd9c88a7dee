package scenedraw

import (
	"math"
	"slices"

	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/render"
	"github.com/vigil-cctv/vigil/internal/scene"
)

const (
	// targetPx is the spacing in pixels the auto step aims for in the
	// typical part of the image.
	targetPx = 20
	// minPx is the spacing below which grid lines are left out: towards the
	// horizon every grid converges into a solid smear that hides the frame.
	minPx = 7
	// maxLines bounds the lines per direction whatever the step asked for.
	maxLines = 120
	// samples per image side when probing the ground extent, and pieces
	// per grid line when drawing it.
	samples = 24
	pieces  = 64
)

// niceSteps are the grid spacings in metres the auto step chooses from.
var niceSteps = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000}

// grid is the ground-plane metre grid of a calibrated scene.
type grid struct {
	h, inv     geom.Homography // image→ground, ground→image
	step       float64
	x0, x1     float64 // ground extent, multiples of step
	y0, y1     float64
	ends       []gridEnd // where to label lines, found while drawing
	labelEvery int       // label every n-th line: about 8 labels a direction
}

// gridEnd is the labelled end of one drawn grid line.
type gridEnd struct {
	at     geom.Point // image position
	value  float64    // the line's ground coordinate
	alongX bool       // a line of constant x
}

// sample is one probed image point: its ground position and the image
// spacing of grid lines one metre apart there, in the denser direction.
type sample struct {
	g     geom.Point
	pxPer float64
}

// newGrid plans the grid, or returns nil when the scene is uncalibrated or
// no part of the frame shows ground.
func newGrid(c render.Canvas, sc *scene.Scene, step float64) *grid {
	if sc.Homography == nil {
		return nil
	}
	inv, err := sc.Homography.Inverse()
	if err != nil {
		return nil
	}
	g := &grid{h: *sc.Homography, inv: inv}
	ss := g.probe(c)
	if len(ss) == 0 {
		return nil
	}
	if !(step > 0) || math.IsInf(step, 0) {
		step = autoStep(ss)
	}
	for !g.fit(ss, step) {
		// Too many lines: coarsen to the next nice step.
		i, _ := slices.BinarySearch(niceSteps, step*1.0001)
		if i >= len(niceSteps) {
			return nil
		}
		step = niceSteps[i]
	}
	return g
}

// probe samples the frame and keeps the points that lie on the ground.
func (g *grid) probe(c render.Canvas) []sample {
	var out []sample
	for i := range samples + 1 {
		for j := range samples + 1 {
			p := geom.Point{X: float64(c.W) * float64(i) / samples, Y: float64(c.H) * float64(j) / samples}
			q, ok := g.h.Apply(p)
			if !ok {
				continue
			}
			sx, sy := g.density(q)
			out = append(out, sample{g: q, pxPer: min(sx, sy)})
		}
	}
	return out
}

// density is, at ground point q, the image distance between lines of
// constant x one metre apart (sx) and between lines of constant y (sy).
// It is the perpendicular distance, from the local Jacobian: lines far to
// the side run almost along their own offset, so the distance between
// points would say they are apart when they draw on top of each other.
// Both are 0 where q or its neighbours are not in front of the camera.
func (g *grid) density(q geom.Point) (sx, sy float64) {
	const d = 1e-3 // metres; the map is smooth, and this keeps clear of float noise
	o, ok0 := g.inv.Apply(q)
	a, ok1 := g.inv.Apply(q.Add(geom.Point{X: d}))
	b, ok2 := g.inv.Apply(q.Add(geom.Point{Y: d}))
	if !ok0 || !ok1 || !ok2 {
		return 0, 0
	}
	jx, jy := a.Sub(o).Scale(1/d), b.Sub(o).Scale(1/d)
	area := math.Abs(jx.X*jy.Y - jx.Y*jy.X)
	nx, ny := jx.Norm(), jy.Norm()
	if !(nx > 0) || !(ny > 0) || math.IsInf(area, 0) {
		return 0, 0
	}
	return area / ny, area / nx
}

// spacingAt is the image distance from the grid line through ground point
// q to its neighbour one step away.
func (g *grid) spacingAt(q geom.Point, alongX bool) float64 {
	sx, sy := g.density(q)
	if alongX {
		return sx * g.step
	}
	return sy * g.step
}

// autoStep picks the smallest nice step that puts grid lines about
// targetPx apart at the upper-quartile sampled scale: the near ground, where
// objects are big enough to be checked against the grid. Farther away the
// lines fade out by themselves (see minPx).
func autoStep(ss []sample) float64 {
	px := make([]float64, len(ss))
	for i, s := range ss {
		px[i] = s.pxPer
	}
	slices.Sort(px)
	q3 := px[len(px)*3/4]
	for _, s := range niceSteps {
		if s*q3 >= targetPx {
			return s
		}
	}
	return niceSteps[len(niceSteps)-1]
}

// fit sets the step and the ground extent covered by samples where lines of
// that step are legibly apart; false when that needs more than maxLines.
func (g *grid) fit(ss []sample, step float64) bool {
	x0, y0 := math.Inf(1), math.Inf(1)
	x1, y1 := math.Inf(-1), math.Inf(-1)
	for _, s := range ss {
		if s.pxPer*step < minPx {
			continue
		}
		x0, x1 = min(x0, s.g.X), max(x1, s.g.X)
		y0, y1 = min(y0, s.g.Y), max(y1, s.g.Y)
	}
	g.step = step
	if x0 > x1 { // no legible sample: draw nothing rather than a smear
		g.x0, g.x1, g.y0, g.y1 = 0, -1, 0, -1
		return true
	}
	g.x0, g.x1 = math.Floor(x0/step)*step, math.Ceil(x1/step)*step
	g.y0, g.y1 = math.Floor(y0/step)*step, math.Ceil(y1/step)*step
	nx, ny := (g.x1-g.x0)/step, (g.y1-g.y0)/step
	g.labelEvery = int(math.Ceil(max(nx, ny) / 8))
	return nx <= maxLines && ny <= maxLines
}

// draw strokes the lines of constant x, then of constant y. The lines
// through the ground origin are thicker so the frame's axes can be read.
func (g *grid) draw(c render.Canvas) {
	if g == nil {
		return
	}
	// Coordinates are computed from integer multiples, not accumulated,
	// so that the labels read "x=3m" and not "x=2.9999999m".
	for i := 0; g.x0+float64(i)*g.step <= g.x1+g.step/2; i++ {
		x := g.x0 + float64(i)*g.step
		g.line(c, geom.Point{X: x, Y: g.y0}, geom.Point{X: x, Y: g.y1}, x, true)
	}
	for i := 0; g.y0+float64(i)*g.step <= g.y1+g.step/2; i++ {
		y := g.y0 + float64(i)*g.step
		g.line(c, geom.Point{X: g.x0, Y: y}, geom.Point{X: g.x1, Y: y}, y, false)
	}
}

// line draws the ground segment a→b piece by piece, leaving out pieces that
// are at or beyond the horizon (where the inverse homography fails) or
// closer than minPx to the neighbouring line.
func (g *grid) line(c render.Canvas, a, b geom.Point, value float64, alongX bool) {
	thick := 1
	if math.Abs(value) < g.step/2 {
		thick = 2
	}
	end := gridEnd{value: value, alongX: alongX}
	found := false
	for i := range pieces {
		pa := a.Add(b.Sub(a).Scale(float64(i) / pieces))
		pb := a.Add(b.Sub(a).Scale(float64(i+1) / pieces))
		ia, okA := g.inv.Apply(pa)
		ib, okB := g.inv.Apply(pb)
		if !okA || !okB || g.spacingAt(pa.Add(pb).Scale(0.5), alongX) < minPx {
			continue
		}
		c.Line(ia, ib, gridCol, thick)
		for _, p := range []geom.Point{ia, ib} {
			if inside(c, p) && (!found || better(p, end.at, alongX)) {
				end.at, found = p, true
			}
		}
	}
	if found {
		g.ends = append(g.ends, end)
	}
}

// better says whether p is a better label spot than q: lines of constant x
// are labelled at their end nearest the camera (lowest on screen), lines of
// constant y at their left end.
func better(p, q geom.Point, alongX bool) bool {
	if alongX {
		return p.Y > q.Y
	}
	return p.X < q.X
}

func inside(c render.Canvas, p geom.Point) bool {
	return p.X >= 0 && p.Y >= 0 && p.X < float64(c.W) && p.Y < float64(c.H)
}

// labels writes the metre value of every few lines ("x=5m", "y=10m").
// They are optional: a grid label that would cover a name is dropped.
func (g *grid) labels(lb *labeler) {
	if g == nil {
		return
	}
	every := max(g.labelEvery, 1)
	for _, e := range g.ends {
		k := int(math.Round(e.value / g.step))
		if k%every != 0 {
			continue
		}
		s := "y=" + metres(e.value) + "m"
		if e.alongX {
			s = "x=" + metres(e.value) + "m"
		}
		w, h := render.LabelSize(s)
		off := geom.Point{X: 0, Y: -float64(h)}
		if !e.alongX {
			off = geom.Point{X: float64(w / 2), Y: 0}
		}
		lb.near(e.at.Add(off), s, black, gridCol, true)
	}
}
