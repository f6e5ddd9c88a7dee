package cluster

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// placed puts n cameras of fps each on node, ids prefix0..prefixN-1.
func placed(cur map[string]Placed, cams *[]Demand, node, prefix string, n int, fps float64) {
	for i := range n {
		id := fmt.Sprintf("%s%02d", prefix, i)
		*cams = append(*cams, Demand{id, fps})
		cur[id] = Placed{node, uint64(len(cur) + 1)}
	}
}

// applyMoves returns the assignment after the moves, at fresh revisions.
func applyMoves(cur map[string]Placed, moves []Move) map[string]Placed {
	out := map[string]Placed{}
	for k, v := range cur {
		out[k] = v
	}
	for _, m := range moves {
		out[m.Camera] = Placed{m.To, out[m.Camera].Rev + 1000}
	}
	return out
}

func TestClusterRebalanceGivesAJoiningWorkerCameras(t *testing.T) {
	cur := map[string]Placed{}
	var cams []Demand
	placed(cur, &cams, "w1", "a", 15, 5)
	placed(cur, &cams, "w2", "b", 15, 5)
	nodes := []Capacity{{"w1", 100}, {"w2", 100}, {"w3", 100}}
	require.Empty(t, Plan(cams, nodes, cur), "placement alone never moves a camera off a live node")

	moves := Rebalance(cams, nodes, cur, RebalanceMoves)
	require.Equal(t, []Move{
		{Camera: "a14", From: "w1", To: "w3", Rev: 15},
		{Camera: "b14", From: "w2", To: "w3", Rev: 30},
		{Camera: "a13", From: "w1", To: "w3", Rev: 14},
		{Camera: "b13", From: "w2", To: "w3", Rev: 29},
	}, moves, "a few per round, from the most loaded node, highest id first, at the revision read")

	rounds := 1
	for ; len(moves) > 0; rounds++ {
		require.LessOrEqual(t, len(moves), RebalanceMoves)
		cur = applyMoves(cur, moves)
		moves = Rebalance(cams, nodes, cur, RebalanceMoves)
	}
	per := map[string]int{}
	for _, p := range cur {
		per[p.Node]++
	}
	require.Equal(t, map[string]int{"w1": 11, "w2": 11, "w3": 8}, per,
		"rounds go on while a node is beyond its slack (2 cameras here), and each round moves toward the share")
	require.Equal(t, 3, rounds, "two rounds of moves and a last one that finds nothing to do")
}

func TestClusterRebalanceLeavesANearlyFairPlacement(t *testing.T) {
	cur := map[string]Placed{}
	var cams []Demand
	placed(cur, &cams, "w1", "a", 12, 5) // share 10, slack 2 cameras
	placed(cur, &cams, "w2", "b", 9, 5)
	placed(cur, &cams, "w3", "c", 9, 5)
	require.Empty(t, Rebalance(cams, []Capacity{{"w1", 50}, {"w2", 50}, {"w3", 50}}, cur, RebalanceMoves),
		"within its slack, no camera moves")
	require.Empty(t, Rebalance(cams, []Capacity{{"w1", 50}}, cur, RebalanceMoves), "one node: nothing to balance")
}

func TestClusterRebalanceFollowsCapacity(t *testing.T) {
	cur := map[string]Placed{}
	var cams []Demand
	placed(cur, &cams, "big", "a", 40, 5)
	nodes := []Capacity{{"big", 40}, {"small", 10}}
	for moves := Rebalance(cams, nodes, cur, 1); len(moves) > 0; moves = Rebalance(cams, nodes, cur, 1) {
		cur = applyMoves(cur, moves)
	}
	per := map[string]int{}
	for _, p := range cur {
		per[p.Node]++
	}
	require.Equal(t, map[string]int{"big": 34, "small": 6}, per,
		"shares in proportion to capacity (32 and 8), to within the slack (max(share/10, 2 cameras))")
}

func TestClusterRebalanceProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nodes := drawNodes(t, 1)
		nNodes := len(nodes)
		var cams []Demand
		cur := map[string]Placed{}
		for i := range rapid.IntRange(0, 60).Draw(t, "cameras") {
			id := fmt.Sprintf("c%03d", i)
			cams = append(cams, Demand{id, float64(rapid.SampledFrom([]int{1, 5, 10}).Draw(t, "fps"))})
			cur[id] = Placed{fmt.Sprintf("n%d", rapid.IntRange(0, nNodes-1).Draw(t, "on")), uint64(i + 1)}
		}
		limit := rapid.IntRange(1, 6).Draw(t, "limit")
		for round := 0; ; round++ {
			require.Less(t, round, len(cams)+2, "rounds end")
			moves := Rebalance(cams, nodes, cur, limit)
			require.LessOrEqual(t, len(moves), limit)
			if len(moves) == 0 {
				break
			}
			require.Equal(t, moves, Rebalance(cams, nodes, cur, limit), "deterministic")
			require.Empty(t, Plan(cams, nodes, applyMoves(cur, moves)), "every camera stays on a live node")
			before := squaredExcess(cams, nodes, cur)
			for _, m := range moves {
				require.Equal(t, cur[m.Camera].Node, m.From)
				require.Equal(t, cur[m.Camera].Rev, m.Rev, "every change is at the revision read")
				require.NotEqual(t, m.From, m.To)
			}
			cur = applyMoves(cur, moves)
			require.Less(t, squaredExcess(cams, nodes, cur), before, "each round brings the nodes nearer their shares")
		}
		// Settled: every node within its slack, or no camera can move.
		loads, byNode := rebalanceLoads(cams, nodes, cur)
		for _, l := range loads {
			if math.Abs(l.excess()) <= l.slack() {
				continue
			}
			for _, from := range loads {
				for _, to := range loads {
					for _, d := range byNode[from.node] {
						require.False(t, fits(from, to, d.FPS), "%s could still move to %s", d.Camera, to.node)
					}
				}
			}
		}
	})
}

// squaredExcess sums the squares of the nodes' distances to their shares.
func squaredExcess(cams []Demand, nodes []Capacity, cur map[string]Placed) float64 {
	loads, _ := rebalanceLoads(cams, nodes, cur)
	sum := 0.0
	for _, l := range loads {
		sum += l.excess() * l.excess()
	}
	return sum
}

// What Plan places from scratch is already balanced: a cluster whose
// workers were all up when its cameras came moves nothing afterwards.
func TestClusterRebalanceLeavesPlansPlacement(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nodes := drawNodes(t, 1)
		var cams []Demand
		for i := range rapid.IntRange(0, 60).Draw(t, "cameras") {
			cams = append(cams, Demand{fmt.Sprintf("c%03d", i), float64(rapid.SampledFrom([]int{1, 5, 10}).Draw(t, "fps"))})
		}
		cur := applyMoves(map[string]Placed{}, Plan(cams, nodes, nil))
		require.Empty(t, Rebalance(cams, nodes, cur, RebalanceMoves))
	})
}
