package cluster

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
)

// noOverlap replays the callback log (one order across all workers) and
// fails if a camera was ever started while another lease of it ran.
func noOverlap(t *testing.T, r *record) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Empty(t, r.overlap, "no camera ran on two nodes at once")
	running := map[string]*Lease{}
	for i, cb := range r.log {
		cur := running[cb.l.Camera]
		if cb.assign {
			require.Nil(t, cur, "callback %d: %s started on %s (fence %d) while running on %+v", i, cb.l.Camera, cb.l.Node, cb.l.Fence, cur)
			running[cb.l.Camera] = &cb.l
			continue
		}
		require.NotNil(t, cur, "callback %d: %s stopped on %s but was not running", i, cb.l.Camera, cb.l.Node)
		require.Equal(t, *cur, cb.l, "callback %d: stopped lease is the running one", i)
		running[cb.l.Camera] = nil
	}
}

// perNode counts running cameras by node (callers hold r.mu).
func perNode(r *record) map[string]int {
	out := map[string]int{}
	for _, n := range r.owners() {
		out[n]++
	}
	return out
}

// settledShares: every camera runs once, each listed node runs between lo
// and hi of them, and no move is marked in the bucket.
func settledShares(t *testing.T, r *record, c *Cluster, cams []string, lo, hi int, nodes ...string) func() bool {
	return func() bool {
		if !allRunningOnce(r, cams)() {
			return false
		}
		per := perNode(r)
		for _, n := range nodes {
			if per[n] < lo || per[n] > hi {
				return false
			}
		}
		return len(markedEntries(t, c)) == 0
	}
}

// markedEntries reads the assignments marked to move.
func markedEntries(t *testing.T, c *Cluster) map[string]Assignment {
	t.Helper()
	out := map[string]Assignment{}
	keys, err := c.assign.ListKeys(context.Background())
	require.NoError(t, err)
	for k := range keys.Keys() {
		e, err := c.assign.Get(context.Background(), k)
		if err != nil {
			continue
		}
		var a Assignment
		if json.Unmarshal(e.Value(), &a) == nil && a.moving() {
			out[k] = a
		}
	}
	return out
}

// waitOnRecord waits on the record's changes and, because the bucket is
// not part of the record, also polls now and then.
func waitOnRecord(t *testing.T, r *record, what string, cond func() bool) {
	t.Helper()
	waitCond(t, what, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return cond()
	})
}

func TestClusterRebalanceLateWorkerGetsItsShare(t *testing.T) {
	cl := clustertest.Start(t, 3, clustertest.Options{})
	r := newRecord()
	coord := startNode(t, cl, r, nodeSpec{"coord", []string{RoleCoordinator}, 0, 0})
	w1 := startNode(t, cl, r, nodeSpec{"w1", []string{RoleWorker}, 50, 1})
	w2 := startNode(t, cl, r, nodeSpec{"w2", []string{RoleWorker}, 50, 2})
	cams := putCameras(t, w1.c, 12)
	r.waitFor(t, "cameras placed on w1 and w2", allRunningOnce(r, cams))

	w3 := startNode(t, cl, r, nodeSpec{"w3", []string{RoleWorker}, 50, 0})
	waitOnRecord(t, r, "w3 runs its share (4 of 12), every camera once, no move pending",
		settledShares(t, r, w3.c, cams, 4, 4, "w1", "w2", "w3"))
	noOverlap(t, r)

	handedOver := testutil.ToFloat64(w1.c.metrics.moves.WithLabelValues("rebalance")) +
		testutil.ToFloat64(w2.c.metrics.moves.WithLabelValues("rebalance"))
	require.Equal(t, 4.0, handedOver, "w3's cameras came by hand-over from w1 and w2")
	require.GreaterOrEqual(t, testutil.ToFloat64(coord.c.metrics.rebalance.WithLabelValues("started")), 4.0)
	require.Zero(t, testutil.ToFloat64(coord.c.metrics.rebalance.WithLabelValues("cancelled")))
	require.Zero(t, testutil.ToFloat64(coord.c.metrics.movesInProgress))
	r.mu.Lock()
	defer r.mu.Unlock()
	// Each camera w3 runs was stopped by its old owner before w3 started it
	// (noOverlap), at a larger fence.
	for cam, ls := range r.running {
		if ls[0].Node != "w3" {
			continue
		}
		var prev Lease
		for _, cb := range r.log {
			if cb.l.Camera == cam && cb.l.Node != "w3" && !cb.assign {
				prev = cb.l
			}
		}
		require.NotEmpty(t, prev.Node, "%s was stopped on its old node", cam)
		require.Greater(t, ls[0].Fence, prev.Fence, "%s: the new owner's fence is larger", cam)
	}
}

// blockFirstRevoke wraps r's callbacks so the worker's first OnRevoke
// reports its lease on revoking and returns only once release is called
// (idempotent; the test also calls it at cleanup, so a failure does not
// leave the worker blocked).
func blockFirstRevoke(r *record) (cb WorkerCallbacks, revoking chan Lease, release func()) {
	cb = r.callbacks()
	revoking = make(chan Lease, 1)
	released := make(chan struct{})
	var first, closing sync.Once
	inner := cb.OnRevoke
	cb.OnRevoke = func(l Lease) {
		first.Do(func() {
			revoking <- l
			<-released
		})
		inner(l)
	}
	return cb, revoking, func() { closing.Do(func() { close(released) }) }
}

func receive(t *testing.T, ch chan Lease, what string) Lease {
	t.Helper()
	select {
	case l := <-ch:
		return l
	case <-time.After(waitLimit):
		t.Fatalf("timed out waiting for %s", what)
		return Lease{}
	}
}

func TestFailoverWorkerDiesMidMove(t *testing.T) {
	cl := clustertest.Start(t, 3, clustertest.Options{})
	r := newRecord()
	startNode(t, cl, r, nodeSpec{"coord", []string{RoleCoordinator}, 0, 0})
	cb, revoking, release := blockFirstRevoke(r)
	w1 := startNodeWith(t, cl, cb, nodeSpec{"w1", []string{RoleWorker}, 50, 1})
	t.Cleanup(release) // runs before w1's stop
	cams := putCameras(t, w1.c, 6)
	r.waitFor(t, "cameras on w1", allRunningOnce(r, cams))
	w2 := startNode(t, cl, r, nodeSpec{"w2", []string{RoleWorker}, 50, 2})

	// w1 is stopping a camera marked to move to w2: it crashes there,
	// before it could hand the camera over.
	l := receive(t, revoking, "w1 stopping a camera marked to move")
	// (A KV read may be answered by a replica a moment behind w1's watch.)
	waitCond(t, "the camera being stopped marked to move from w1 to w2", func() bool {
		return markedEntries(t, w2.c)[l.Camera] == Assignment{Node: "w1", MoveTo: "w2"}
	})
	w1.nc.Close()
	w1.cancel()
	release()
	w1.kill()

	r.waitFor(t, "every camera running once, on w2", func() bool {
		if !allRunningOnce(r, cams)() {
			return false
		}
		return perNode(r)["w2"] == len(cams)
	})
	noOverlap(t, r)
}

func TestFailoverStalledMoveIsGivenBack(t *testing.T) {
	cl := clustertest.Start(t, 3, clustertest.Options{})
	r := newRecord()
	coord := startNode(t, cl, r, nodeSpec{"coord", []string{RoleCoordinator}, 0, 0})
	cb, revoking, release := blockFirstRevoke(r)
	w1 := startNodeWith(t, cl, cb, nodeSpec{"w1", []string{RoleWorker}, 50, 1})
	t.Cleanup(release) // runs before w1's stop
	cams := putCameras(t, w1.c, 6)
	r.waitFor(t, "cameras on w1", allRunningOnce(r, cams))
	startNode(t, cl, r, nodeSpec{"w2", []string{RoleWorker}, 50, 2})

	// w1 lives but takes too long to stop a marked camera: the coordinator
	// gives it back to w1, and w2 never starts it meanwhile.
	l := receive(t, revoking, "w1 stopping a camera marked to move")
	waitCond(t, "the stalled move given back to w1", func() bool {
		e, err := w1.c.assign.Get(context.Background(), l.Camera)
		if err != nil {
			return false
		}
		var a Assignment
		return json.Unmarshal(e.Value(), &a) == nil && a == Assignment{Node: "w1"} && e.Revision() > l.Fence
	})
	r.mu.Lock()
	stillW1 := slices.Clone(r.running[l.Camera])
	r.mu.Unlock()
	require.Equal(t, []Lease{l}, stillW1, "still w1's alone while it stops")
	release()

	// Rebalance leaves a node within two cameras' demand of its share.
	waitOnRecord(t, r, "then balanced: 2 to 4 cameras each, every camera once, no move pending",
		settledShares(t, r, w1.c, cams, 2, 4, "w1", "w2"))
	noOverlap(t, r)
	require.GreaterOrEqual(t, testutil.ToFloat64(coord.c.metrics.rebalance.WithLabelValues("cancelled")), 1.0)
}

// A new coordinator on a nearly balanced cluster (5/4/4 cameras) checks it
// and moves nothing: Rebalance's slack leaves it exactly as it is.
func TestFailoverNewCoordinatorMovesNothingOnABalancedCluster(t *testing.T) {
	cl := clustertest.Start(t, 3, clustertest.Options{})
	r := newRecord()
	c1 := startNode(t, cl, r, nodeSpec{"coord-1", []string{RoleCoordinator}, 0, 0})
	w1 := startNode(t, cl, r, nodeSpec{"w1", []string{RoleWorker}, 50, 0})
	startNode(t, cl, r, nodeSpec{"w2", []string{RoleWorker}, 50, 1})
	startNode(t, cl, r, nodeSpec{"w3", []string{RoleWorker}, 50, 2})
	cams := putCameras(t, w1.c, 13)
	r.waitFor(t, "cameras placed", allRunningOnce(r, cams))
	checks := func(n *testNode) float64 { return testutil.ToFloat64(n.c.metrics.balanceChecks) }
	waitCond(t, "coord-1 checked the settled placement", func() bool { return checks(c1) >= 1 })
	before := assignRevisions(t, w1.c)

	c2 := startNode(t, cl, r, nodeSpec{"coord-2", []string{RoleCoordinator}, 0, 1})
	c1.kill()
	// Two checks: at least one on a placement that had rested since
	// coord-2 was elected.
	waitCond(t, "coord-2 checked the settled placement twice", func() bool { return checks(c2) >= 2 })
	require.Zero(t, testutil.ToFloat64(c2.c.metrics.rebalance.WithLabelValues("started")))
	require.Equal(t, before, assignRevisions(t, w1.c), "no camera moved, no entry was written")
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, cb := range r.log {
		require.True(t, cb.assign, "no camera was revoked: %+v", cb)
	}
}
