package baseline

import (
	"math"
	"slices"
	"time"
)

// Smoothing constants, shared by learning and scoring.
const (
	// alpha is the Dirichlet pseudo-count, in effective samples, spread
	// over a histogram's bins (uniformly, or by the global class mix for
	// the class feature).
	alpha = 1.0
	// ordinalRatio is the geometric kernel ratio per bin for the log-spaced
	// histograms: one bin away keeps a tenth of a count's spill-over, so a
	// value far beyond everything seen is much more surprising than one
	// just beyond, while a neighbour of common bins is not surprising.
	ordinalRatio = 0.1
	// dirRatio is the circular kernel ratio per heading bin (22.5°):
	// walking 20° off the usual heading is normal, walking against it not.
	dirRatio = 0.2
	// maxSurprise bounds -log10 p so that scores stay finite.
	maxSurprise = 300.0
	// rebaseAt is the inflation exponent (in half-lives) at which every
	// count is rescaled, long before float64 could overflow.
	rebaseAt = 40.0
)

// decay keeps counts in inflated units: a count added at model time t is
// stored as w·2^((t−t0)/H), so that decaying everything is a change of
// the reading factor, not a pass over every count. Actual weight now is
// stored·2^(−(now−t0)/H).
type decay struct {
	halfLife time.Duration
	t0       time.Duration
}

// inflation is the factor that turns an actual weight at now into stored
// units.
func (d decay) inflation(now time.Duration) float64 {
	return math.Exp2(float64(now-d.t0) / float64(d.halfLife))
}

// due reports whether stored counts should be rescaled at now.
func (d decay) due(now time.Duration) bool {
	return float64(now-d.t0)/float64(d.halfLife) > rebaseAt
}

// surprise is −log10 p, clamped to [0, maxSurprise].
func surprise(p float64) float64 {
	if !(p > 0) {
		return maxSurprise
	}
	if p >= 1 {
		return 0
	}
	return min(-math.Log10(p), maxSurprise)
}

// occRatio is the kernel ratio per occupancy bin: counts of people vary
// more from one half-second to the next than a walker's speed does, so a
// count a few above the usual is not yet surprising.
const occRatio = 0.3

// tables holds the precomputed kernel shares.
type tables struct {
	ord, occ tailTable
	// circ[d] is the share of a heading count that lands d bins away.
	circ [dirBins]float64
}

// maxBins bounds every ordinal histogram's bin count.
const maxBins = 40

// tailTable[d+maxBins] is the share of a count in bin j that a geometric
// kernel puts at bins ≥ j+d on an unbounded axis.
type tailTable [2*maxBins + 1]float64

func newTail(r float64) tailTable {
	var t tailTable
	for d := -maxBins; d <= maxBins; d++ {
		if d > 0 {
			t[d+maxBins] = math.Pow(r, float64(d)) / (1 + r)
		} else {
			t[d+maxBins] = 1 - math.Pow(r, float64(1-d))/(1+r)
		}
	}
	return t
}

func newTables() *tables {
	t := &tables{ord: newTail(ordinalRatio), occ: newTail(occRatio)}
	z := 0.0
	for d := range dirBins {
		t.circ[d] = math.Pow(dirRatio, float64(min(d, dirBins-d)))
		z += t.circ[d]
	}
	for d := range t.circ {
		t.circ[d] /= z
	}
	return t
}

// upperShare is the share of a count in bin j that smoothing puts at bins
// ≥ b of a k-bin histogram; mass beyond either end stays in the end bins.
func (t *tailTable) upperShare(b, j, k int) float64 {
	switch {
	case b <= 0:
		return 1
	case b >= k:
		return 0
	}
	return t[b-j+maxBins]
}

// upperTail is the smoothed probability of bin ≥ b, given stored counts c
// summing to n, the pseudo-count a in the same stored units, and the
// prior's (base measure's) own probability of bin ≥ b.
func (t *tailTable) upperTail(c []float64, n float64, b int, a, prior float64) float64 {
	k := len(c)
	if b <= 0 {
		return 1
	}
	s := 0.0
	for j, cj := range c {
		if cj != 0 {
			s += cj * t.upperShare(b, j, k)
		}
	}
	return min(1, (s+a*prior)/(n+a))
}

// uniformTail is a uniform prior's probability of bin ≥ b of k.
func uniformTail(b, k int) float64 {
	return float64(min(max(k-b, 0), k)) / float64(k)
}

// twoSided is the smoothed two-sided probability of bin b: twice the
// smaller tail, at most 1. up and next are the base measure's P(bin ≥ b)
// and P(bin ≥ b+1).
func (t *tailTable) twoSided(c []float64, n float64, b int, a, up, next float64) float64 {
	up = t.upperTail(c, n, b, a, up)
	down := 1 - t.upperTail(c, n, b+1, a, next)
	return min(1, 2*min(up, down))
}

// probs is the smoothed distribution of an ordinal histogram under a
// base measure (nil: uniform); the tail functions are sums of it.
func (t *tailTable) probs(c []float64, a float64, base []float64) []float64 {
	k := len(c)
	n := 0.0
	for _, v := range c {
		n += v
	}
	out := make([]float64, k)
	for i := range out {
		s := a / float64(k)
		if base != nil {
			s = a * base[i]
		}
		for j, cj := range c {
			s += cj * (t.upperShare(i, j, k) - t.upperShare(i+1, j, k))
		}
		out[i] = s / (n + a)
	}
	return out
}

// dirProb is the smoothed probability of heading bin b.
func (t *tables) dirProb(c *[dirBins]float64, n float64, b int, a float64) float64 {
	s := a / dirBins
	for j, cj := range c {
		if cj != 0 {
			s += cj * t.circ[(b-j+dirBins)%dirBins]
		}
	}
	return min(1, s/(n+a))
}

// logBin maps v to a log-spaced bin: bin 0 holds v < lo, bin i ≥ 1 holds
// [lo·ratio^(i−1), lo·ratio^i), the last bin is open.
func logBin(v, lo, ratio float64, k int) int {
	if !(v >= lo) {
		return 0
	}
	if math.IsInf(v, 1) {
		return k - 1
	}
	i := 1 + int(math.Floor(math.Log(v/lo)/math.Log(ratio)))
	return min(max(i, 1), k-1)
}

// binUpper is the upper edge of logBin's bin i (the last bin's lower edge
// for the open bin).
func binUpper(i int, lo, ratio float64, k int) float64 {
	if i >= k-1 {
		return lo * math.Pow(ratio, float64(k-2))
	}
	return lo * math.Pow(ratio, float64(i))
}

// binLower is the lower edge of logBin's bin i.
func binLower(i int, lo, ratio float64) float64 {
	if i <= 0 {
		return 0
	}
	return lo * math.Pow(ratio, float64(i-1))
}

// quantileBin is the first bin at which the raw (unsmoothed) cumulative
// share reaches q; the explanations quote observed data, not the prior.
func quantileBin(c []float64, q float64) int {
	n := 0.0
	for _, v := range c {
		n += v
	}
	s := 0.0
	for i, v := range c {
		s += v
		if s >= q*n {
			return i
		}
	}
	return len(c) - 1
}

// Calibration constants of the peaks-over-threshold fit.
const (
	potMinScores = 20  // fewer held-out scores: no fit
	potMinK      = 10  // least exceedances the tail is fitted to
	potMaxK      = 500 // most exceedances
	// potMinBeta is the lightest tail assumed, in surprise units: coarse
	// bins give many tied top scores, which would otherwise read as a tail
	// that ends right there.
	potMinBeta = 0.25
	// potPerHour sets u so that about this many scores per observed hour
	// exceed it: near the alert budget, so the tail is extrapolated only a
	// little and a small cluster of rare-but-normal scores (people on a
	// lane boundary) is fitted rather than averaged into the bulk. It does
	// not depend on the budget, which keeps the threshold monotone in it.
	potPerHour = 2.0
)

// potThreshold fits an exponential tail to the top scores and returns the
// score exceeded budget times per hour: with u the (k+1)-th largest score
// (k = potPerHour per observed hour, within [potMinK, potMaxK]), β the
// mean excess of the top k over u and λ = k/hours their rate, scores above
// u+x come at λ·e^(−x/β) per hour, which is the budget at
// x = β·ln(λ/budget). With too few scores it stays one unit above the
// highest seen. The result is never below floor.
func potThreshold(scores []float64, hours, budget, floor float64) float64 {
	n := len(scores)
	if n < potMinScores {
		top := 0.0
		for _, s := range scores {
			top = max(top, s)
		}
		return max(floor, top) + 1
	}
	s := slices.Clone(scores)
	slices.SortFunc(s, cmpDesc)
	hours = min(max(hours, 1.0/60), 1e6)
	k := min(max(int(math.Ceil(potPerHour*hours)), potMinK), potMaxK, n-1)
	u := s[k]
	beta := 0.0
	for _, v := range s[:k] {
		beta += v - u
	}
	beta = max(beta/float64(k), potMinBeta)
	lambda := float64(k) / hours
	return max(floor, u+beta*math.Log(lambda/budget))
}

func cmpDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}
