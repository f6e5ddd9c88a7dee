package moteval

import "github.com/vigil-cctv/vigil/internal/assign"

// idStats holds the identity true positives; IDFP and IDFN follow from the
// box counts.
type idStats struct {
	idtp int
}

// identity computes IDTP as in Ristani et al. 2016: each gt trajectory is
// paired with at most one predicted trajectory for the whole sequence, and
// the pairing maximises the number of frames in which paired boxes overlap
// at the threshold.
//
// The devkit's IDmeasures.m solves a (gt+pred)² assignment with dummy
// false-positive and false-negative nodes; the cost of pairing g with p
// there is |g| + |p| − 2·overlap(g,p) and of leaving either unpaired |g| or
// |p|, so minimising it is exactly maximising the summed overlap of the
// pairs. py-motmetrics and TrackEval solve this smaller gt×pred form, and so
// does this function.
func identity(seq *sequence, thr float64) idStats {
	overlap := newMatrix(seq.numGTIDs, seq.numPredIDs)
	for k := range seq.frames {
		f := &seq.frames[k]
		for i, g := range f.gt {
			for j, p := range f.pred {
				if overlaps(f.at(i, j), thr) {
					overlap[g][p]++
				}
			}
		}
	}
	idtp := 0.0
	for g, p := range maxWeightAssign(overlap) {
		if p >= 0 {
			idtp += overlap[g][p]
		}
	}
	return idStats{idtp: int(idtp)}
}

// maxWeightAssign pairs rows with columns one-to-one so that the total
// weight is largest, returning each row's column or -1. Every cell is
// admissible (negated weights, all ≤ 0 = maxCost): gating out zero cells
// instead would make assign.Solve prefer more pairs over heavier ones,
// which neither IDF1 nor HOTA wants (scipy's linear_sum_assignment, used by
// the references, is a plain max-sum too).
func maxWeightAssign(w [][]float64) []int {
	cost := make([][]float64, len(w))
	for i, row := range w {
		cost[i] = make([]float64, len(row))
		for j, v := range row {
			cost[i][j] = -v
		}
	}
	return assign.Solve(cost, 0)
}
