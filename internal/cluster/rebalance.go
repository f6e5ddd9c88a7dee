package cluster

import (
	"cmp"
	"maps"
	"math"
	"slices"
)

// RebalanceMoves is how many cameras one rebalancing round moves at most.
const RebalanceMoves = 4

// Rebalance plans a few moves, at most limit, from nodes over their fair
// share to nodes under it, so that a worker that joins after placement
// gets cameras. It is meant for a settled placement (Plan has nothing to
// do): every wanted camera on a live node.
//
// The coordinator calls it once placement has rested (see rebalance in
// handoff.go) and applies its moves only through the stop-before-start
// handshake: a plain reassignment between two live nodes would let both
// run the camera until the old one sees the change. It starts no round
// while a move is in progress, so one round's moves are all it has
// stopped at once.
//
// The rule: a node's fair share is the cameras' total demand split in
// proportion to the live nodes' capacity (equally when none reports
// one), and its slack the larger of a tenth of its share and twice the
// largest camera's demand (the cluster's, so that a node with no camera
// or a tiny share is not beyond its slack by a fraction of one camera:
// Plan's greedy placement is then already balanced). A round starts only when some node is further
// from its share than its slack, over or under: a placement within the
// slack everywhere is left exactly as it is, so a new coordinator on a
// balanced cluster moves nothing. A move takes, from the node furthest
// over its share that can give one, its camera with the highest id that
// leaves it no more than half that camera under its share, to the node
// furthest under its share, which must end no more than half the camera
// over it. Each move lowers the sum of the squared excesses, so moves
// never undo each other and rounds end. It is deterministic like Plan.
func Rebalance(cameras []Demand, nodes []Capacity, current map[string]Placed, limit int) []Move {
	loads, byNode := rebalanceLoads(cameras, nodes, current)
	if len(loads) < 2 || !slices.ContainsFunc(loads, func(l *shareLoad) bool { return math.Abs(l.excess()) > l.slack() }) {
		return nil
	}
	var moves []Move
	for len(moves) < limit {
		from, to, i := nextMove(loads, byNode)
		if from == nil {
			break
		}
		cams := byNode[from.node]
		d := cams[i]
		byNode[from.node] = slices.Delete(cams, i, i+1)
		from.fps -= d.FPS
		to.fps += d.FPS
		p := current[d.Camera]
		moves = append(moves, Move{Camera: d.Camera, From: p.Node, To: to.node, Rev: p.Rev})
	}
	return moves
}

// nextMove picks the next move: the taker is the node furthest under its
// share (no other could take a camera it cannot), the giver the node
// furthest over its share that has a camera that fits, and the camera its
// highest-id one that does; nil when none fits.
func nextMove(loads []*shareLoad, byNode map[string][]Demand) (from, to *shareLoad, cam int) {
	to = slices.MinFunc(loads, func(a, b *shareLoad) int {
		return cmp.Or(cmp.Compare(a.excess(), b.excess()), cmp.Compare(a.node, b.node))
	})
	givers := slices.Clone(loads)
	slices.SortFunc(givers, func(a, b *shareLoad) int {
		return cmp.Or(cmp.Compare(b.excess(), a.excess()), cmp.Compare(a.node, b.node))
	})
	for _, from := range givers {
		cams := byNode[from.node]
		for i := len(cams) - 1; i >= 0; i-- {
			if fits(from, to, cams[i].FPS) {
				return from, to, i
			}
		}
	}
	return nil, nil, 0
}

// fits reports whether a camera of demand d may move from one node to
// the other: the giver stays above half of it under its share, the taker
// at most half of it over.
func fits(from, to *shareLoad, d float64) bool {
	return d > 0 && from.excess() > d/2 && to.excess()+d <= d/2
}

// shareLoad is a live node's load against its fair share.
type shareLoad struct {
	node       string
	fps, share float64
	largest    float64 // the largest camera's demand on any live node
}

func (l *shareLoad) excess() float64 { return l.fps - l.share }

func (l *shareLoad) slack() float64 { return max(l.share/10, 2*l.largest) }

// rebalanceLoads sums each live node's placed demand and its fair share;
// byNode lists each node's cameras by id. Cameras not on a live node are
// left out: they are Plan's.
func rebalanceLoads(cameras []Demand, nodes []Capacity, current map[string]Placed) ([]*shareLoad, map[string][]Demand) {
	live := map[string]*shareLoad{}
	capacity := map[string]float64{}
	for _, n := range nodes {
		if live[n.Node] == nil {
			live[n.Node] = &shareLoad{node: n.Node}
			capacity[n.Node] = max(n.FPS, 0)
		}
	}
	byNode := map[string][]Demand{}
	total, totalCap, largest := 0.0, 0.0, 0.0
	for _, d := range cameras {
		if l := live[current[d.Camera].Node]; l != nil {
			l.fps += d.FPS
			largest = max(largest, d.FPS)
			total += d.FPS
			byNode[l.node] = append(byNode[l.node], d)
		}
	}
	for _, c := range capacity {
		totalCap += c
	}
	var loads []*shareLoad
	for _, name := range slices.Sorted(maps.Keys(live)) {
		l := live[name]
		l.largest = largest
		l.share = total / float64(len(live))
		if totalCap > 0 {
			l.share = total * capacity[name] / totalCap
		}
		slices.SortFunc(byNode[name], func(a, b Demand) int { return cmp.Compare(a.Camera, b.Camera) })
		loads = append(loads, l)
	}
	return loads, byNode
}
