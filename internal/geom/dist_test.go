package geom

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestSegmentDist(t *testing.T) {
	a, b := Point{X: 0, Y: 0}, Point{X: 10, Y: 0}
	require.InDelta(t, 3, SegmentDist(a, b, Point{X: 5, Y: 3}), 1e-12, "beside the middle")
	require.InDelta(t, 5, SegmentDist(a, b, Point{X: 13, Y: 4}), 1e-12, "beyond an end: to the end")
	require.InDelta(t, 5, SegmentDist(a, a, Point{X: 3, Y: 4}), 1e-12, "a degenerate segment is a point")
	sq := Polygon{{X: 0, Y: 0}, {X: 10, Y: 0}, {X: 10, Y: 10}, {X: 0, Y: 10}}
	require.InDelta(t, 2, sq.EdgeDist(Point{X: 2, Y: 5}), 1e-12, "inside")
	require.InDelta(t, 1, sq.EdgeDist(Point{X: 5, Y: 11}), 1e-12, "outside")
	require.Zero(t, sq.EdgeDist(Point{X: 10, Y: 4}), "on an edge")
}

// The distance to a segment is never more than to either end, and zero
// at both ends and anywhere between them.
func TestSegmentDistProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		coord := rapid.Float64Range(-1e3, 1e3)
		a := Point{X: coord.Draw(t, "ax"), Y: coord.Draw(t, "ay")}
		b := Point{X: coord.Draw(t, "bx"), Y: coord.Draw(t, "by")}
		p := Point{X: coord.Draw(t, "px"), Y: coord.Draw(t, "py")}
		d := SegmentDist(a, b, p)
		require.GreaterOrEqual(t, d, 0.0)
		require.LessOrEqual(t, d, math.Hypot(p.X-a.X, p.Y-a.Y)+1e-9)
		require.LessOrEqual(t, d, math.Hypot(p.X-b.X, p.Y-b.Y)+1e-9)
		s := rapid.Float64Range(0, 1).Draw(t, "s")
		require.InDelta(t, 0, SegmentDist(a, b, a.Add(b.Sub(a).Scale(s))), 1e-9)
	})
}
