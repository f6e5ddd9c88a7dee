// Package geom holds the plane geometry Vigil shares between its stages:
// image-space boxes and points. Ground-plane projection lives here too as it
// grows, so that every stage agrees on one definition of "where".
package geom

import "math"

// Point is a position in pixels (image space) or metres (ground plane).
type Point struct {
	X, Y float64
}

// Box is an axis-aligned rectangle in image pixels: left, top, width, height,
// the same convention as MOTChallenge files.
type Box struct {
	X, Y, W, H float64
}

// BoxFromCorners builds a box from its top-left and bottom-right corners.
func BoxFromCorners(x1, y1, x2, y2 float64) Box {
	return Box{X: x1, Y: y1, W: x2 - x1, H: y2 - y1}
}

// X2 is the right edge.
func (b Box) X2() float64 { return b.X + b.W }

// Y2 is the bottom edge.
func (b Box) Y2() float64 { return b.Y + b.H }

// Area is zero for degenerate boxes, never negative.
func (b Box) Area() float64 {
	if b.W <= 0 || b.H <= 0 {
		return 0
	}
	return b.W * b.H
}

// Center is the middle of the box.
func (b Box) Center() Point { return Point{X: b.X + b.W/2, Y: b.Y + b.H/2} }

// Foot is the bottom centre: where a standing person or a vehicle touches the
// ground, which is the point that ground-plane rules project.
func (b Box) Foot() Point { return Point{X: b.X + b.W/2, Y: b.Y + b.H} }

// Intersection is the area shared by a and b.
func (b Box) Intersection(o Box) float64 {
	w := math.Min(b.X2(), o.X2()) - math.Max(b.X, o.X)
	h := math.Min(b.Y2(), o.Y2()) - math.Max(b.Y, o.Y)
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

// IoU is intersection over union, 0 when either box is empty.
func (b Box) IoU(o Box) float64 {
	inter := b.Intersection(o)
	if inter == 0 {
		return 0
	}
	union := b.Area() + o.Area() - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}

// Scale multiplies every coordinate by s (used to map model-space boxes back
// to the source frame).
func (b Box) Scale(s float64) Box { return Box{X: b.X * s, Y: b.Y * s, W: b.W * s, H: b.H * s} }

// Translate moves the box by (dx, dy).
func (b Box) Translate(dx, dy float64) Box { return Box{X: b.X + dx, Y: b.Y + dy, W: b.W, H: b.H} }

// Clip limits the box to a w×h image; a box wholly outside becomes empty.
func (b Box) Clip(w, h float64) Box {
	x1, y1 := math.Max(b.X, 0), math.Max(b.Y, 0)
	x2, y2 := math.Min(b.X2(), w), math.Min(b.Y2(), h)
	if x2 < x1 {
		x2 = x1
	}
	if y2 < y1 {
		y2 = y1
	}
	return BoxFromCorners(x1, y1, x2, y2)
}
