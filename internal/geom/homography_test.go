package geom

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestApplyHorizon(t *testing.T) {
	// w = 1 − y/100: the horizon is the image row y = 100.
	h := Homography{{1, 0, 0}, {0, 1, 0}, {0, -0.01, 1}}
	p, ok := h.Apply(Point{10, 50})
	require.True(t, ok)
	require.InDelta(t, 20, p.X, 1e-12)
	_, ok = h.Apply(Point{10, 100})
	require.False(t, ok, "on the horizon")
	_, ok = h.Apply(Point{10, 150})
	require.False(t, ok, "beyond the horizon")
	_, ok = h.Apply(Point{math.NaN(), 0})
	require.False(t, ok)
}

func TestInverse(t *testing.T) {
	h := Homography{{2, 0.1, 5}, {0.2, 1.5, -3}, {0.001, 0.002, 1}}
	inv, err := h.Inverse()
	require.NoError(t, err)
	p := Point{30, 40}
	q, ok := h.Apply(p)
	require.True(t, ok)
	back, ok := inv.Apply(q)
	require.True(t, ok, "inverse keeps orientation")
	require.InDelta(t, p.X, back.X, 1e-9)
	require.InDelta(t, p.Y, back.Y, 1e-9)

	_, err = Homography{{1, 2, 3}, {2, 4, 6}, {0, 0, 1}}.Inverse()
	require.ErrorIs(t, err, ErrDegenerate)
}

func TestFitHomographyRectangle(t *testing.T) {
	// A trapezoid in the image seen as a 3.5 m × 12 m rectangle on the road.
	img := []Point{{300, 500}, {500, 500}, {440, 300}, {360, 300}}
	ground := []Point{{0, 0}, {3.5, 0}, {3.5, 12}, {0, 12}}
	h, err := FitHomography(img, ground)
	require.NoError(t, err)
	rms, mx := ReprojectionError(h, img, ground)
	require.Less(t, rms, 1e-9)
	require.Less(t, mx, 1e-9)
	// The vanishing row: beyond y where w = 0 nothing maps.
	_, ok := h.Apply(Point{400, 0})
	require.False(t, ok, "sky above the horizon")
	c, ok := h.Apply(Point{400, 400})
	require.True(t, ok)
	require.InDelta(t, 1.75, c.X, 1e-9, "centre column stays central")
}

func TestFitHomographyErrors(t *testing.T) {
	sq := []Point{{0, 0}, {1, 0}, {1, 1}, {0, 1}}
	tests := []struct {
		name        string
		img, ground []Point
		err         string
	}{
		{"three pairs", sq[:3], sq[:3], "at least 4"},
		{"mismatch", sq, sq[:3], "4 image points but 3"},
		{"three collinear image", []Point{{0, 0}, {1, 0}, {2, 0}, {0, 1}}, sq, "collinear"},
		{"collinear ground", sq, []Point{{0, 0}, {1, 1}, {2, 2}, {3, 3}}, "collinear"},
		{"all same", []Point{{1, 1}, {1, 1}, {1, 1}, {1, 1}}, sq, "coincide"},
		{"swapped pair", sq, []Point{{0, 0}, {1, 0}, {0, 1}, {1, 1}}, "both sides"},
		{"all collinear, 5", []Point{{0, 0}, {1, 1}, {2, 2}, {3, 3}, {4, 4}}, append(sq, Point{2, 2}), "collinear"},
		{"nan", []Point{{0, 0}, {1, 0}, {1, math.NaN()}, {0, 1}}, sq, "not finite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FitHomography(tc.img, tc.ground)
			require.ErrorContains(t, err, tc.err)
		})
	}
	_, err := FitHomography(tests[2].img, sq)
	require.True(t, errors.Is(err, ErrDegenerate))
}

// wellConditioned draws a homography whose w stays in [0.2, 1.8] over the
// 1000×1000 image square, i.e. the whole square is in front of the camera.
func wellConditioned(t *rapid.T) Homography {
	f := func(lo, hi float64, name string) float64 { return rapid.Float64Range(lo, hi).Draw(t, name) }
	return Homography{
		{f(0.5, 2, "a"), f(-0.3, 0.3, "b"), f(-100, 100, "c")},
		{f(-0.3, 0.3, "d"), f(0.5, 2, "e"), f(-100, 100, "f")},
		{f(-4e-4, 4e-4, "g"), f(-4e-4, 4e-4, "h"), 1},
	}
}

// spreadPoints draws n ≥ 4 image points: four jittered corners of the image
// (no three collinear) and extra points anywhere.
func spreadPoints(t *rapid.T) []Point {
	j := func(base float64, name string) float64 { return base + rapid.Float64Range(0, 200).Draw(t, name) }
	pts := []Point{{j(0, "x0"), j(0, "y0")}, {j(800, "x1"), j(0, "y1")}, {j(800, "x2"), j(800, "y2")}, {j(0, "x3"), j(800, "y3")}}
	extra := rapid.IntRange(0, 8).Draw(t, "extra")
	for range extra {
		pts = append(pts, Point{rapid.Float64Range(0, 1000).Draw(t, "x"), rapid.Float64Range(0, 1000).Draw(t, "y")})
	}
	return pts
}

func TestFitHomographyRecoversH(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := wellConditioned(t)
		img := spreadPoints(t)
		ground := make([]Point, len(img))
		for i, p := range img {
			q, ok := h.Apply(p)
			require.True(t, ok)
			ground[i] = q
		}
		fit, err := FitHomography(img, ground)
		require.NoError(t, err)
		want, got := h.Normalized(), fit.Normalized()
		for r := range 3 {
			for c := range 3 {
				require.InDelta(t, want[r][c], got[r][c], 1e-7, "H[%d][%d]", r, c)
			}
		}
		rms, mx := ReprojectionError(fit, img, ground)
		require.Less(t, rms, 1e-6)
		require.Less(t, mx, 1e-6)
	})
}

func TestApplyInverseIdentity(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := wellConditioned(t)
		inv, err := h.Inverse()
		require.NoError(t, err)
		p := Point{rapid.Float64Range(0, 1000).Draw(t, "x"), rapid.Float64Range(0, 1000).Draw(t, "y")}
		q, ok := h.Apply(p)
		require.True(t, ok)
		back, ok := inv.Apply(q)
		require.True(t, ok)
		require.InDelta(t, p.X, back.X, 1e-6)
		require.InDelta(t, p.Y, back.Y, 1e-6)
	})
}
