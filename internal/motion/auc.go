package motion

import (
	"math"
	"sort"
)

// AUC returns the ROC area under the curve of scores against binary labels
// using the rank (Mann–Whitney U) formula; tied scores receive their average
// rank, which counts a positive/negative tie as one half. It returns NaN when
// either class is empty or the lengths differ.
func AUC(scores []float64, labels []bool) float64 {
	n := len(scores)
	if n != len(labels) {
		return math.NaN()
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var rankSumPos float64
	var nPos, nNeg int
	for i := 0; i < n; {
		j := i
		for j+1 < n && scores[idx[j+1]] == scores[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1 // 1-based average rank of the tie group
		for k := i; k <= j; k++ {
			if labels[idx[k]] {
				rankSumPos += avg
				nPos++
			} else {
				nNeg++
			}
		}
		i = j + 1
	}
	if nPos == 0 || nNeg == 0 {
		return math.NaN()
	}
	u := rankSumPos - float64(nPos)*float64(nPos+1)/2
	return u / (float64(nPos) * float64(nNeg))
}
