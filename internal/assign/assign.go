// Package assign solves the linear assignment problem (minimum-cost
// bipartite matching) used by the tracker to pair tracks with detections and
// by the MOT metrics to pair ground-truth ids with predicted ids.
//
// It is the O(n³) shortest-augmenting-path Hungarian algorithm with row and
// column potentials, on a rectangular cost matrix. No maintained Go library
// covers rectangular matrices with a gating threshold, hence this package.
package assign

import "math"

// Forbidden marks a pair that must never be matched.
var Forbidden = math.Inf(1)

// Solve pairs rows with columns at minimum total cost. cost[i][j] is the
// cost of pairing row i with column j; math.Inf(1) forbids a pair. Only
// pairs whose cost is at most maxCost are returned, so a caller gates with
// a threshold without editing the matrix. The result maps each row to its
// column, or -1 when the row is unmatched.
func Solve(cost [][]float64, maxCost float64) []int {
	rows := len(cost)
	match := make([]int, rows)
	for i := range match {
		match[i] = -1
	}
	if rows == 0 || len(cost[0]) == 0 {
		return match
	}
	cols := len(cost[0])
	// Square the problem: padded and forbidden cells cost more than any
	// real solution, so they are chosen only when nothing better exists.
	n := rows
	if cols > n {
		n = cols
	}
	big := bigCost(cost, maxCost)
	sq := func(i, j int) float64 {
		if i >= rows || j >= cols {
			return big
		}
		c := cost[i][j]
		if c > maxCost || math.IsNaN(c) {
			return big
		}
		return c
	}
	colOf := hungarian(n, sq)
	for i := 0; i < rows; i++ {
		j := colOf[i]
		if j < cols && cost[i][j] <= maxCost {
			match[i] = j
		}
	}
	return match
}

// bigCost exceeds the sum of every admissible cost, so one padded cell
// always outweighs any set of real ones.
func bigCost(cost [][]float64, maxCost float64) float64 {
	sum := 1.0
	for _, row := range cost {
		for _, c := range row {
			if c <= maxCost && !math.IsNaN(c) {
				sum += math.Abs(c)
			}
		}
	}
	return sum * 2
}

// hungarian solves the square n×n problem, returning the column for each row.
func hungarian(n int, cost func(i, j int) float64) []int {
	u := make([]float64, n+1)
	v := make([]float64, n+1)
	p := make([]int, n+1) // p[j]: row (1-based) matched to column j
	way := make([]int, n+1)
	minv := make([]float64, n+1)
	used := make([]bool, n+1)
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = math.Inf(1)
			used[j] = false
		}
		for {
			used[j0] = true
			i0, delta, j1 := p[j0], math.Inf(1), 0
			for j := 1; j <= n; j++ {
				if used[j] {
					continue
				}
				cur := cost(i0-1, j-1) - u[i0] - v[j]
				if cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= n; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	colOf := make([]int, n)
	for j := 1; j <= n; j++ {
		if p[j] > 0 {
			colOf[p[j]-1] = j - 1
		}
	}
	return colOf
}
