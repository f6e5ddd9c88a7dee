package cluster

import (
	"cmp"
	"maps"
	"math"
	"slices"
)

// Demand is one camera that must run, with the analysed frames per second
// it needs.
type Demand struct {
	Camera string
	FPS    float64
}

// Capacity is one live worker node and what it sustains.
type Capacity struct {
	Node string
	FPS  float64
}

// Placed is a camera's current assignment: its node and the KV revision
// it was written at (the compare-and-set precondition of any change).
type Placed struct {
	Node string
	Rev  uint64
}

// Move is one change to the assignment bucket: put Camera on To (delete
// its assignment when To is empty), provided its entry is still at Rev (0:
// it must not exist).
type Move struct {
	Camera string
	From   string
	To     string
	Rev    uint64
}

// Plan computes the moves that bring the assignments in line with the
// cameras and the live nodes. It is deterministic (the same state gives
// the same moves, whatever the order of the inputs) and stable: a camera
// whose node is alive never moves. Cameras that are unassigned, or whose
// node is gone, go one at a time (largest demand first, then by id) to
// the node whose load against its capacity is lowest once the camera is
// added (so nodes fill in proportion to capacity, and a placement from
// scratch is one Rebalance leaves as it is), then the least loaded, the
// fewest cameras, by name; nodes reporting no capacity take cameras only
// when none reports one. When every node is full cameras still go on, in
// the same proportion, so no camera is left unrun while a worker lives.
// Assignments of cameras no longer wanted are deleted.
func Plan(cameras []Demand, nodes []Capacity, current map[string]Placed) []Move {
	want := make(map[string]bool, len(cameras))
	for _, d := range cameras {
		want[d.Camera] = true
	}
	live := make(map[string]*nodeLoad, len(nodes))
	var loads []*nodeLoad
	for _, n := range nodes {
		if live[n.Node] == nil {
			l := &nodeLoad{node: n.Node, capacity: n.FPS}
			live[n.Node] = l
			loads = append(loads, l)
		}
	}
	var moves []Move
	for _, cam := range slices.Sorted(maps.Keys(current)) {
		if p := current[cam]; !want[cam] {
			moves = append(moves, Move{Camera: cam, From: p.Node, Rev: p.Rev})
		}
	}
	var pending []Demand
	for _, d := range cameras {
		if l := live[current[d.Camera].Node]; l != nil {
			l.add(d.FPS)
			continue
		}
		pending = append(pending, d)
	}
	if len(loads) == 0 {
		return moves
	}
	slices.SortFunc(pending, func(a, b Demand) int {
		return cmp.Or(cmp.Compare(b.FPS, a.FPS), cmp.Compare(a.Camera, b.Camera))
	})
	for _, d := range pending {
		best := slices.MinFunc(loads, func(a, b *nodeLoad) int { return a.better(b, d.FPS) })
		best.add(d.FPS)
		p := current[d.Camera]
		moves = append(moves, Move{Camera: d.Camera, From: p.Node, To: best.node, Rev: p.Rev})
	}
	return moves
}

type nodeLoad struct {
	node          string
	capacity, fps float64
	cameras       int
}

func (l *nodeLoad) add(fps float64) { l.fps += fps; l.cameras++ }

// better orders nodes best first for a camera of demand d: the lowest
// load against capacity once it is added, so that nodes fill in
// proportion to their capacity, as Rebalance's fair shares say (a node
// reporting no capacity comes last); then the least load, the fewest
// cameras, the name.
func (l *nodeLoad) better(o *nodeLoad, d float64) int {
	return cmp.Or(cmp.Compare(l.relative(d), o.relative(d)), cmp.Compare(l.fps, o.fps),
		cmp.Compare(l.cameras, o.cameras), cmp.Compare(l.node, o.node))
}

// relative is the node's load over its capacity with d added (+Inf
// without capacity).
func (l *nodeLoad) relative(d float64) float64 {
	if l.capacity <= 0 {
		return math.Inf(1)
	}
	return (l.fps + d) / l.capacity
}
