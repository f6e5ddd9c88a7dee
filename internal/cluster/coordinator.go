package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Assignment is the value of a camera's entry in vigil_assign.
type Assignment struct {
	Node string `json:"node"`
	// MoveTo marks a planned move off a live Node (rebalancing): Node
	// stops the camera, then writes {Node: MoveTo} itself. Until then the
	// camera is Node's, and MoveTo must not start it. Empty in entries
	// written before rebalancing existed.
	MoveTo string `json:"move_to,omitempty"`
}

// moving reports a planned move in progress.
func (a Assignment) moving() bool { return a.MoveTo != "" && a.MoveTo != a.Node }

// RunCoordinator campaigns for the coordinator lease and, while it holds
// it, places cameras: on every change of the nodes, the assignments or
// the cameras, and every LeaderTTL/3. It returns when ctx ends, giving the
// lease up so another node takes over at once.
func (c *Cluster) RunCoordinator(ctx context.Context) error {
	st, err := c.watchPlacementState(ctx)
	if err != nil {
		return err
	}
	lw, err := c.leader.Watch(ctx, leaderKey)
	if err != nil {
		return fmt.Errorf("cluster: watch coordinator lease: %w", err)
	}
	defer func() { _ = lw.Stop() }()
	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-lw.Updates(): // the lease was released or expired: try now
			if e == nil || e.Operation() == jetstream.KeyValuePut {
				continue
			}
		case <-retry.C:
		}
		rev, err := c.leader.Create(ctx, leaderKey, []byte(c.opts.Node))
		if err == nil {
			c.opts.Log.Info("cluster: coordinator elected", "node", c.opts.Node)
			c.lead(ctx, rev, st)
			c.opts.Log.Info("cluster: coordinator lease ended", "node", c.opts.Node)
		} else if !errors.Is(err, jetstream.ErrKeyExists) && ctx.Err() == nil {
			c.opts.Log.Warn("cluster: coordinator campaign", "node", c.opts.Node, "err", err)
		}
		retry.Reset(c.opts.LeaderTTL / 2) // in case a release is missed
	}
}

// placementState mirrors what placement reads.
type placementState struct {
	nodes, assign, cameras *mirror
}

func (c *Cluster) watchPlacementState(ctx context.Context) (*placementState, error) {
	nodes, err := c.watchMirror(ctx, c.nodes, ">")
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	assign, err := c.watchMirror(ctx, c.assign, ">")
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	cameras, err := c.watchMirror(ctx, c.config, string(ConfigCamera)+".>")
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	return &placementState{nodes: nodes, assign: assign, cameras: cameras}, nil
}

// lead holds the lease from revision rev until it cannot be renewed or
// ctx ends.
func (c *Cluster) lead(ctx context.Context, rev uint64, st *placementState) {
	c.metrics.isLeader.Set(1)
	defer c.metrics.isLeader.Set(0)
	renewedAt := c.opts.Now()
	defer func() {
		// Give the lease up (only if still ours) so a successor starts now.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = c.leader.Delete(dctx, leaderKey, jetstream.LastRevision(rev))
	}()
	for _, m := range []*mirror{st.nodes, st.assign, st.cameras} {
		if err := m.wait(ctx); err != nil {
			return
		}
	}
	renew := time.NewTicker(c.opts.LeaderTTL / 3)
	defer renew.Stop()
	rb := newRebalancer()
	defer c.metrics.movesInProgress.Set(0)
	for {
		c.reconcile(ctx, st, rb)
		select {
		case <-ctx.Done():
			return
		case <-st.nodes.changed:
		case <-st.assign.changed:
		case <-st.cameras.changed:
		case <-renew.C:
			sent := c.opts.Now()
			rctx, cancel := context.WithTimeout(ctx, c.opts.LeaderTTL/3)
			next, err := c.leader.Update(rctx, leaderKey, []byte(c.opts.Node), rev)
			cancel()
			if err == nil {
				rev, renewedAt = next, sent
				continue
			}
			c.opts.Log.Warn("cluster: coordinator lease not renewed", "node", c.opts.Node, "err", err)
			// A refused update means another node holds the lease; a
			// lease we could not renew for most of its life is as good
			// as gone: stop deciding before a successor starts.
			if isConflict(err) || c.opts.Now().Sub(renewedAt) > c.opts.LeaderTTL*3/4 {
				return
			}
		}
	}
}

// reconcile plans and applies moves; every write is a compare-and-set,
// so a decision made on stale state fails and is remade on fresh state.
// Planned moves between live nodes (rebalance) come only once placement
// has nothing to do.
func (c *Cluster) reconcile(ctx context.Context, st *placementState, rb *rebalancer) {
	v := readPlacement(st)
	moves := Plan(v.cameras, v.nodes, v.current)
	c.applyAll(ctx, moves, c.apply)
	c.rebalance(ctx, rb, v, len(moves) == 0)
}

// applyAll runs fn on every move. Moves touch different keys, so they go
// out together (bounded): a cluster starting with thousands of cameras is
// placed in seconds, not one round trip at a time.
func (c *Cluster) applyAll(ctx context.Context, moves []Move, fn func(context.Context, Move)) {
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for _, m := range moves {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(ctx, m)
		})
	}
	wg.Wait()
}

func (c *Cluster) apply(ctx context.Context, m Move) {
	if err := c.applyMove(ctx, m); err != nil {
		if isConflict(err) {
			c.metrics.casConflicts.Inc()
			return
		}
		c.opts.Log.Warn("cluster: assignment not written", "camera", m.Camera, "to", m.To, "err", err)
		return
	}
	c.metrics.moves.WithLabelValues(placeReason(m)).Inc()
	c.opts.Log.Info("cluster: camera placed", "camera", m.Camera, "from", m.From, "to", m.To, "reason", placeReason(m))
}

// placeReason names why Plan made a move, for the moves metric.
func placeReason(m Move) string {
	switch {
	case m.To == "":
		return "removed"
	case m.From == "":
		return "placed"
	}
	return "failover"
}

func (c *Cluster) applyMove(ctx context.Context, m Move) error {
	if m.To == "" {
		return c.assign.Delete(ctx, m.Camera, jetstream.LastRevision(m.Rev))
	}
	b, _ := json.Marshal(Assignment{Node: m.To})
	var err error
	if m.Rev == 0 {
		_, err = c.assign.Create(ctx, m.Camera, b)
	} else {
		_, err = c.assign.Update(ctx, m.Camera, b, m.Rev)
	}
	return err
}

// placementView is one snapshot of what placement reads: enabled
// cameras, live worker nodes with their capacity, current assignments, and
// the planned moves in progress (camera → From, To, at the marked Rev).
type placementView struct {
	cameras []Demand
	nodes   []Capacity
	current map[string]Placed
	marked  map[string]Move
}

// placementInputs turns the mirrors into Plan's inputs.
func placementInputs(st *placementState) ([]Demand, []Capacity, map[string]Placed) {
	v := readPlacement(st)
	return v.cameras, v.nodes, v.current
}

func readPlacement(st *placementState) placementView {
	v := placementView{current: map[string]Placed{}, marked: map[string]Move{}}
	for _, e := range st.cameras.snapshot() {
		var cc CameraConfig
		if json.Unmarshal(e.Value(), &cc) != nil || cc.Disabled || ValidID(cc.ID) != nil {
			continue
		}
		v.cameras = append(v.cameras, Demand{Camera: cc.ID, FPS: cc.demand()})
	}
	for _, e := range st.nodes.snapshot() {
		var n NodeInfo
		if json.Unmarshal(e.Value(), &n) != nil || !slices.Contains(n.Roles, RoleWorker) {
			continue
		}
		v.nodes = append(v.nodes, Capacity{Node: e.Key(), FPS: n.CapacityFPS})
	}
	for k, e := range st.assign.snapshot() {
		// A marked entry is still its owner's: Plan sees it on Node, so it
		// stays while Node lives and is placed anew when Node dies.
		p, mark := decodePlaced(e.Value(), e.Revision())
		v.current[k] = p
		if mark != "" {
			v.marked[k] = Move{Camera: k, From: p.Node, To: mark, Rev: p.Rev}
		}
	}
	return v
}

// decodePlaced reads an assignment entry's value at revision rev: its
// placement, and the node a planned move is taking it to (empty when
// none). An unreadable entry counts as unassigned, at its revision.
func decodePlaced(value []byte, rev uint64) (Placed, string) {
	var a Assignment
	if json.Unmarshal(value, &a) != nil {
		return Placed{Rev: rev}, ""
	}
	if !a.moving() {
		return Placed{Node: a.Node, Rev: rev}, ""
	}
	return Placed{Node: a.Node, Rev: rev}, a.MoveTo
}

// Roles a node may hold.
const (
	RoleWorker      = "worker"
	RoleAPI         = "api"
	RoleCoordinator = "coordinator"
)

// isConflict reports a compare-and-set that lost: the entry changed (or
// appeared, or went) since it was read.
func isConflict(err error) bool {
	var api *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) ||
		errors.Is(err, jetstream.ErrKeyNotFound) ||
		errors.As(err, &api) && (api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}
