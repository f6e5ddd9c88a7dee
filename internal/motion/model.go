package motion

import (
	"math"
	"sort"
)

const (
	// minMomentum separates cells with motion from empty ones when the
	// normal distribution is learnt; empty cells say nothing about how fast
	// and large normal movers are.
	minMomentum = 0.05
	// rowPool is how many cell rows either side share a row's statistics, so
	// that rows rarely walked in training still get a usable model.
	rowPool = 1
	// minRowWeight is the pooled observation count below which a row falls
	// back to the statistics of the whole frame.
	minRowWeight = 20
	// stdFloor keeps z-scores finite in rows with little training motion.
	stdFloor = 0.05
)

// rowModel holds, per cell row, the mean and standard deviation of cell
// momentum over training cells with motion. Rows rather than single cells,
// because perspective (object size and pixel speed) changes with the row,
// while a single cell sees too few training movers to estimate its tail.
type rowModel struct {
	gw, gh    int
	mean, std []float64 // [cell row]
}

// rowStats accumulates weighted moments of cell momentum per cell row.
type rowStats struct {
	gw       int
	n, s, s2 []float64 // [cell row]: weight, weighted sum, weighted squares
}

func newRowStats(gw, gh int) rowStats {
	return rowStats{gw: gw, n: make([]float64, gh), s: make([]float64, gh), s2: make([]float64, gh)}
}

// add counts the cells of one frame that have motion, each capped at
// limit[row] when limit is non-nil.
func (r rowStats) add(cells []float32, limit []float64) {
	for c, v := range cells {
		if v < minMomentum {
			continue
		}
		row, x := c/r.gw, float64(v)
		if limit != nil {
			x = math.Min(x, limit[row])
		}
		r.n[row]++
		r.s[row] += x
		r.s2[row] += x * x
	}
}

// decay multiplies all weights by f, forgetting old observations.
func (r rowStats) decay(f float64) {
	for i := range r.n {
		r.n[i] *= f
		r.s[i] *= f
		r.s2[i] *= f
	}
}

// model pools adjacent rows into per-row means and standard deviations.
func (r rowStats) model() rowModel {
	gh := len(r.n)
	m := rowModel{gw: r.gw, gh: gh, mean: make([]float64, gh), std: make([]float64, gh)}
	var tn, ts, ts2 float64
	for i := range gh {
		tn, ts, ts2 = tn+r.n[i], ts+r.s[i], ts2+r.s2[i]
	}
	for row := range gh {
		var n, s, s2 float64
		for k := max(row-rowPool, 0); k <= min(row+rowPool, gh-1); k++ {
			n, s, s2 = n+r.n[k], s+r.s[k], s2+r.s2[k]
		}
		if n < minRowWeight {
			n, s, s2 = tn, ts, ts2
		}
		m.mean[row], m.std[row] = meanStd(n, s, s2)
	}
	return m
}

// meanStd turns weighted moments into a mean and a floored deviation.
func meanStd(n, s, s2 float64) (float64, float64) {
	if n <= 0 {
		return 0, stdFloor
	}
	mu := s / n
	return mu, math.Max(math.Sqrt(math.Max(s2/n-mu*mu, 0)), stdFloor)
}

func fitModel(train []clipFeatures) rowModel {
	r := newRowStats(train[0].gw, train[0].gh)
	for _, cf := range train {
		for _, f := range cf.cells {
			r.add(f, nil)
		}
	}
	return r.model()
}

// cellZ returns the z-score of every cell of one frame.
func (m rowModel) cellZ(f []float32, z []float64) {
	for c, v := range f {
		r := c / m.gw
		z[c] = (float64(v) - m.mean[r]) / m.std[r]
	}
}

// frameScores scores every frame of a clip: the mean z-score of its topK
// cells, then a Gaussian temporal smoothing with the given sigma (in frames).
func (m rowModel) frameScores(cf clipFeatures, topK int, sigma float64) []float64 {
	nc := m.gw * m.gh
	raw := make([]float64, len(cf.cells))
	z := make([]float64, nc)
	k := min(max(topK, 1), nc)
	for t, f := range cf.cells {
		m.cellZ(f, z)
		sort.Float64s(z)
		var s float64
		for _, v := range z[nc-k:] {
			s += v
		}
		raw[t] = s / float64(k)
	}
	return smooth(raw, sigma)
}

// smooth applies a truncated (±3σ) Gaussian filter, renormalised at the ends.
func smooth(x []float64, sigma float64) []float64 {
	if sigma <= 0 {
		return append([]float64(nil), x...)
	}
	r := int(math.Ceil(3 * sigma))
	w := make([]float64, 2*r+1)
	for i := range w {
		d := float64(i - r)
		w[i] = math.Exp(-d * d / (2 * sigma * sigma))
	}
	out := make([]float64, len(x))
	for t := range x {
		var s, ws float64
		for i := -r; i <= r; i++ {
			j := t + i
			if j < 0 || j >= len(x) {
				continue
			}
			s += w[i+r] * x[j]
			ws += w[i+r]
		}
		out[t] = s / ws
	}
	return out
}

// minMax rescales x to [0,1]; a constant series maps to zeros.
func minMax(x []float64) []float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range x {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	out := make([]float64, len(x))
	if hi > lo {
		for i, v := range x {
			out[i] = (v - lo) / (hi - lo)
		}
	}
	return out
}
