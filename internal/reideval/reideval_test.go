package reideval

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func s(id, frame int, e ...float32) Sample { return Sample{ID: id, Frame: frame, Emb: e} }

// Segments cut by frame, average, and drop short ones.
func TestSegments(t *testing.T) {
	segs := Segments([]Sample{s(1, 0, 1, 0), s(1, 9, 0, 1), s(1, 10, 1, 0), s(2, 3, 0, 1), {ID: 2, Frame: 4}}, Options{SegmentFrames: 10, MinCrops: 1})
	require.Len(t, segs, 3)
	require.Equal(t, Segment{ID: 1, Index: 0, Crops: 2, Emb: []float32{0.70710677, 0.70710677}}, segs[0])
	require.Equal(t, 1, segs[1].Index)
	require.Len(t, Segments([]Sample{s(1, 0, 1, 0)}, Options{SegmentFrames: 10, MinCrops: 2}), 0)
}

// Perfectly separated identities give rank-1 and mAP of 1; a segment that
// is closest to another identity costs rank-1 and precision.
func TestEvaluate(t *testing.T) {
	clean := []Sample{s(1, 0, 1, 0), s(1, 10, 1, 0.1), s(2, 0, 0, 1), s(2, 10, 0.1, 1), s(3, 0, 0.7, 0.7)}
	r := Evaluate(clean, Options{SegmentFrames: 10})
	require.Equal(t, Result{Identities: 3, Segments: 5, Queries: 4, Rank1: 1, Rank5: 1, MAP: 1}, r)

	// Identity 1's two segments are each nearer identity 2 than each other.
	mixed := []Sample{s(1, 0, 1, 0), s(1, 10, 0, 1), s(2, 0, 0.6, 0.8), s(2, 10, 0.8, 0.6)}
	r = Evaluate(mixed, Options{SegmentFrames: 10})
	require.Equal(t, 4, r.Queries)
	// 1/0 ranks 2/1, 2/0, 1/1: AP 1/3. 1/1 ranks 2/0, 2/1, 1/0: AP 1/3.
	// 2/0 and 2/1 find each other first (cosine 0.96): AP 1.
	require.InDelta(t, 0.5, r.Rank1, 1e-9)
	require.InDelta(t, (1.0/3+1.0/3+1+1)/4, r.MAP, 1e-6)
}

func TestExcludeNeighbours(t *testing.T) {
	smp := []Sample{s(1, 0, 1, 0), s(1, 10, 1, 0), s(1, 20, 0.8, 0.6), s(2, 0, 0, 1)}
	all := Evaluate(smp, Options{SegmentFrames: 10})
	require.Equal(t, 3, all.Queries)
	strict := Evaluate(smp, Options{SegmentFrames: 10, ExcludeNeighbours: true})
	require.Equal(t, 2, strict.Queries, "the middle segment has only neighbours as true matches")
}
