package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Lease is a camera handed to this worker. Fence is the revision of the
// assignment entry that handed it over: it only grows, so a later owner's
// fence is always larger. The worker passes it with everything it
// publishes and saves for the camera (Publisher, Handover).
type Lease struct {
	Camera string
	Node   string
	Fence  uint64
}

// WorkerCallbacks start and stop cameras. They are called one at a time
// from the worker's goroutine. OnRevoke must not return before the camera
// has stopped publishing: the fencing bound counts on it (see the package
// doc), so keep a camera's stop short (seconds, not minutes).
type WorkerCallbacks struct {
	OnAssign func(Lease)
	OnRevoke func(Lease)
}

// RunWorker watches the assignment bucket and runs the cameras assigned
// to this node through cb, until ctx ends (then every camera is revoked).
// It runs nothing until the node's heartbeat has been stored (run
// RunHeartbeat alongside), and it revokes every camera itself when no
// heartbeat has been stored for NodeTTL minus a quarter: before the
// server can expire the heartbeat and the coordinator can move them.
func (c *Cluster) RunWorker(ctx context.Context, cb WorkerCallbacks) error {
	start := func(ctx context.Context) (jetstream.KeyWatcher, error) { return c.assign.WatchAll(ctx) }
	w, err := start(ctx)
	if err != nil {
		return fmt.Errorf("cluster: watch assignments: %w", err)
	}
	defer func() {
		if w != nil {
			_ = w.Stop()
		}
	}()
	wk := &worker{c: c, cb: cb, assigned: map[string]Lease{}, running: map[string]Lease{}}
	defer wk.revokeAll()
	margin := c.opts.NodeTTL / 4
	for {
		sentAt, beaten := c.beatLease.state()
		valid := !sentAt.IsZero() && c.opts.Now().Before(sentAt.Add(c.opts.NodeTTL-margin))
		if !valid && len(wk.running) > 0 {
			c.metrics.fenced.Inc()
			c.opts.Log.Warn("cluster: heartbeat not stored for too long; stopping every camera", "node", c.opts.Node, "last", sentAt)
			wk.revokeAll()
		}
		if valid && wk.fresh == nil { // not while a reopened watch replays
			wk.sync(ctx, sentAt.Add(c.opts.NodeTTL-margin))
		}
		err := wk.wait(ctx, w, valid, sentAt.Add(c.opts.NodeTTL-margin), beaten)
		if errors.Is(err, errWatchEnded) && ctx.Err() == nil {
			_ = w.Stop()
			if w, err = c.reopen(ctx, c.assign.Bucket(), start); err != nil {
				return nil // ctx ended
			}
			wk.fresh, wk.freshHandoffs = map[string]Lease{}, map[string]handoff{}
			continue
		}
		if err != nil || ctx.Err() != nil {
			return err
		}
	}
}

// errWatchEnded is the assignment watch closing under the worker.
var errWatchEnded = errors.New("cluster: assignment watch ended")

// wait returns at the next assignment change, stored heartbeat, or lease
// expiry (when the lease is valid).
func (wk *worker) wait(ctx context.Context, w jetstream.KeyWatcher, valid bool, expires time.Time, beaten <-chan struct{}) error {
	var expiry <-chan time.Time
	if valid {
		t := time.NewTimer(expires.Sub(wk.c.opts.Now()))
		defer t.Stop()
		expiry = t.C
	}
	select {
	case <-ctx.Done():
	case <-beaten:
	case <-expiry:
	case e, ok := <-w.Updates():
		switch {
		case !ok:
			return errWatchEnded
		case e != nil:
			wk.see(e)
		case wk.fresh != nil: // a reopened watch has replayed the bucket
			wk.assigned, wk.fresh = wk.fresh, nil
			wk.handoffs, wk.freshHandoffs = wk.freshHandoffs, nil
		}
	}
	return nil
}

type worker struct {
	c                 *Cluster
	cb                WorkerCallbacks
	assigned, running map[string]Lease
	// handoffs are this node's cameras marked to move (see handoff.go):
	// not assigned any more, to hand over once stopped.
	handoffs map[string]handoff
	// fresh and freshHandoffs gather a reopened watch's replay of the
	// bucket until it is complete; nil otherwise.
	fresh         map[string]Lease
	freshHandoffs map[string]handoff
}

// see records what the bucket says about one camera: assigned here,
// marked to move off here, or neither. An entry of this node marked to
// move is not assigned: it is to stop, then hand over.
func (wk *worker) see(e jetstream.KeyValueEntry) {
	var a Assignment
	op := e.Operation()
	into, moving := wk.assigned, &wk.handoffs
	if wk.fresh != nil {
		into, moving = wk.fresh, &wk.freshHandoffs
	}
	delete(into, e.Key())
	delete(*moving, e.Key())
	if op != jetstream.KeyValuePut || json.Unmarshal(e.Value(), &a) != nil || a.Node != wk.c.opts.Node {
		return
	}
	if a.moving() {
		if *moving == nil {
			*moving = map[string]handoff{}
		}
		(*moving)[e.Key()] = handoff{to: a.MoveTo, rev: e.Revision()}
		return
	}
	into[e.Key()] = Lease{Camera: e.Key(), Node: a.Node, Fence: e.Revision()}
}

// sync makes the running cameras the assigned ones: stops first, then
// hands over the stopped cameras marked to move, then starts, so a camera
// re-handed at a new fence restarts with it. Hand-overs end by valid,
// the end of the heartbeat lease, so they never delay self-fencing.
func (wk *worker) sync(ctx context.Context, valid time.Time) {
	for cam, l := range wk.running {
		if a, ok := wk.assigned[cam]; !ok || a.Fence != l.Fence {
			wk.revoke(cam, l)
		}
	}
	hctx, cancel := context.WithDeadline(ctx, valid)
	wk.handOver(hctx)
	cancel()
	for _, cam := range slices.Sorted(maps.Keys(wk.assigned)) {
		if _, ok := wk.running[cam]; !ok {
			l := wk.assigned[cam]
			wk.running[cam] = l
			wk.setGauges()
			if wk.cb.OnAssign != nil {
				wk.cb.OnAssign(l)
			}
		}
	}
}

func (wk *worker) revoke(cam string, l Lease) {
	delete(wk.running, cam)
	wk.setGauges()
	if wk.cb.OnRevoke != nil {
		wk.cb.OnRevoke(l)
	}
}

func (wk *worker) revokeAll() {
	for _, cam := range slices.Sorted(maps.Keys(wk.running)) {
		wk.revoke(cam, wk.running[cam])
	}
}

func (wk *worker) setGauges() {
	wk.c.running.Store(int64(len(wk.running)))
	wk.c.metrics.assigned.Set(float64(len(wk.running)))
}
