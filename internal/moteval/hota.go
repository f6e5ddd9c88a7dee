package moteval

import "math"

// hotaStats are the HOTA family averaged over the localisation thresholds.
type hotaStats struct {
	hota, detA, assA, locA float64
}

// numAlphas is len(np.arange(0.05, 0.99, 0.05)): thresholds 0.05 … 0.95.
const numAlphas = 19

// eps is numpy's float64 machine epsilon, which TrackEval uses to make its
// threshold comparisons tolerant.
const eps = 2.220446049250313e-16

// alpha returns TrackEval's a-th threshold, computed the way np.arange
// does (start + a·step) so that the values, and any comparison exactly at a
// threshold, are bit-identical.
func alpha(a int) float64 { return 0.05 + float64(a)*0.05 }

// hotaAcc accumulates, per threshold, the counts of TrackEval's hota.py.
type hotaAcc struct {
	tp, fn, fp [numAlphas]float64
	locSum     [numAlphas]float64
	matches    [numAlphas][][]float64 // gt id × pred id
}

// hota computes HOTA (Luiten et al., IJCV 2020) as TrackEval's
// metrics/hota.py does, step for step.
func hota(seq *sequence) hotaStats {
	gtCount, predCount := idCounts(seq)
	gas := globalAlignment(seq, gtCount, predCount)
	var acc hotaAcc
	for a := range acc.matches {
		acc.matches[a] = newMatrix(seq.numGTIDs, seq.numPredIDs)
	}
	for k := range seq.frames {
		acc.frame(&seq.frames[k], gas)
	}
	return acc.summarise(gtCount, predCount)
}

// idCounts is the number of boxes per gt id and per pred id.
func idCounts(seq *sequence) (gt, pred []float64) {
	gt, pred = make([]float64, seq.numGTIDs), make([]float64, seq.numPredIDs)
	for k := range seq.frames {
		for _, g := range seq.frames[k].gt {
			gt[g]++
		}
		for _, p := range seq.frames[k].pred {
			pred[p]++
		}
	}
	return gt, pred
}

// globalAlignment is TrackEval's global_alignment_score: a soft, whole-
// sequence Jaccard index between every gt id and pred id, computed before
// any matching. Each frame contributes, per pair, its IoU normalised by the
// IoU mass both boxes have with everything else in the frame, so that a
// pair that is the only plausible explanation of each other weighs 1 and an
// ambiguous one less. The per-frame matching then prefers pairs that agree
// with the sequence as a whole.
func globalAlignment(seq *sequence, gtCount, predCount []float64) [][]float64 {
	potential := newMatrix(seq.numGTIDs, seq.numPredIDs)
	for k := range seq.frames {
		f := &seq.frames[k]
		rowSum, colSum := make([]float64, len(f.gt)), make([]float64, len(f.pred))
		for i := range f.gt {
			for j := range f.pred {
				rowSum[i] += f.at(i, j)
				colSum[j] += f.at(i, j)
			}
		}
		for i, g := range f.gt {
			for j, p := range f.pred {
				sim := f.at(i, j)
				if denom := colSum[j] + rowSum[i] - sim; denom > eps {
					potential[g][p] += sim / denom
				}
			}
		}
	}
	for g, row := range potential {
		for p, pm := range row {
			row[p] = pm / (gtCount[g] + predCount[p] - pm)
		}
	}
	return potential
}

// frame matches one time step: a single max-sum assignment on
// global alignment × IoU (shared by all thresholds, as in TrackEval), after
// which each threshold keeps only the pairs whose IoU reaches it.
func (acc *hotaAcc) frame(f *frame, gas [][]float64) {
	nG, nP := float64(len(f.gt)), float64(len(f.pred))
	if len(f.gt) == 0 || len(f.pred) == 0 {
		for a := range numAlphas {
			acc.fn[a] += nG
			acc.fp[a] += nP
		}
		return
	}
	score := newMatrix(len(f.gt), len(f.pred))
	for i, g := range f.gt {
		for j, p := range f.pred {
			score[i][j] = gas[g][p] * f.at(i, j)
		}
	}
	rowMatch := maxWeightAssign(score)
	for a := range numAlphas {
		matched := 0.0
		for i, j := range rowMatch {
			if j < 0 {
				continue
			}
			if sim := f.at(i, j); sim >= alpha(a)-eps {
				matched++
				acc.locSum[a] += sim
				acc.matches[a][f.gt[i]][f.pred[j]]++
			}
		}
		acc.tp[a] += matched
		acc.fn[a] += nG - matched
		acc.fp[a] += nP - matched
	}
}

// summarise computes DetA, AssA, LocA and HOTA per threshold with
// TrackEval's guards against empty denominators, then averages them.
func (acc *hotaAcc) summarise(gtCount, predCount []float64) hotaStats {
	var out hotaStats
	for a := range numAlphas {
		tp := acc.tp[a]
		assSum := 0.0
		for g, row := range acc.matches[a] {
			for p, m := range row {
				if m > 0 {
					assSum += m * m / math.Max(1, gtCount[g]+predCount[p]-m)
				}
			}
		}
		assA := assSum / math.Max(1, tp)
		detA := tp / math.Max(1, tp+acc.fn[a]+acc.fp[a])
		locA := math.Max(1e-10, acc.locSum[a]) / math.Max(1e-10, tp)
		out.hota += math.Sqrt(detA * assA)
		out.detA += detA
		out.assA += assA
		out.locA += locA
	}
	out.hota /= numAlphas
	out.detA /= numAlphas
	out.assA /= numAlphas
	out.locA /= numAlphas
	return out
}
