package baseline

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// counts draws a histogram of non-negative counts, many of them zero, in
// stored (inflated) units.
func counts(t *rapid.T, k int) []float64 {
	scale := rapid.Float64Range(1e-3, 1e6).Draw(t, "scale")
	c := make([]float64, k)
	for i := range c {
		if rapid.Bool().Draw(t, "zero") {
			continue
		}
		c[i] = scale * rapid.Float64Range(0, 100).Draw(t, "count")
	}
	return c
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

// TestDecayedCountsProperty learns units at random model times through the
// real learning path and checks that the stored counts, read back at the
// end, are never negative and total the decayed sum Σ 2^(−(T−tᵢ)/H) —
// across rebases, which a short half-life forces.
func TestDecayedCountsProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		hl := time.Duration(rapid.Int64Range(int64(time.Second), int64(time.Hour)).Draw(t, "halfLife"))
		m, err := New(Config{HalfLife: hl}, testScene())
		require.NoError(t, err)
		c := cellXY{3, 4}
		want, n := 0.0, rapid.IntRange(1, 60).Draw(t, "n")
		var times []time.Duration
		for range n {
			m.mt += time.Duration(rapid.Int64Range(0, int64(30*hl)).Draw(t, "dt"))
			if m.dec.due(m.mt) {
				m.rebase()
			}
			m.inf = m.dec.inflation(m.mt)
			b := int8(rapid.IntRange(0, sizeBins-1).Draw(t, "bin"))
			m.learn(&learnable{class: 0, samples: []sampleRec{{c: c, hour: allHours, dir: -1, speed: -1, size: b}}})
			times = append(times, m.mt)
		}
		for _, at := range times {
			want += math.Exp2(-float64(m.mt-at) / float64(hl))
		}
		e := m.stats[statKey{c, allHours, 0}]
		require.NotNil(t, e)
		for _, v := range e.size {
			require.GreaterOrEqual(t, v, 0.0)
		}
		got := e.n / m.inf
		require.InDelta(t, want, got, 1e-9*max(1, want))
		require.InDelta(t, e.n, sum(e.size[:]), 1e-9*e.n)
	})
}

// TestDecayHalvesAfterHalfLife: a unit learned now weighs one half a
// half-life later, one quarter after two.
func TestDecayHalvesAfterHalfLife(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		hl := time.Duration(rapid.Int64Range(int64(time.Millisecond), int64(30*24*time.Hour)).Draw(t, "halfLife"))
		t0 := time.Duration(rapid.Int64Range(0, int64(100*24*time.Hour)).Draw(t, "t0"))
		at := t0 + time.Duration(rapid.Int64Range(0, int64(10*hl)).Draw(t, "at"))
		d := decay{halfLife: hl, t0: t0}
		w := d.inflation(at) // stored units of weight 1 added at `at`
		require.InDelta(t, 0.5, w/d.inflation(at+hl), 1e-9)
		require.InDelta(t, 0.25, w/d.inflation(at+2*hl), 1e-9)
	})
}

// TestHistogramProbabilitiesSumToOne checks the ordinal, count and heading
// smoothers are distributions, and that the tail functions are sums of
// the ordinal distribution.
func TestHistogramProbabilitiesSumToOne(t *testing.T) {
	tab := newTables()
	rapid.Check(t, func(t *rapid.T) {
		k := rapid.IntRange(2, maxBins).Draw(t, "bins")
		c := counts(t, k)
		a := rapid.Float64Range(1e-3, 1e3).Draw(t, "alpha")
		for _, tt := range []*tailTable{&tab.ord, &tab.occ} {
			p := tt.probs(c, a, nil)
			require.InDelta(t, 1, sum(p), 1e-9)
			for b := range k {
				require.Greater(t, p[b], 0.0)
				require.InDelta(t, sum(p[b:]), tt.upperTail(c, sum(c), b, a, uniformTail(b, k)), 1e-9)
			}
		}
		var d [dirBins]float64
		copy(d[:], counts(t, dirBins))
		s := 0.0
		for b := range dirBins {
			s += tab.dirProb(&d, sum(d[:]), b, a)
		}
		require.InDelta(t, 1, s, 1e-9)
	})
}

// TestSurpriseMonotone: surprise falls as probability rises; a rarer
// (larger) value is never less surprising in an upper tail; adding counts
// to a bin never makes it more surprising; and a class with more tracks
// at a place is never more surprising there.
func TestSurpriseMonotone(t *testing.T) {
	tab := newTables()
	rapid.Check(t, func(t *rapid.T) {
		p1 := rapid.Float64Range(0, 1).Draw(t, "p1")
		p2 := rapid.Float64Range(p1, 1).Draw(t, "p2")
		require.GreaterOrEqual(t, surprise(p1), surprise(p2))

		c := counts(t, speedBins)
		n, a := sum(c), 1.0
		for b := 1; b < speedBins; b++ {
			lo := surprise(tab.ord.upperTail(c, n, b-1, a, uniformTail(b-1, speedBins)))
			hi := surprise(tab.ord.upperTail(c, n, b, a, uniformTail(b, speedBins)))
			require.GreaterOrEqual(t, hi, lo-1e-12, "bin %d", b)
		}
		b := rapid.IntRange(0, speedBins-1).Draw(t, "bin")
		more := append([]float64(nil), c...)
		more[b] += rapid.Float64Range(0, 1e3).Draw(t, "extra")
		before := surprise(tab.ord.probs(c, a, nil)[b])
		after := surprise(tab.ord.probs(more, a, nil)[b])
		require.LessOrEqual(t, after, before+1e-12)

		var d [dirBins]float64
		copy(d[:], counts(t, dirBins))
		db := rapid.IntRange(0, dirBins-1).Draw(t, "dirBin")
		s0 := surprise(tab.dirProb(&d, sum(d[:]), db, a))
		d[db] += rapid.Float64Range(0, 1e3).Draw(t, "dirExtra")
		require.LessOrEqual(t, surprise(tab.dirProb(&d, sum(d[:]), db, a)), s0+1e-12)
	})
	t.Run("class", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			m, err := New(Config{}, testScene())
			require.NoError(t, err)
			f := &feat{c: cellXY{1, 1}, hour: allHours}
			other := rapid.Float64Range(minEvidence, 1e4).Draw(t, "other")
			mine := rapid.Float64Range(0, 1e4).Draw(t, "mine")
			score := func(mine float64) float64 {
				m.stats[statKey{f.c, allHours, 2}] = &classStats{tracks: mine}
				m.totals[cellKey{f.c, allHours}] = other + mine
				var v view
				m.fetch(&v, f.c, allHours, 2)
				return surprise(m.classMix(&v, f, 2).p)
			}
			require.GreaterOrEqual(t, score(mine), score(mine+rapid.Float64Range(0, 1e3).Draw(t, "extra"))-1e-12)
		})
	})
}

// TestPOTThreshold: the threshold never falls below the floor and never
// falls as the budget shrinks.
func TestPOTThreshold(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 400).Draw(t, "n")
		scores := make([]float64, n)
		for i := range scores {
			scores[i] = rapid.Float64Range(0, 20).Draw(t, "score")
		}
		hours := rapid.Float64Range(0, 48).Draw(t, "hours")
		floor := rapid.Float64Range(0.1, 6).Draw(t, "floor")
		b1 := rapid.Float64Range(1e-3, 100).Draw(t, "budget")
		b2 := rapid.Float64Range(1e-4, b1).Draw(t, "smaller")
		t1 := potThreshold(scores, hours, b1, floor)
		t2 := potThreshold(scores, hours, b2, floor)
		require.GreaterOrEqual(t, t1, floor)
		require.GreaterOrEqual(t, t2, t1)
		require.False(t, math.IsNaN(t1) || math.IsInf(t1, 0))
	})
}

// TestPOTFitsExponentialTail: on exponential scores (rate 1 per unit) at
// 1000 per hour, the score exceeded b times per hour is ln(1000/b).
func TestPOTFitsExponentialTail(t *testing.T) {
	scores := make([]float64, 24000)
	for i := range scores {
		// Evenly spaced quantiles of Exp(1): a noiseless sample.
		scores[i] = -math.Log(1 - (float64(i)+0.5)/float64(len(scores)))
	}
	for _, b := range []float64{0.1, 1, 10} {
		got := potThreshold(scores, 24, b, 0.01)
		require.InDelta(t, math.Log(1000/b), got, 0.15, "budget %v", b)
	}
}
