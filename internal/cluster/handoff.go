package cluster

import (
	"cmp"
	"context"
	"encoding/json"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Planned moves between live nodes (rebalancing) go through a handshake,
// so the old owner has stopped before the new one starts:
//
//  1. The coordinator marks the entry: {node: A} → {node: A, move_to: B},
//     a compare-and-set at the revision it read.
//  2. A's worker sees its camera marked, stops it (OnRevoke: it stops
//     publishing and saves its handover state), then writes {node: B} by
//     compare-and-set at the marked revision.
//  3. B starts the camera on that entry, with its revision as fence. A
//     marked entry is A's: B never starts a camera on one.
//
// Whatever happens in between is settled by the same compare-and-sets:
// if A dies, its heartbeat expires and Plan places the camera as it
// places any dead node's (A has stopped it by the self-fencing rule); if
// A lives but has not handed over within moveTimeout, or B is gone, the
// coordinator writes {node: A} back at the marked revision. Either write
// succeeds only if A's hand-over did not, and then A's fails: exactly one
// of them changes the entry, and B has started nothing.

// moveTimeout is how long the coordinator lets a live owner take to hand
// a marked camera over before it cancels the move.
func (c *Cluster) moveTimeout() time.Duration { return 2 * c.opts.NodeTTL }

// rebalanceQuiet is how long placement must rest before a round.
func (c *Cluster) rebalanceQuiet() time.Duration {
	if c.opts.RebalanceQuiet == 0 {
		return c.opts.NodeTTL
	}
	return c.opts.RebalanceQuiet
}

// rebalancer is what the coordinator remembers between reconciles, for
// one lease: when the placement inputs last changed, and since when each
// marked entry has been seen (on its own clock: a new coordinator starts
// counting afresh, which only delays a cancel).
type rebalancer struct {
	inputs uint64
	since  time.Time
	seen   map[string]markSeen
}

type markSeen struct {
	rev uint64
	at  time.Time
}

func newRebalancer() *rebalancer { return &rebalancer{seen: map[string]markSeen{}} }

// observe records the view at now: the inputs' fingerprint and the
// marked entries' first sighting.
func (rb *rebalancer) observe(v placementView, now time.Time) {
	if f := fingerprint(v); f != rb.inputs || rb.since.IsZero() {
		rb.inputs, rb.since = f, now
	}
	for cam, m := range v.marked {
		if s, ok := rb.seen[cam]; !ok || s.rev != m.Rev {
			rb.seen[cam] = markSeen{rev: m.Rev, at: now}
		}
	}
	maps.DeleteFunc(rb.seen, func(cam string, _ markSeen) bool { _, ok := v.marked[cam]; return !ok })
}

// rebalance cancels stalled planned moves and, when placement is settled
// (Plan had nothing to do, no move is in progress, nothing changed for
// rebalanceQuiet), marks the next round of Rebalance's moves. One round
// at a time keeps the number of cameras stopped at once small.
func (c *Cluster) rebalance(ctx context.Context, rb *rebalancer, v placementView, settled bool) {
	now := c.opts.Now()
	rb.observe(v, now)
	c.metrics.movesInProgress.Set(float64(len(v.marked)))
	c.applyAll(ctx, stalledMoves(v, rb.seen, now, c.moveTimeout()), c.cancelMove)
	quiet := c.rebalanceQuiet()
	if !settled || len(v.marked) > 0 || quiet < 0 || now.Sub(rb.since) < quiet {
		return
	}
	c.metrics.balanceChecks.Inc()
	c.applyAll(ctx, Rebalance(v.cameras, v.nodes, v.current, RebalanceMoves), c.markMove)
}

// stalledMoves lists the marked entries to write back to their owner:
// the owner lives (a dead owner's cameras are Plan's) and either the
// target is no longer a live worker or the owner has had the mark for
// longer than timeout. Each comes back as a Move to the owner at the
// marked revision.
func stalledMoves(v placementView, seen map[string]markSeen, now time.Time, timeout time.Duration) []Move {
	live := map[string]bool{}
	for _, n := range v.nodes {
		live[n.Node] = true
	}
	var out []Move
	for _, cam := range slices.Sorted(maps.Keys(v.marked)) {
		m := v.marked[cam]
		s, ok := seen[cam]
		overdue := ok && s.rev == m.Rev && now.Sub(s.at) > timeout
		if live[m.From] && (!live[m.To] || overdue) {
			out = append(out, Move{Camera: cam, From: m.To, To: m.From, Rev: m.Rev})
		}
	}
	return out
}

// markMove writes step 1 of the handshake for one of Rebalance's moves.
func (c *Cluster) markMove(ctx context.Context, m Move) {
	b, _ := json.Marshal(Assignment{Node: m.From, MoveTo: m.To})
	if _, err := c.assign.Update(ctx, m.Camera, b, m.Rev); err != nil {
		c.casFailed(m, "mark move", err)
		return
	}
	c.metrics.rebalance.WithLabelValues("started").Inc()
	c.opts.Log.Info("cluster: rebalance: camera marked to move", "camera", m.Camera, "from", m.From, "to", m.To, "rev", m.Rev)
}

// cancelMove gives a stalled marked camera back to its owner, which
// restarts it (a new fence) unless it has handed it over meanwhile.
func (c *Cluster) cancelMove(ctx context.Context, m Move) {
	b, _ := json.Marshal(Assignment{Node: m.To})
	if _, err := c.assign.Update(ctx, m.Camera, b, m.Rev); err != nil {
		c.casFailed(m, "cancel move", err)
		return
	}
	c.metrics.rebalance.WithLabelValues("cancelled").Inc()
	c.opts.Log.Warn("cluster: rebalance: move not completed; camera given back", "camera", m.Camera, "owner", m.To, "target", m.From, "rev", m.Rev)
}

func (c *Cluster) casFailed(m Move, what string, err error) {
	if isConflict(err) {
		c.metrics.casConflicts.Inc()
		return
	}
	c.opts.Log.Warn("cluster: rebalance: "+what+" not written", "camera", m.Camera, "err", err)
}

// fingerprint identifies the placement inputs, so a change of any camera
// (or its demand), of the set of workers, or of any assignment (its
// revision) restarts the quiet period. Capacities are left out: a
// measured capacity moves a little at every heartbeat, and Rebalance's
// slack already ignores small changes of share.
func fingerprint(v placementView) uint64 {
	h := fnv.New64a()
	put := func(s ...string) {
		for _, x := range s {
			h.Write([]byte(x))
			h.Write([]byte{0})
		}
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	for _, d := range slices.SortedFunc(slices.Values(v.cameras), func(a, b Demand) int { return cmp.Compare(a.Camera, b.Camera) }) {
		put("c", d.Camera, f(d.FPS))
	}
	for _, n := range slices.SortedFunc(slices.Values(v.nodes), func(a, b Capacity) int { return cmp.Compare(a.Node, b.Node) }) {
		put("n", n.Node)
	}
	for _, cam := range slices.Sorted(maps.Keys(v.current)) {
		put("a", cam, v.current[cam].Node, strconv.FormatUint(v.current[cam].Rev, 10))
	}
	return h.Sum64()
}

// handoff is a camera of this worker marked to move to node to, at
// revision rev.
type handoff struct {
	to  string
	rev uint64
}

// handOver does step 2 of the handshake for every camera marked to move
// off this node. It runs after sync has stopped the cameras no longer
// assigned, marked ones included, so none of them is running here. A
// conflict means the entry changed (move cancelled, camera removed or
// placed elsewhere): the watch brings the new value. Other errors are
// retried at the next wake while the mark stands.
func (wk *worker) handOver(ctx context.Context) {
	for _, cam := range slices.Sorted(maps.Keys(wk.handoffs)) {
		h := wk.handoffs[cam]
		if _, running := wk.running[cam]; running {
			continue // not stopped: never hand over a running camera
		}
		err := wk.c.handOff(ctx, cam, h)
		switch {
		case err == nil:
			delete(wk.handoffs, cam)
			wk.c.metrics.moves.WithLabelValues("rebalance").Inc()
			wk.c.opts.Log.Info("cluster: rebalance: camera handed over", "camera", cam, "from", wk.c.opts.Node, "to", h.to, "rev", h.rev)
		case isConflict(err):
			delete(wk.handoffs, cam)
			wk.c.opts.Log.Info("cluster: rebalance: hand-over overtaken", "camera", cam, "to", h.to, "rev", h.rev, "err", err)
		default:
			wk.c.opts.Log.Warn("cluster: rebalance: hand-over not written; will retry", "camera", cam, "to", h.to, "err", err)
		}
	}
}

func (c *Cluster) handOff(ctx context.Context, cam string, h handoff) error {
	b, _ := json.Marshal(Assignment{Node: h.to})
	wctx, cancel := context.WithTimeout(ctx, c.opts.NodeTTL/3)
	defer cancel()
	_, err := c.assign.Update(wctx, cam, b, h.rev)
	return err
}
