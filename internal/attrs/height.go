package attrs

import (
	"errors"
	"math"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// Camera is a pinhole camera recovered from a ground-plane homography,
// enough to measure heights above the ground.
type Camera struct {
	h geom.Homography // image → ground
	p [3][4]float64   // ground (X, Y, Z up) → image
}

// errNoCamera is returned when the homography does not fix a camera
// (e.g. an affine, top-down calibration).
var errNoCamera = errors.New("attrs: the ground calibration does not determine a camera")

// CameraFrom recovers the camera of a calibrated view: square pixels, no
// skew and the principal point at the image centre (cx, cy) are assumed,
// so the homography's two rotation columns give the focal length.
func CameraFrom(h geom.Homography, cx, cy float64) (*Camera, error) {
	g, err := h.Inverse() // ground → image
	if err != nil {
		return nil, err
	}
	col := func(j int) [3]float64 { return [3]float64{g[0][j] - cx*g[2][j], g[1][j] - cy*g[2][j], g[2][j]} }
	m1, m2, m3 := col(0), col(1), col(2)
	// With x = 1/f²: r1·r2 = 0 and |r1| = |r2|, both linear in x.
	a := [2]float64{m1[0]*m2[0] + m1[1]*m2[1], m1[0]*m1[0] + m1[1]*m1[1] - m2[0]*m2[0] - m2[1]*m2[1]}
	b := [2]float64{m1[2] * m2[2], m1[2]*m1[2] - m2[2]*m2[2]}
	den := a[0]*a[0] + a[1]*a[1]
	if den == 0 {
		return nil, errNoCamera
	}
	x := -(a[0]*b[0] + a[1]*b[1]) / den
	if !(x > 0) || math.IsInf(x, 0) {
		return nil, errNoCamera
	}
	f := 1 / math.Sqrt(x)
	norm := func(m [3]float64) [3]float64 { return [3]float64{m[0] / f, m[1] / f, m[2]} }
	r1, r2, t := norm(m1), norm(m2), norm(m3)
	lambda := (vlen(r1) + vlen(r2)) / 2
	for i := range 3 {
		r1[i], r2[i], t[i] = r1[i]/lambda, r2[i]/lambda, t[i]/lambda
	}
	if t[2] < 0 { // the ground must be in front of the camera
		for i := range 3 {
			r1[i], r2[i], t[i] = -r1[i], -r2[i], -t[i]
		}
	}
	r3 := cross(r1, r2)
	// Camera centre C = −Rᵀt; its height above the ground must be
	// positive, which fixes the sign of the vertical axis.
	if -(r3[0]*t[0] + r3[1]*t[1] + r3[2]*t[2]) < 0 {
		r3 = [3]float64{-r3[0], -r3[1], -r3[2]}
	}
	c := &Camera{h: h}
	k := [3][3]float64{{f, 0, cx}, {0, f, cy}, {0, 0, 1}}
	cols := [4][3]float64{r1, r2, r3, t}
	for i := range 3 {
		for j := range 4 {
			for l := range 3 {
				c.p[i][j] += k[i][l] * cols[j][l]
			}
		}
	}
	return c, nil
}

// Project maps a ground point at height z (metres) to the image.
func (c *Camera) Project(x, y, z float64) (geom.Point, bool) {
	var v [3]float64
	for i := range 3 {
		v[i] = c.p[i][0]*x + c.p[i][1]*y + c.p[i][2]*z + c.p[i][3]
	}
	if v[2] <= 0 {
		return geom.Point{}, false
	}
	return geom.Point{X: v[0] / v[2], Y: v[1] / v[2]}, true
}

// Height is the height in metres of an upright object whose foot and
// head are at these image points; ok is false when the foot is not on
// the ground plane in view.
func (c *Camera) Height(foot, head geom.Point) (float64, bool) {
	g, ok := c.h.Apply(foot)
	if !ok {
		return 0, false
	}
	// p(Z) = (A + Z·B) / (w + Z·d): solve for Z in least squares.
	var num, den float64
	w := c.p[2][0]*g.X + c.p[2][1]*g.Y + c.p[2][3]
	d := c.p[2][2]
	for i, hk := range []float64{head.X, head.Y} {
		a := c.p[i][0]*g.X + c.p[i][1]*g.Y + c.p[i][3]
		b := c.p[i][2]
		k := hk*d - b
		num += (a - hk*w) * k
		den += k * k
	}
	if den == 0 {
		return 0, false
	}
	return num / den, true
}

func vlen(v [3]float64) float64 { return math.Sqrt(v[0]*v[0] + v[1]*v[1] + v[2]*v[2]) }

func cross(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}
