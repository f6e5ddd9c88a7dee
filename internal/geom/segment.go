package geom

import "math"

// Side is the cross product (b−a)×(p−a): positive when p lies to the left of
// the directed line a→b in a y-up frame (counter-clockwise), negative to the
// right, zero on the line. Image coordinates grow downwards, so there the
// signs swap as seen on screen: positive means right of a→b on screen. The
// magnitude is twice the area of the triangle a, b, p.
func Side(a, b, p Point) float64 {
	return (b.X-a.X)*(p.Y-a.Y) - (b.Y-a.Y)*(p.X-a.X)
}

// SegmentsIntersect reports whether the closed segments a1–a2 and b1–b2
// share a point, and returns one such point. Touching at an endpoint counts;
// for collinear overlapping segments the point is an endpoint inside the
// overlap. Tests are exact (no tolerance) so that results are symmetric.
func SegmentsIntersect(a1, a2, b1, b2 Point) (Point, bool) {
	d1, d2 := Side(b1, b2, a1), Side(b1, b2, a2)
	d3, d4 := Side(a1, a2, b1), Side(a1, a2, b2)
	if opposite(d1, d2) && opposite(d3, d4) {
		t := d1 / (d1 - d2)
		return Point{X: a1.X + t*(a2.X-a1.X), Y: a1.Y + t*(a2.Y-a1.Y)}, true
	}
	// Touching or collinear cases: some endpoint lies on the other segment.
	switch {
	case d1 == 0 && inBounds(b1, b2, a1):
		return a1, true
	case d2 == 0 && inBounds(b1, b2, a2):
		return a2, true
	case d3 == 0 && inBounds(a1, a2, b1):
		return b1, true
	case d4 == 0 && inBounds(a1, a2, b2):
		return b2, true
	}
	return Point{}, false
}

// opposite is true when x and y are non-zero with different signs.
func opposite(x, y float64) bool { return (x > 0 && y < 0) || (x < 0 && y > 0) }

// inBounds reports whether p, known to be collinear with a–b, lies within
// the segment's bounding box and therefore on the segment.
func inBounds(a, b, p Point) bool {
	return min(a.X, b.X) <= p.X && p.X <= max(a.X, b.X) &&
		min(a.Y, b.Y) <= p.Y && p.Y <= max(a.Y, b.Y)
}

// Sub is p − q.
func (p Point) Sub(q Point) Point { return Point{X: p.X - q.X, Y: p.Y - q.Y} }

// Add is p + q.
func (p Point) Add(q Point) Point { return Point{X: p.X + q.X, Y: p.Y + q.Y} }

// Scale is p·s.
func (p Point) Scale(s float64) Point { return Point{X: p.X * s, Y: p.Y * s} }

// Dot is the scalar product of p and q as vectors.
func (p Point) Dot(q Point) float64 { return p.X*q.X + p.Y*q.Y }

// Norm is the Euclidean length of p as a vector.
func (p Point) Norm() float64 { return math.Hypot(p.X, p.Y) }

// Dist is the Euclidean distance between p and q.
func (p Point) Dist(q Point) float64 { return p.Sub(q).Norm() }

// SegmentDist is the distance from p to the segment a–b.
func SegmentDist(a, b, p Point) float64 {
	ab := b.Sub(a)
	t := 0.0
	if l2 := ab.Dot(ab); l2 > 0 {
		t = min(max(p.Sub(a).Dot(ab)/l2, 0), 1)
	}
	d := p.Sub(a.Add(ab.Scale(t)))
	return math.Hypot(d.X, d.Y)
}
