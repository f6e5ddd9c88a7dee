// Package reideval scores re-identification embeddings with a
// segment-retrieval protocol on one tracked sequence: each identity's
// sightings are cut into fixed-length temporal segments, each segment is
// summarised by the mean of its embeddings, and every segment in turn is
// the query against all the others. It reports rank-1 accuracy and mean
// average precision (mAP), the usual ReID figures.
package reideval

import (
	"cmp"
	"fmt"
	"io"
	"slices"

	"github.com/vigil-cctv/vigil/internal/reid"
)

// Sample is one embedded crop of an identity.
type Sample struct {
	ID    int
	Frame int
	Emb   []float32
}

// Options shape the protocol.
type Options struct {
	// SegmentFrames is the segment length in source frames: frames
	// [k·L, (k+1)·L) of an identity's sightings form segment k.
	SegmentFrames int
	// MinCrops drops segments with fewer embedded crops.
	MinCrops int
	// ExcludeNeighbours, when set, also leaves out of a query's gallery the
	// segments of the same identity adjacent in time (k±1): a harder
	// figure, since neighbouring segments look alike.
	ExcludeNeighbours bool
}

// Segment is one identity's averaged embedding over a time slice.
type Segment struct {
	ID, Index, Crops int
	Emb              []float32
}

// Result is the protocol's outcome.
type Result struct {
	Identities int     `json:"identities"`
	Segments   int     `json:"segments"`
	Queries    int     `json:"queries"` // segments with at least one true match in their gallery
	Rank1      float64 `json:"rank1"`
	Rank5      float64 `json:"rank5"`
	MAP        float64 `json:"mAP"`
}

// Segments groups samples by identity and segment and averages each.
func Segments(samples []Sample, opt Options) []Segment {
	type key struct{ id, k int }
	groups := map[key][][]float32{}
	for _, s := range samples {
		if s.Emb == nil {
			continue
		}
		k := key{s.ID, s.Frame / max(opt.SegmentFrames, 1)}
		groups[k] = append(groups[k], s.Emb)
	}
	var segs []Segment
	for k, embs := range groups {
		if len(embs) < max(opt.MinCrops, 1) {
			continue
		}
		segs = append(segs, Segment{ID: k.id, Index: k.k, Crops: len(embs), Emb: reid.Mean(embs)})
	}
	slices.SortFunc(segs, func(a, b Segment) int { return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Index, b.Index)) })
	return segs
}

// Evaluate runs every segment as a query against the others.
func Evaluate(samples []Sample, opt Options) Result {
	segs := Segments(samples, opt)
	ids := map[int]bool{}
	var res Result
	for q := range segs {
		ids[segs[q].ID] = true
		ranked := rank(segs, q, opt)
		r1, r5, ap, ok := score(ranked, segs[q].ID)
		if !ok {
			continue
		}
		res.Queries++
		res.Rank1 += r1
		res.Rank5 += r5
		res.MAP += ap
	}
	res.Identities, res.Segments = len(ids), len(segs)
	if res.Queries > 0 {
		n := float64(res.Queries)
		res.Rank1, res.Rank5, res.MAP = res.Rank1/n, res.Rank5/n, res.MAP/n
	}
	return res
}

type hit struct {
	id  int
	sim float32
}

// rank orders the gallery of query q by similarity, best first; ties keep
// segment order so the result is deterministic.
func rank(segs []Segment, q int, opt Options) []hit {
	query := segs[q]
	var g []hit
	for i, s := range segs {
		if i == q || (opt.ExcludeNeighbours && s.ID == query.ID && abs(s.Index-query.Index) == 1) {
			continue
		}
		g = append(g, hit{s.ID, reid.Cosine(query.Emb, s.Emb)})
	}
	slices.SortStableFunc(g, func(a, b hit) int { return cmp.Compare(b.sim, a.sim) })
	return g
}

// score gives rank-1 and rank-5 hits and average precision of one ranked
// gallery; ok is false when it holds no true match.
func score(g []hit, id int) (r1, r5, ap float64, ok bool) {
	found := 0
	for i, h := range g {
		if h.id != id {
			continue
		}
		if found == 0 {
			r1 = b2f(i == 0)
			r5 = b2f(i < 5)
		}
		found++
		ap += float64(found) / float64(i+1)
	}
	if found == 0 {
		return 0, 0, 0, false
	}
	return r1, r5, ap / float64(found), true
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// WriteTable prints the result for a terminal.
func (r Result) WriteTable(w io.Writer) error {
	_, err := fmt.Fprintf(w, "identities %d  segments %d  queries %d\nrank-1 %.3f  rank-5 %.3f  mAP %.3f\n",
		r.Identities, r.Segments, r.Queries, r.Rank1, r.Rank5, r.MAP)
	return err
}
