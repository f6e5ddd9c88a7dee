package reid

import (
	"cmp"
	"math"
	"slices"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// Normalize scales v to unit length in place and returns it; a zero or
// non-finite vector is returned unchanged.
func Normalize(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	n := math.Sqrt(s)
	if n == 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return v
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}

// Cosine is the dot product of two embeddings: their cosine similarity
// when both are normalised. Vectors of different length give 0.
func Cosine(a, b []float32) float32 {
	if len(a) != len(b) {
		return 0
	}
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// Mean averages embeddings and normalises the result; nil entries are
// skipped, and none at all gives nil.
func Mean(embs [][]float32) []float32 {
	var sum []float32
	for _, e := range embs {
		if e == nil {
			continue
		}
		if sum == nil {
			sum = make([]float32, len(e))
		}
		for i := range min(len(sum), len(e)) {
			sum[i] += e[i]
		}
	}
	if sum == nil {
		return nil
	}
	return Normalize(sum)
}

// Crop quality thresholds: a good crop is tall enough to show clothing,
// shaped like a standing person, inside the frame and not covered by
// another box.
const (
	MinHeight   = 40   // pixels
	minAspect   = 1.2  // height / width
	maxAspect   = 5.0  //
	maxCovered  = 0.3  // fraction of the box inside another box
	edgeMargin  = 2.0  // pixels from the frame edge counted as cut off
	qualityNorm = 200. // height at which size stops adding to quality
)

// Quality scores a crop for embedding: 0 when it is unusable (small, cut
// off by the frame edge, badly shaped or more than 30 % covered by one of
// others), otherwise larger for taller, less covered boxes, at most 1.
func Quality(box geom.Box, frameW, frameH int, others []geom.Box) float64 {
	if box.H < MinHeight || box.W <= 0 {
		return 0
	}
	if a := box.H / box.W; a < minAspect || a > maxAspect {
		return 0
	}
	if box.X < edgeMargin || box.Y < edgeMargin || box.X2() > float64(frameW)-edgeMargin || box.Y2() > float64(frameH)-edgeMargin {
		return 0
	}
	covered := 0.0
	for _, o := range others {
		if o == box {
			continue
		}
		covered = math.Max(covered, box.Intersection(o)/box.Area())
	}
	if covered > maxCovered {
		return 0
	}
	return math.Min(box.H/qualityNorm, 1) * (1 - covered)
}

// Gallery keeps the best few embeddings of one track by crop quality and
// averages them. The zero value keeps DefaultKeep.
type Gallery struct {
	Keep  int // how many to keep (0: DefaultKeep)
	items []scored
}

// DefaultKeep is how many crops a Gallery averages by default.
const DefaultKeep = 8

type scored struct {
	q float64
	e []float32
}

// Add offers an embedding with its crop quality; quality ≤ 0 or a nil
// embedding is ignored. It reports whether the embedding was kept.
func (g *Gallery) Add(e []float32, quality float64) bool {
	if e == nil || quality <= 0 {
		return false
	}
	keep := cmp.Or(g.Keep, DefaultKeep)
	if len(g.items) >= keep && quality <= g.items[len(g.items)-1].q {
		return false
	}
	g.items = append(g.items, scored{quality, e})
	slices.SortStableFunc(g.items, func(a, b scored) int { return cmp.Compare(b.q, a.q) })
	if len(g.items) > keep {
		g.items = g.items[:keep]
	}
	return true
}

// Len is how many embeddings are kept.
func (g *Gallery) Len() int { return len(g.items) }

// Mean is the normalised average of the kept embeddings, nil when none.
func (g *Gallery) Mean() []float32 {
	embs := make([][]float32, len(g.items))
	for i, s := range g.items {
		embs[i] = s.e
	}
	return Mean(embs)
}

// Item is one kept embedding and its crop quality.
type Item struct {
	Quality float64
	Emb     []float32
}

// Items lists the kept embeddings, best first.
func (g *Gallery) Items() []Item {
	out := make([]Item, len(g.items))
	for i, s := range g.items {
		out[i] = Item{s.q, s.e}
	}
	return out
}
