package geom

import (
	"fmt"
	"math"
)

// Polygon is a simple polygon given by its vertices in order (either
// winding); the closing edge from the last vertex back to the first is
// implicit, so the first vertex is not repeated.
type Polygon []Point

// Contains reports whether p lies inside the polygon or on its boundary.
// The boundary test comes first so that every edge point counts as inside,
// whichever side of the polygon the edge is on (plain ray casting would
// count left edges in and right edges out). The crossing test uses only
// coordinate differences, so translating polygon and point together by the
// same exact offset gives the same answer.
func (pg Polygon) Contains(p Point) bool {
	n := len(pg)
	if n == 0 {
		return false
	}
	inside := false
	for i := range n {
		a, b := pg[i], pg[(i+1)%n]
		if onSegment(a, b, p) {
			return true
		}
		if (a.Y > p.Y) != (b.Y > p.Y) {
			// Side = (b.Y−a.Y)·(xCross−p.X), so its sign relative to the edge's
			// vertical direction says whether the crossing is right of p.
			if (Side(a, b, p) > 0) == (b.Y > a.Y) {
				inside = !inside
			}
		}
	}
	return inside
}

// onSegment reports whether p is on the closed segment a–b, allowing a
// distance of one part in 10⁹ of the edge length (and at least 10⁻⁹) so that
// points computed onto an edge still count.
func onSegment(a, b Point, p Point) bool {
	e := b.Sub(a)
	l := e.Norm()
	if l == 0 {
		return p == a
	}
	if math.Abs(Side(a, b, p)) > 1e-9*l*max(1, l) {
		return false
	}
	t := p.Sub(a).Dot(e)
	return t >= 0 && t <= l*l
}

// SignedArea is positive for counter-clockwise vertices in a y-up frame
// (clockwise on screen in image coordinates).
func (pg Polygon) SignedArea() float64 {
	if len(pg) < 3 {
		return 0
	}
	// Relative to the first vertex to keep precision for large coordinates.
	o, s := pg[0], 0.0
	for i := 1; i+1 < len(pg); i++ {
		s += Side(o, pg[i], pg[i+1])
	}
	return s / 2
}

// Area is the enclosed area, never negative.
func (pg Polygon) Area() float64 { return math.Abs(pg.SignedArea()) }

// Centroid is the centre of mass of the enclosed area; for a polygon with no
// area it falls back to the mean of the vertices.
func (pg Polygon) Centroid() Point {
	if len(pg) == 0 {
		return Point{}
	}
	o := pg[0]
	var cx, cy, a2 float64
	for i := 1; i+1 < len(pg); i++ {
		p, q := pg[i].Sub(o), pg[i+1].Sub(o)
		w := p.X*q.Y - q.X*p.Y
		cx += (p.X + q.X) * w
		cy += (p.Y + q.Y) * w
		a2 += w
	}
	if a2 == 0 {
		return pg.mean()
	}
	return Point{X: o.X + cx/(3*a2), Y: o.Y + cy/(3*a2)}
}

func (pg Polygon) mean() Point {
	var s Point
	for _, p := range pg {
		s = s.Add(p)
	}
	return s.Scale(1 / float64(len(pg)))
}

// Valid reports why the polygon cannot be used as a zone: fewer than three
// vertices, non-finite or repeated vertices, edges that cross or fold back
// onto each other, or no area. The checks are O(n²), fine for hand-drawn
// zones.
func (pg Polygon) Valid() error {
	if len(pg) < 3 {
		return fmt.Errorf("polygon has %d points, need at least 3", len(pg))
	}
	for i, p := range pg {
		if !finite(p) {
			return fmt.Errorf("vertex %d is not finite", i)
		}
	}
	if err := pg.checkEdges(); err != nil {
		return err
	}
	if pg.Area() == 0 {
		return fmt.Errorf("polygon has zero area")
	}
	return nil
}

// checkEdges finds coincident vertices and intersecting edges. Edges i and
// i+1 share a vertex by construction; they are only wrong when they fold
// back along the same line.
func (pg Polygon) checkEdges() error {
	n := len(pg)
	for i := range n {
		for j := i + 1; j < n; j++ {
			if pg[i] == pg[j] {
				return fmt.Errorf("vertices %d and %d coincide", i, j)
			}
		}
	}
	for i := range n {
		a1, a2 := pg[i], pg[(i+1)%n]
		for j := i + 1; j < n; j++ {
			b1, b2 := pg[j], pg[(j+1)%n]
			if j == i+1 || (i == 0 && j == n-1) {
				if foldsBack(a1, a2, b1, b2) {
					return fmt.Errorf("edges %d and %d fold back onto each other", i, j)
				}
				continue
			}
			if x, ok := SegmentsIntersect(a1, a2, b1, b2); ok {
				return fmt.Errorf("edges %d and %d intersect at (%g, %g)", i, j, x.X, x.Y)
			}
		}
	}
	return nil
}

// foldsBack is true for adjacent edges that are collinear and point in
// opposite directions from their shared vertex, so they overlap.
func foldsBack(a1, a2, b1, b2 Point) bool {
	if Side(a1, a2, b1) != 0 || Side(a1, a2, b2) != 0 {
		return false
	}
	// Along a walk through the shared vertex, collinear edges overlap exactly
	// when the walk turns back, whichever of the two edges comes first.
	return a2.Sub(a1).Dot(b2.Sub(b1)) < 0
}

func finite(p Point) bool {
	return !math.IsNaN(p.X) && !math.IsNaN(p.Y) && !math.IsInf(p.X, 0) && !math.IsInf(p.Y, 0)
}

// EdgeDist is the distance from p to the polygon's boundary (0 on it,
// whether p is inside or outside).
func (pg Polygon) EdgeDist(p Point) float64 {
	d := math.Inf(1)
	for i := range pg {
		d = min(d, SegmentDist(pg[i], pg[(i+1)%len(pg)], p))
	}
	return d
}
