package cluster

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

func TestClusterAssignmentEncoding(t *testing.T) {
	b, err := json.Marshal(Assignment{Node: "w1"})
	require.NoError(t, err)
	require.JSONEq(t, `{"node":"w1"}`, string(b), "an unmarked entry is written as before")
	b, err = json.Marshal(Assignment{Node: "w1", MoveTo: "w2"})
	require.NoError(t, err)
	require.JSONEq(t, `{"node":"w1","move_to":"w2"}`, string(b))

	var a Assignment
	require.NoError(t, json.Unmarshal([]byte(`{"node":"w1"}`), &a), "an entry written before rebalancing")
	require.Equal(t, Assignment{Node: "w1"}, a)
	require.False(t, a.moving())
	require.True(t, Assignment{Node: "w1", MoveTo: "w2"}.moving())
	require.False(t, Assignment{Node: "w1", MoveTo: "w1"}.moving(), "a move to itself is no move")

	for _, c := range []struct {
		value string
		p     Placed
		to    string
	}{
		{`{"node":"w1"}`, Placed{"w1", 7}, ""},
		{`{"node":"w1","move_to":"w2"}`, Placed{"w1", 7}, "w2"},
		{`{"node":"w1","move_to":""}`, Placed{"w1", 7}, ""},
		{`{not json`, Placed{"", 7}, ""},
	} {
		p, to := decodePlaced([]byte(c.value), 7)
		require.Equal(t, c.p, p, c.value)
		require.Equal(t, c.to, to, c.value)
	}
}

// A marked entry is its owner's: Plan leaves it while the owner lives and
// places it like any dead node's camera when the owner is gone.
func TestClusterPlanWithMarkedEntries(t *testing.T) {
	cams := []Demand{{"a", 5}, {"b", 5}}
	mark := func(node, to string, rev uint64) Placed {
		b, _ := json.Marshal(Assignment{Node: node, MoveTo: to})
		p, got := decodePlaced(b, rev)
		require.Equal(t, to, got)
		return p
	}
	cur := map[string]Placed{"a": mark("n1", "n2", 11), "b": mark("n3", "n2", 12)}
	moves := Plan(cams, []Capacity{{"n1", 100}, {"n2", 100}}, cur)
	require.Equal(t, []Move{{Camera: "b", From: "n3", To: "n2", Rev: 12}}, moves,
		"a, marked on live n1, stays; b, marked on dead n3, is placed at its revision")
}

func TestClusterStalledMovesAreGivenBack(t *testing.T) {
	now := time.Unix(1000, 0)
	v := placementView{
		nodes: []Capacity{{"n1", 100}, {"n2", 100}},
		marked: map[string]Move{
			"fresh":   {Camera: "fresh", From: "n1", To: "n2", Rev: 5},
			"old":     {Camera: "old", From: "n1", To: "n2", Rev: 6},
			"remark":  {Camera: "remark", From: "n1", To: "n2", Rev: 9},
			"gone-to": {Camera: "gone-to", From: "n1", To: "n9", Rev: 7},
			"dead":    {Camera: "dead", From: "n9", To: "n2", Rev: 8},
		},
	}
	seen := map[string]markSeen{
		"fresh":  {5, now.Add(-time.Second)},
		"old":    {6, now.Add(-time.Minute)},
		"remark": {3, now.Add(-time.Minute)}, // seen at an older mark: this one is new
	}
	got := stalledMoves(v, seen, now, 10*time.Second)
	require.Equal(t, []Move{
		{Camera: "gone-to", From: "n9", To: "n1", Rev: 7},
		{Camera: "old", From: "n2", To: "n1", Rev: 6},
	}, got, "back to the live owner at the marked revision: overdue, or the target gone; a dead owner's camera is Plan's")
}

func TestClusterRebalancerQuietPeriod(t *testing.T) {
	rb := newRebalancer()
	t0 := time.Unix(1000, 0)
	v := placementView{
		cameras: []Demand{{"a", 5}, {"b", 5}},
		nodes:   []Capacity{{"n1", 100}, {"n2", 100}},
		current: map[string]Placed{"a": {"n1", 1}, "b": {"n1", 2}},
		marked:  map[string]Move{"b": {Camera: "b", From: "n1", To: "n2", Rev: 2}},
	}
	rb.observe(v, t0)
	require.Equal(t, t0, rb.since)
	require.Equal(t, markSeen{2, t0}, rb.seen["b"])

	same := v
	same.cameras = []Demand{{"b", 5}, {"a", 5}} // another order: the same inputs
	rb.observe(same, t0.Add(time.Second))
	require.Equal(t, t0, rb.since, "unchanged inputs keep the quiet period running")
	require.Equal(t, markSeen{2, t0}, rb.seen["b"], "a mark is timed from its first sighting")

	measured := v
	measured.nodes = []Capacity{{"n1", 97.5}, {"n2", 101}}
	rb.observe(measured, t0.Add(time.Second))
	require.Equal(t, t0, rb.since, "a capacity measured anew at a heartbeat is no change")

	moved := v
	moved.current = map[string]Placed{"a": {"n1", 1}, "b": {"n2", 3}}
	moved.marked = map[string]Move{}
	rb.observe(moved, t0.Add(2*time.Second))
	require.Equal(t, t0.Add(2*time.Second), rb.since, "an assignment change restarts it")
	require.Empty(t, rb.seen, "a completed move is forgotten")
}

// The worker treats its own marked entry as to hand over, not to run; the
// target does not run it either until the entry names it.
func TestClusterWorkerSeesMarkedEntries(t *testing.T) {
	see := func(node string, values ...string) *worker {
		wk := &worker{c: &Cluster{opts: Options{Node: node}}, assigned: map[string]Lease{}}
		for i, v := range values {
			wk.see(entry{"cam-1", v, uint64(i + 1), jetstream.KeyValuePut})
		}
		return wk
	}
	w1 := see("w1", `{"node":"w1"}`, `{"node":"w1","move_to":"w2"}`)
	require.Empty(t, w1.assigned)
	require.Equal(t, map[string]handoff{"cam-1": {to: "w2", rev: 2}}, w1.handoffs)
	w2 := see("w2", `{"node":"w1"}`, `{"node":"w1","move_to":"w2"}`)
	require.Empty(t, w2.assigned, "a move_to entry owned by another node does not start here")
	require.Empty(t, w2.handoffs)
	w2 = see("w2", `{"node":"w1","move_to":"w2"}`, `{"node":"w2"}`)
	require.Equal(t, map[string]Lease{"cam-1": {Camera: "cam-1", Node: "w2", Fence: 2}}, w2.assigned)
	w1 = see("w1", `{"node":"w1","move_to":"w2"}`, `{"node":"w1"}`)
	require.Empty(t, w1.handoffs, "a cancelled move is the owner's again, at a new fence")
	require.Equal(t, map[string]Lease{"cam-1": {Camera: "cam-1", Node: "w1", Fence: 2}}, w1.assigned)
}
