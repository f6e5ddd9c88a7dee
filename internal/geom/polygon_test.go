package geom

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func square(x, y, s float64) Polygon {
	return Polygon{{x, y}, {x + s, y}, {x + s, y + s}, {x, y + s}}
}

func TestSide(t *testing.T) {
	a, b := Point{0, 0}, Point{10, 0}
	require.Greater(t, Side(a, b, Point{5, 1}), 0.0, "y-up left is positive")
	require.Less(t, Side(a, b, Point{5, -1}), 0.0)
	require.Zero(t, Side(a, b, Point{20, 0}))
	require.Equal(t, 20.0, Side(a, b, Point{3, 2}), "twice the triangle area")
}

func TestSegmentsIntersect(t *testing.T) {
	tests := []struct {
		name           string
		a1, a2, b1, b2 Point
		want           Point
		ok             bool
	}{
		{"cross", Point{0, 0}, Point{2, 2}, Point{0, 2}, Point{2, 0}, Point{1, 1}, true},
		{"touch at endpoint", Point{0, 0}, Point{1, 1}, Point{1, 1}, Point{2, 0}, Point{1, 1}, true},
		{"T junction", Point{0, 0}, Point{2, 0}, Point{1, 0}, Point{1, 5}, Point{1, 0}, true},
		{"parallel", Point{0, 0}, Point{2, 0}, Point{0, 1}, Point{2, 1}, Point{}, false},
		{"collinear disjoint", Point{0, 0}, Point{1, 0}, Point{2, 0}, Point{3, 0}, Point{}, false},
		{"collinear overlap", Point{0, 0}, Point{2, 0}, Point{1, 0}, Point{3, 0}, Point{2, 0}, true},
		{"would cross if extended", Point{0, 0}, Point{1, 1}, Point{3, 0}, Point{2, 1}, Point{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := SegmentsIntersect(tc.a1, tc.a2, tc.b1, tc.b2)
			require.Equal(t, tc.ok, ok)
			if ok {
				require.InDelta(t, tc.want.X, p.X, 1e-12)
				require.InDelta(t, tc.want.Y, p.Y, 1e-12)
			}
			_, ok2 := SegmentsIntersect(tc.b1, tc.b2, tc.a1, tc.a2)
			require.Equal(t, ok, ok2, "symmetric")
		})
	}
}

func TestPolygonContains(t *testing.T) {
	sq := square(0, 0, 10)
	tests := []struct {
		p    Point
		want bool
	}{
		{Point{5, 5}, true},
		{Point{0, 5}, true},  // left edge
		{Point{10, 5}, true}, // right edge: same answer as the left
		{Point{5, 0}, true},  // top edge
		{Point{5, 10}, true}, // bottom edge
		{Point{10, 10}, true},
		{Point{10.0001, 5}, false},
		{Point{-1, 5}, false},
		{Point{5, 11}, false},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, sq.Contains(tc.p), "%v", tc.p)
	}
	// Concave U: the notch is outside.
	u := Polygon{{0, 0}, {3, 0}, {3, 3}, {2, 3}, {2, 1}, {1, 1}, {1, 3}, {0, 3}}
	require.False(t, u.Contains(Point{1.5, 2}))
	require.True(t, u.Contains(Point{0.5, 2}))
	require.True(t, u.Contains(Point{1.5, 1}), "notch floor is an edge")
	require.False(t, Polygon(nil).Contains(Point{}))
}

func TestPolygonAreaCentroid(t *testing.T) {
	sq := square(2, 3, 4)
	require.Equal(t, 16.0, sq.Area())
	require.Equal(t, Point{4, 5}, sq.Centroid())
	rev := Polygon{sq[3], sq[2], sq[1], sq[0]}
	require.Equal(t, 16.0, rev.Area())
	require.Equal(t, -sq.SignedArea(), rev.SignedArea())
	tri := Polygon{{0, 0}, {6, 0}, {0, 3}}
	require.Equal(t, 9.0, tri.Area())
	c := tri.Centroid()
	require.InDelta(t, 2, c.X, 1e-12)
	require.InDelta(t, 1, c.Y, 1e-12)
	require.Equal(t, Point{1, 0}, Polygon{{0, 0}, {1, 0}, {2, 0}}.Centroid(), "no area: vertex mean")
}

func TestPolygonValid(t *testing.T) {
	tests := []struct {
		name string
		pg   Polygon
		err  string
	}{
		{"square", square(0, 0, 1), ""},
		{"concave", Polygon{{0, 0}, {3, 0}, {3, 3}, {2, 3}, {2, 1}, {1, 1}, {1, 3}, {0, 3}}, ""},
		{"two points", Polygon{{0, 0}, {1, 1}}, "need at least 3"},
		{"bow tie", Polygon{{0, 0}, {2, 2}, {2, 0}, {0, 2}}, "edges 0 and 2 intersect at (1, 1)"},
		{"closed with repeat", Polygon{{0, 0}, {1, 0}, {1, 1}, {0, 0}}, "vertices 0 and 3 coincide"},
		{"collinear", Polygon{{0, 0}, {1, 0}, {2, 0}}, "fold back"},
		{"spike", Polygon{{0, 0}, {4, 0}, {2, 0}, {2, 2}}, "fold back"},
		{"touching vertex", Polygon{{0, 0}, {4, 0}, {4, 4}, {2, 0.000}, {0, 4}}, "intersect"},
		{"nan", Polygon{{0, 0}, {1, math.NaN()}, {1, 1}}, "not finite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.pg.Valid()
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.err)
		})
	}
}

// convexPolygon draws vertices on a circle, one per equal angular sector,
// which always gives a convex polygon with positive area.
func convexPolygon(t *rapid.T) Polygon {
	n := rapid.IntRange(3, 12).Draw(t, "n")
	cx := rapid.Float64Range(-1e4, 1e4).Draw(t, "cx")
	cy := rapid.Float64Range(-1e4, 1e4).Draw(t, "cy")
	r := rapid.Float64Range(0.1, 1e3).Draw(t, "r")
	pg := make(Polygon, n)
	for i := range n {
		u := rapid.Float64Range(0.1, 0.9).Draw(t, "u")
		a := 2 * math.Pi * (float64(i) + u) / float64(n)
		pg[i] = Point{cx + r*math.Cos(a), cy + r*math.Sin(a)}
	}
	return pg
}

func TestConvexPolygonContainsCentroid(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pg := convexPolygon(t)
		require.NoError(t, pg.Valid())
		require.True(t, pg.Contains(pg.Centroid()))
	})
}

func TestContainsTranslationInvariant(t *testing.T) {
	// Integer coordinates keep every difference exact, so the property is
	// exact rather than up to rounding; polygons may self-intersect.
	coord := rapid.IntRange(-1000, 1000)
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(3, 10).Draw(t, "n")
		pg := make(Polygon, n)
		for i := range pg {
			pg[i] = Point{float64(coord.Draw(t, "x")), float64(coord.Draw(t, "y"))}
		}
		p := Point{float64(coord.Draw(t, "px")), float64(coord.Draw(t, "py"))}
		d := Point{float64(rapid.IntRange(-1e6, 1e6).Draw(t, "dx")), float64(rapid.IntRange(-1e6, 1e6).Draw(t, "dy"))}
		moved := make(Polygon, n)
		for i, v := range pg {
			moved[i] = v.Add(d)
		}
		require.Equal(t, pg.Contains(p), moved.Contains(p.Add(d)))
	})
}

func TestContainsVerticesAndEdgeMidpoints(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pg := convexPolygon(t)
		for i := range pg {
			require.True(t, pg.Contains(pg[i]), "vertex %d", i)
			mid := pg[i].Add(pg[(i+1)%len(pg)]).Scale(0.5)
			require.True(t, pg.Contains(mid), "edge %d midpoint", i)
		}
	})
}
