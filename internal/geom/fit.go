package geom

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// FitHomography estimates the homography mapping each img[i] to ground[i]
// from four or more pairs, by the normalised direct linear transform:
// both point sets are first moved to their centroid and scaled to a mean
// distance of √2 (Hartley), which keeps the linear system well conditioned
// whatever the units, then the null vector of the 2n×9 system comes from an
// SVD. With exactly four pairs the fit is exact; with more it is the
// algebraic least-squares fit, so check ReprojectionError.
//
// It fails on mismatched or too few pairs, non-finite points, collinear
// configurations (any three of four points on a line, or all points on one
// line), and pairs whose image points do not all lie on the same side of
// the fitted horizon (inconsistent correspondences).
func FitHomography(img, ground []Point) (Homography, error) {
	if err := checkPairs(img, ground); err != nil {
		return Homography{}, err
	}
	ti, ni, err := hartley(img)
	if err != nil {
		return Homography{}, fmt.Errorf("image points: %w", err)
	}
	tg, ng, err := hartley(ground)
	if err != nil {
		return Homography{}, fmt.Errorf("ground points: %w", err)
	}
	hn, err := solveDLT(ni, ng)
	if err != nil {
		return Homography{}, err
	}
	tgInv, err := tg.Inverse()
	if err != nil {
		return Homography{}, err
	}
	return orient(tgInv.mul(hn).mul(ti).Normalized(), img)
}

func checkPairs(img, ground []Point) error {
	if len(img) != len(ground) {
		return fmt.Errorf("%d image points but %d ground points", len(img), len(ground))
	}
	if len(img) < 4 {
		return fmt.Errorf("%w: need at least 4 point pairs, have %d", ErrDegenerate, len(img))
	}
	for i := range img {
		if !finite(img[i]) || !finite(ground[i]) {
			return fmt.Errorf("pair %d is not finite", i)
		}
	}
	return nil
}

// hartley returns the similarity that centres pts and scales them to mean
// distance √2, and the transformed points. It also rejects collinear sets,
// which it can judge in a scale-free way once normalised.
func hartley(pts []Point) (Homography, []Point, error) {
	c := Polygon(pts).mean()
	var d float64
	for _, p := range pts {
		d += p.Dist(c)
	}
	d /= float64(len(pts))
	if d == 0 {
		return Homography{}, nil, fmt.Errorf("%w: all points coincide", ErrDegenerate)
	}
	s := math.Sqrt2 / d
	t := Homography{{s, 0, -s * c.X}, {0, s, -s * c.Y}, {0, 0, 1}}
	out := make([]Point, len(pts))
	for i, p := range pts {
		out[i] = Point{X: s * (p.X - c.X), Y: s * (p.Y - c.Y)}
	}
	return t, out, checkCollinear(out)
}

// collinearTol is the triangle area (in normalised units, where the points
// spread over about ±1.4) below which three points count as collinear.
const collinearTol = 1e-9

// checkCollinear rejects point sets where no homography is determined:
// with four points every triple must span a triangle; with more, at least
// the whole set must not lie on one line (the SVD check catches the rest).
func checkCollinear(pts []Point) error {
	if len(pts) == 4 {
		for skip := range 4 {
			var tri []Point
			for i, p := range pts {
				if i != skip {
					tri = append(tri, p)
				}
			}
			if math.Abs(Side(tri[0], tri[1], tri[2])) < collinearTol {
				return fmt.Errorf("%w: three of the four points are collinear", ErrDegenerate)
			}
		}
		return nil
	}
	for i := range pts {
		for j := i + 1; j < len(pts); j++ {
			for k := j + 1; k < len(pts); k++ {
				if math.Abs(Side(pts[i], pts[j], pts[k])) >= collinearTol {
					return nil
				}
			}
		}
	}
	return fmt.Errorf("%w: all points are collinear", ErrDegenerate)
}

// solveDLT finds the unit null vector of the DLT system for normalised
// correspondences. A second near-zero singular value means the solution is
// not unique, i.e. the configuration is degenerate.
func solveDLT(img, ground []Point) (Homography, error) {
	a := mat.NewDense(2*len(img), 9, nil)
	for i := range img {
		x, y := img[i].X, img[i].Y
		u, v := ground[i].X, ground[i].Y
		a.SetRow(2*i, []float64{-x, -y, -1, 0, 0, 0, u * x, u * y, u})
		a.SetRow(2*i+1, []float64{0, 0, 0, -x, -y, -1, v * x, v * y, v})
	}
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDFull) {
		return Homography{}, fmt.Errorf("%w: SVD did not converge", ErrDegenerate)
	}
	vals := svd.Values(nil)
	// vals has 8 entries for 4 pairs (the 9th is an implicit zero) and 9 for
	// more; either way vals[7] is the second smallest.
	if vals[7] <= 1e-9*vals[0] {
		return Homography{}, fmt.Errorf("%w: correspondences do not determine a unique map", ErrDegenerate)
	}
	var v mat.Dense
	svd.VTo(&v)
	var h Homography
	for k := range 9 {
		h[k/3][k%3] = v.At(k, 8)
	}
	if math.Abs(h.Det()) < 1e-12 {
		return Homography{}, fmt.Errorf("%w: fitted map is singular", ErrDegenerate)
	}
	return h, nil
}

// orient fixes the sign the SVD left arbitrary: the calibration points are
// on the ground in view, so they must all get w > 0. Mixed signs mean the
// correspondences are inconsistent (say, two points swapped).
func orient(h Homography, img []Point) (Homography, error) {
	pos, neg := 0, 0
	for _, p := range img {
		switch w := h.W(p); {
		case w > 0:
			pos++
		case w < 0:
			neg++
		}
	}
	switch {
	case pos == len(img):
		return h, nil
	case neg == len(img):
		return h.scaled(-1), nil
	}
	return Homography{}, fmt.Errorf("%w: image points fall on both sides of the fitted horizon (are pairs in the wrong order?)", ErrDegenerate)
}
