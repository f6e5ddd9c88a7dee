package cluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/vigil-cctv/vigil/internal/config"
)

func TestClusterPlanPlacesByCapacity(t *testing.T) {
	var cams []Demand
	for i := range 10 {
		cams = append(cams, Demand{Camera: fmt.Sprintf("c%02d", i), FPS: 5})
	}
	moves := Plan(cams, []Capacity{{"big", 40}, {"small", 10}}, nil)
	per := map[string]int{}
	for _, m := range moves {
		require.Zero(t, m.Rev, "new assignments are creates")
		per[m.To]++
	}
	require.Equal(t, map[string]int{"big": 8, "small": 2}, per, "filled in proportion to capacity")
}

func TestClusterPlanMovesOnlyFromDeadNodes(t *testing.T) {
	cams := []Demand{{"a", 5}, {"b", 5}, {"c", 5}, {"d", 5}}
	cur := map[string]Placed{"a": {"n1", 11}, "b": {"n2", 12}, "c": {"n3", 13}, "d": {"n1", 14}, "gone": {"n2", 15}}
	moves := Plan(cams, []Capacity{{"n1", 100}, {"n2", 100}}, cur)
	require.Equal(t, []Move{
		{Camera: "gone", From: "n2", Rev: 15},
		{Camera: "c", From: "n3", To: "n2", Rev: 13},
	}, moves, "c leaves dead n3 for the emptier n2 at its revision; the removed camera is deleted; a, b, d stay")
}

func TestClusterPlanProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nodes := drawNodes(t, 0)
		nCams := rapid.IntRange(0, 40).Draw(t, "cameras")
		var cams []Demand
		cur := map[string]Placed{}
		for i := range nCams {
			id := fmt.Sprintf("c%d", i)
			cams = append(cams, Demand{id, float64(rapid.SampledFrom([]int{1, 5, 10}).Draw(t, "fps"))})
			if on := rapid.IntRange(-1, 6).Draw(t, "on"); on >= 0 {
				cur[id] = Placed{fmt.Sprintf("n%d", on), uint64(i + 1)}
			}
		}
		moves := Plan(cams, nodes, cur)

		// Deterministic whatever the input order.
		rev := func(x []Capacity) []Capacity {
			out := append([]Capacity(nil), x...)
			for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
				out[i], out[j] = out[j], out[i]
			}
			return out
		}
		camsRev := append([]Demand(nil), cams...)
		for i, j := 0, len(camsRev)-1; i < j; i, j = i+1, j-1 {
			camsRev[i], camsRev[j] = camsRev[j], camsRev[i]
		}
		require.ElementsMatch(t, moves, Plan(camsRev, rev(nodes), cur))

		live := map[string]bool{}
		for _, n := range nodes {
			live[n.Node] = true
		}
		after := map[string]string{}
		for k, p := range cur {
			after[k] = p.Node
		}
		for _, m := range moves {
			p, had := cur[m.Camera]
			require.Equal(t, p.Rev, m.Rev, "every change is at the revision read")
			require.Equal(t, had, m.Rev != 0)
			require.False(t, had && live[p.Node] && m.To != "", "stable: camera %s moved off live %s", m.Camera, p.Node)
			if m.To == "" {
				delete(after, m.Camera)
			} else {
				require.True(t, live[m.To])
				after[m.Camera] = m.To
			}
		}
		for _, d := range cams {
			if len(nodes) > 0 {
				require.True(t, live[after[d.Camera]], "camera %s runs on a live node", d.Camera)
			}
		}
		require.LessOrEqual(t, len(after), len(cams), "no assignment outlives its camera")
		require.Empty(t, Plan(cams, nodes, applied(cur, moves)), "a second round changes nothing")
	})
}

// applied is cur after moves, each written at a fresh revision.
func applied(cur map[string]Placed, moves []Move) map[string]Placed {
	out := map[string]Placed{}
	for k, v := range cur {
		out[k] = v
	}
	for i, m := range moves {
		if m.To == "" {
			delete(out, m.Camera)
			continue
		}
		out[m.Camera] = Placed{m.To, uint64(1000 + i)}
	}
	return out
}

// The config's rebalancing settings reach the node's options: a quiet
// period, or rebalancing off (negative).
func TestClusterFromConfigRebalance(t *testing.T) {
	c := &config.Cluster{Node: "a", RebalanceQuiet: config.Duration(30 * time.Second)}
	require.Equal(t, 30*time.Second, FromConfig(c, nil).Options.RebalanceQuiet)
	c.NoRebalance = true
	require.Negative(t, FromConfig(c, nil).Options.RebalanceQuiet)
}

// drawNodes draws up to 5 nodes (at least least) of capacity 0 to 60.
func drawNodes(t *rapid.T, least int) []Capacity {
	var nodes []Capacity
	for i := range rapid.IntRange(least, 5).Draw(t, "nodes") {
		nodes = append(nodes, Capacity{fmt.Sprintf("n%d", i), float64(rapid.IntRange(0, 60).Draw(t, "cap"))})
	}
	return nodes
}
