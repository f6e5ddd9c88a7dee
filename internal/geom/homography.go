package geom

import (
	"errors"
	"fmt"
	"math"
)

// Homography is a 3×3 projective map, row-major, usually from image pixels
// to ground-plane metres. It is oriented: points in front of the camera
// (below the horizon) have homogeneous w > 0, which is how Apply tells them
// from points at or beyond the horizon. FitHomography and Inverse keep that
// orientation; scaling by a positive factor does not change the map.
type Homography [3][3]float64

// ErrDegenerate is returned (wrapped) when point correspondences or a matrix
// cannot determine a homography.
var ErrDegenerate = errors.New("degenerate homography")

// Apply maps p. It returns false when p maps to or beyond the horizon
// (w ≤ 0) or the result is not finite: such image points have no ground
// position.
func (h Homography) Apply(p Point) (Point, bool) {
	x := h[0][0]*p.X + h[0][1]*p.Y + h[0][2]
	y := h[1][0]*p.X + h[1][1]*p.Y + h[1][2]
	w := h[2][0]*p.X + h[2][1]*p.Y + h[2][2]
	if !(w > 0) {
		return Point{}, false
	}
	q := Point{X: x / w, Y: y / w}
	return q, finite(q)
}

// W is the homogeneous scale Apply divides by; its sign says on which side
// of the horizon p lies.
func (h Homography) W(p Point) float64 { return h[2][0]*p.X + h[2][1]*p.Y + h[2][2] }

// Det is the determinant.
func (h Homography) Det() float64 {
	return h[0][0]*(h[1][1]*h[2][2]-h[1][2]*h[2][1]) -
		h[0][1]*(h[1][0]*h[2][2]-h[1][2]*h[2][0]) +
		h[0][2]*(h[1][0]*h[2][1]-h[1][1]*h[2][0])
}

// Inverse is the map back (ground to image). It divides the adjugate by the
// determinant rather than just using the adjugate so that the inverse keeps
// the orientation: if h maps p with w > 0 to q, the inverse maps q with
// w' = 1/w > 0. The result is scaled to unit norm.
func (h Homography) Inverse() (Homography, error) {
	n := h.norm()
	det := h.Det()
	if n == 0 || math.IsNaN(det) || math.IsInf(det, 0) || math.Abs(det) <= 1e-14*n*n*n {
		return Homography{}, fmt.Errorf("%w: matrix is singular", ErrDegenerate)
	}
	var inv Homography
	for r := range 3 {
		for c := range 3 {
			// Cofactor of (c, r): the adjugate is the transposed cofactor matrix.
			r1, r2 := others(c)
			c1, c2 := others(r)
			inv[r][c] = sign(r+c) * (h[r1][c1]*h[r2][c2] - h[r1][c2]*h[r2][c1]) / det
		}
	}
	return inv.scaled(1 / inv.norm()), nil
}

// others lists the two indices in 0..2 other than i, in order.
func others(i int) (int, int) {
	switch i {
	case 0:
		return 1, 2
	case 1:
		return 0, 2
	}
	return 0, 1
}

func sign(k int) float64 {
	if k%2 == 0 {
		return 1
	}
	return -1
}

// norm is the Frobenius norm.
func (h Homography) norm() float64 {
	s := 0.0
	for _, row := range h {
		for _, v := range row {
			s += v * v
		}
	}
	return math.Sqrt(s)
}

func (h Homography) scaled(s float64) Homography {
	for r := range 3 {
		for c := range 3 {
			h[r][c] *= s
		}
	}
	return h
}

// mul is the matrix product h·o.
func (h Homography) mul(o Homography) Homography {
	var m Homography
	for r := range 3 {
		for c := range 3 {
			m[r][c] = h[r][0]*o[0][c] + h[r][1]*o[1][c] + h[r][2]*o[2][c]
		}
	}
	return m
}

// Normalized is h scaled to unit Frobenius norm by a positive factor, so
// two homographies for the same map compare equal element by element.
func (h Homography) Normalized() Homography {
	n := h.norm()
	if n == 0 {
		return h
	}
	return h.scaled(1 / n)
}

// ReprojectionError maps every image point through h and measures the
// distance to its ground point, in ground units (metres): the root mean
// square and the maximum. A point that h cannot map counts as +Inf.
func ReprojectionError(h Homography, img, ground []Point) (rms, maxErr float64) {
	n := min(len(img), len(ground))
	if n == 0 {
		return 0, 0
	}
	var sum float64
	for i := range n {
		d := math.Inf(1)
		if q, ok := h.Apply(img[i]); ok {
			d = q.Dist(ground[i])
		}
		sum += d * d
		maxErr = max(maxErr, d)
	}
	return math.Sqrt(sum / float64(n)), maxErr
}
