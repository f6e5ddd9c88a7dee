package eventeval

import (
	"math"
	"slices"

	"github.com/vigil-cctv/vigil/internal/assign"
	"github.com/vigil-cctv/vigil/internal/event"
)

// edge is one compatible (gt, pred) pair; g and p index the rule's lists.
type edge struct {
	g, p int
	tiou float64
}

// matchRule matches the events of one rule; gi and pi index gt and pred.
// Compatible pairs are split into connected components and each is solved
// on its own: a long recording yields thousands of events per rule, and the
// O(n³) assignment on all of them at once would be needlessly slow when
// only temporally close events can ever pair.
func matchRule(gt, pred []event.Event, gi, pi []int, opt Options) []Match {
	var edges []edge
	for g, a := range gi {
		for p, b := range pi {
			if tiou, ok := compatible(gt[a], pred[b], opt); ok {
				edges = append(edges, edge{g, p, tiou})
			}
		}
	}
	var out []Match
	for _, comp := range components(len(gi), edges) {
		for _, e := range solve(comp) {
			out = append(out, Match{GT: gi[e.g], Pred: pi[e.p], TIoU: e.tiou})
		}
	}
	return out
}

// components groups edges by connected component of the bipartite graph
// whose nodes are gt 0..nGT-1 followed by the preds.
func components(nGT int, edges []edge) [][]edge {
	parent := map[int]int{}
	var find func(int) int
	find = func(x int) int {
		p, ok := parent[x]
		if !ok || p == x {
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	for _, e := range edges {
		parent[find(e.g)] = find(nGT + e.p)
	}
	byRoot := map[int][]edge{}
	var roots []int
	for _, e := range edges {
		r := find(e.g)
		if _, ok := byRoot[r]; !ok {
			roots = append(roots, r)
		}
		byRoot[r] = append(byRoot[r], e)
	}
	out := make([][]edge, len(roots))
	for i, r := range roots {
		out[i] = byRoot[r]
	}
	return out
}

// solve picks a one-to-one subset of a component's edges with the most
// pairs, then the least total cost 1 − tIoU (assign.Solve maximises the
// number of admissible pairs before minimising cost).
func solve(comp []edge) []edge {
	rows, cols := localIndex(comp, func(e edge) int { return e.g }), localIndex(comp, func(e edge) int { return e.p })
	cost := make([][]float64, len(rows))
	for i := range cost {
		cost[i] = make([]float64, len(cols))
		for j := range cost[i] {
			cost[i][j] = assign.Forbidden
		}
	}
	byCell := map[[2]int]edge{}
	for _, e := range comp {
		cell := [2]int{rows[e.g], cols[e.p]}
		cost[cell[0]][cell[1]] = 1 - e.tiou
		byCell[cell] = e
	}
	var out []edge
	for i, j := range assign.Solve(cost, 1) {
		if j >= 0 {
			out = append(out, byCell[[2]int{i, j}])
		}
	}
	return out
}

// localIndex numbers the distinct keys of the edges densely, in sorted
// order so the matrix, and hence any tie-break, is reproducible.
func localIndex(comp []edge, key func(edge) int) map[int]int {
	var keys []int
	for _, e := range comp {
		keys = append(keys, key(e))
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	idx := make(map[int]int, len(keys))
	for i, k := range keys {
		idx[k] = i
	}
	return idx
}

// compatible says whether pred b may match gt a, and their temporal IoU.
func compatible(a, b event.Event, opt Options) (float64, bool) {
	if a.Rule != b.Rule || a.Place() != b.Place() {
		return 0, false
	}
	if a.Rule == lineCrossing && a.Direction != "" && b.Direction != "" && a.Direction != b.Direction {
		return 0, false
	}
	if opt.ByCamera && a.Camera != "" && b.Camera != "" && a.Camera != b.Camera {
		return 0, false
	}
	if opt.RequireTrackOverlap && len(a.Tracks) > 0 && len(b.Tracks) > 0 && !shareTrack(a.Tracks, b.Tracks) {
		return 0, false
	}
	tiou, ok := temporalIoU(a, b, opt.Slack)
	return tiou, ok && tiou >= opt.MinOverlap
}

// temporalIoU is the IoU of the closed intervals widened by slack; ok is
// false when they are disjoint. Closed intervals let a point event inside
// another event overlap it (IoU 0), and two identical point events with no
// slack have IoU 1 rather than 0/0.
func temporalIoU(a, b event.Event, slack float64) (float64, bool) {
	s1, e1 := span(a, slack)
	s2, e2 := span(b, slack)
	lo, hi := math.Max(s1, s2), math.Min(e1, e2)
	if !(lo <= hi) { // also rejects NaN times
		return 0, false
	}
	union := math.Max(e1, e2) - math.Min(s1, s2)
	if union == 0 {
		return 1, true
	}
	return (hi - lo) / union, true
}

// span is the event's interval widened by slack; a reversed interval is
// put right rather than trusted, since Evaluate takes events from any source.
func span(e event.Event, slack float64) (float64, float64) {
	s, t := e.Start, e.End
	if t < s {
		s, t = t, s
	}
	return s - slack, t + slack
}

func shareTrack(a, b []int) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
