package scenedraw

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"

	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/render"
	"github.com/vigil-cctv/vigil/internal/scene"
)

// drawTripwire strokes a line with end ticks and, when marked, a short
// arrow pointing into its in-side: the side is the part of a tripwire people
// most often get backwards.
func drawTripwire(c render.Canvas, l *scene.Line, thickness int, marked bool) {
	c.Line(l.A, l.B, lineCol, thickness)
	for _, p := range []geom.Point{l.A, l.B} {
		c.Fill(geom.Box{X: p.X - 3, Y: p.Y - 3, W: 6, H: 6}, lineCol)
	}
	if n, ok := inNormal(l); ok && marked {
		mid := l.A.Add(l.B).Scale(0.5)
		arrow(c, mid, mid.Add(n.Scale(inArrow)), lineCol, 2)
	}
}

// inArrow is the length in pixels of the in-side marker.
const inArrow = 22

// labelTripwire writes "in" at the marker's tip and the name on the out
// side, so that the name never covers the marker.
func labelTripwire(lb *labeler, l *scene.Line, marked bool) {
	mid := l.A.Add(l.B).Scale(0.5)
	n, ok := inNormal(l)
	if !ok {
		lb.near(mid, l.Name, white, lineCol, false)
		return
	}
	if marked {
		lb.near(mid.Add(n.Scale(inArrow+10)), "in", white, lineCol, false)
	}
	_, h := render.LabelSize(l.Name)
	lb.near(mid.Add(n.Scale(-float64(h/2+5))), l.Name, white, lineCol, false)
}

// inNormal is the unit normal of the line pointing to its in-side, found by
// asking the line itself so it cannot disagree with the rule engine.
func inNormal(l *scene.Line) (geom.Point, bool) {
	d := l.B.Sub(l.A)
	n := d.Norm()
	if !(n > 0) || math.IsInf(n, 0) {
		return geom.Point{}, false
	}
	u := geom.Point{X: -d.Y / n, Y: d.X / n}
	probe := l.A.Add(l.B).Scale(0.5).Add(u.Scale(max(1, n/4)))
	if l.Side(probe) < 0 {
		u = u.Scale(-1)
	}
	return u, true
}

// labelLane names the lane just behind its arrow's tail, where it cannot
// sit on the arrow itself or on a parallel lane's label at the same height.
func labelLane(lb *labeler, l *scene.Lane) {
	d := l.Arrow[0].Sub(l.Arrow[1])
	n := d.Norm()
	if !(n > 0) {
		lb.near(l.Arrow[0], "lane "+l.Name, black, laneCol, false)
		return
	}
	_, h := render.LabelSize(l.Name)
	lb.near(l.Arrow[0].Add(d.Scale(float64(h)/n)), "lane "+l.Name, black, laneCol, false)
}

// arrow strokes a→b with an arrowhead at b, its barbs a fixed size (capped
// for short arrows) so that it reads the same on any frame size.
func arrow(c render.Canvas, a, b geom.Point, col color.RGBA, thickness int) {
	c.Line(a, b, col, thickness)
	d := a.Sub(b)
	n := d.Norm()
	if !(n > 0) || math.IsInf(n, 0) {
		return
	}
	size := min(16, 0.45*n)
	u := d.Scale(1 / n)
	const ang = 28 * math.Pi / 180
	for _, s := range []float64{-1, 1} {
		sin, cos := math.Sincos(s * ang)
		r := geom.Point{X: u.X*cos - u.Y*sin, Y: u.X*sin + u.Y*cos}
		c.Line(b, b.Add(r.Scale(size)), col, thickness)
	}
}

// stripes hatches the polygon with 45° bands period px apart, half of them
// painted, like zebra markings. Each band is a run of adjacent 45° one-pixel
// lines, which Bresenham draws on disjoint pixels, so the translucent colour
// blends exactly once per pixel.
func stripes(c render.Canvas, pg geom.Polygon, col color.RGBA, period int) {
	if len(pg) < 3 || period < 2 {
		return
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range pg {
		if !finitePt(p) {
			return
		}
		lo, hi = math.Min(lo, p.X-p.Y), math.Max(hi, p.X-p.Y)
	}
	// Only offsets that can touch the canvas: x−y ranges over [−H, W] on it.
	lo, hi = math.Max(lo, -float64(c.H)), math.Min(hi, float64(c.W))
	for k := math.Floor(lo/float64(period)) * float64(period); k <= hi; k += float64(period) {
		for j := range period / 2 {
			stripeLine(c, pg, k+float64(j)+0.5, col)
		}
	}
}

// stripeLine draws the parts of the line x − y = k inside the polygon
// (even–odd rule).
func stripeLine(c render.Canvas, pg geom.Polygon, k float64, col color.RGBA) {
	var ts []float64 // positions along the line, as x + y
	for i := range pg {
		a, b := pg[i], pg[(i+1)%len(pg)]
		sa, sb := a.X-a.Y-k, b.X-b.Y-k
		if (sa <= 0) == (sb <= 0) {
			continue
		}
		p := a.Add(b.Sub(a).Scale(sa / (sa - sb)))
		ts = append(ts, p.X+p.Y)
	}
	slices.Sort(ts)
	for i := 0; i+1 < len(ts); i += 2 {
		// Point with x − y = k and x + y = t.
		a := geom.Point{X: (ts[i] + k) / 2, Y: (ts[i] - k) / 2}
		b := geom.Point{X: (ts[i+1] + k) / 2, Y: (ts[i+1] - k) / 2}
		c.Line(a, b, col, 1)
	}
}

// drawCalibration marks every calibration pair's image point with a cross
// and draws a red tick from it to where the fitted homography puts its
// ground point: a long tick is a mistyped or misclicked pair.
func drawCalibration(c render.Canvas, sc *scene.Scene) {
	if sc.Calibration == nil || sc.Homography == nil {
		return
	}
	inv, err := sc.Homography.Inverse()
	for _, p := range sc.Calibration.Pairs {
		if err == nil {
			if q, ok := inv.Apply(p.Ground); ok && q.Dist(p.Image) > 1.5 {
				c.Line(p.Image, q, reprojCol, 2)
				c.Fill(geom.Box{X: q.X - 2, Y: q.Y - 2, W: 4, H: 4}, reprojCol)
			}
		}
		cross(c, p.Image, crossR)
	}
}

// reserveCrosses keeps labels off the calibration crosses: a name hiding
// a calibration point hides exactly what the drawing is meant to show.
func reserveCrosses(lb *labeler, sc *scene.Scene) {
	if sc.Calibration == nil {
		return
	}
	for _, p := range sc.Calibration.Pairs {
		if finitePt(p.Image) {
			x, y := int(p.Image.X), int(p.Image.Y)
			lb.placed = append(lb.placed, image.Rect(x-crossR-1, y-crossR-1, x+crossR+2, y+crossR+2))
		}
	}
}

// labelCalibration writes each pair's ground coordinates beside its cross.
func labelCalibration(lb *labeler, sc *scene.Scene) {
	if sc.Calibration == nil {
		return
	}
	for _, p := range sc.Calibration.Pairs {
		s := fmt.Sprintf("(%s,%s)", metres(p.Ground.X), metres(p.Ground.Y))
		w, h := render.LabelSize(s)
		lb.near(p.Image.Add(geom.Point{X: float64(w/2 + 8), Y: -float64(h / 2)}), s, black, calibCol, false)
	}
}

// crossR is the half-size in pixels of a calibration cross.
const crossR = 6

// cross draws an × with a dark outline so that it shows on any background.
func cross(c render.Canvas, p geom.Point, r float64) {
	for _, t := range []struct {
		col color.RGBA
		th  int
	}{{black, 4}, {calibCol, 2}} {
		c.Line(p.Add(geom.Point{X: -r, Y: -r}), p.Add(geom.Point{X: r, Y: r}), t.col, t.th)
		c.Line(p.Add(geom.Point{X: -r, Y: r}), p.Add(geom.Point{X: r, Y: -r}), t.col, t.th)
	}
}

// metres formats a ground coordinate compactly: "7", "-4.46".
func metres(v float64) string {
	if v == 0 {
		v = 0 // no "-0"
	}
	return fmt.Sprintf("%.4g", v)
}

// drawLegend writes one line at the top-left saying what the calibration
// is worth, since a grid alone looks convincing even when it is wrong.
func drawLegend(lb *labeler, sc *scene.Scene, g *grid) {
	s := "no calibration: no ground plane, no metres"
	if cal := sc.Calibration; cal != nil {
		s = fmt.Sprintf("calibration: %d pairs, reprojection RMS %.3f m, max %.3f m", len(cal.Pairs), cal.RMSError, cal.MaxError)
		if len(cal.Pairs) == 4 {
			s += " (4 pairs fit exactly: error says nothing)"
		}
		if g != nil {
			s += fmt.Sprintf("; grid %s m", metres(g.step))
		}
	}
	if sc.Camera != "" {
		s = sc.Camera + " | " + s
	}
	// Top-left: calibration points cluster at the bottom, near the camera.
	lb.at(2, 2, s, white, legendBG)
}
