package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, append(clustertest.IgnoreLeaks(),
		goleak.IgnoreTopFunction("time.Sleep"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)...)
}

// Short TTLs keep the failover tests quick; every wait is on a condition.
const (
	testNodeTTL   = 3 * time.Second
	testLeaderTTL = 3 * time.Second
	waitLimit     = 45 * time.Second // generous: two busy cores
)

// record is what the callbacks saw, in order, across all nodes.
type record struct {
	mu      sync.Mutex
	log     []callback
	running map[string][]Lease // camera → leases now running (should be ≤ 1)
	overlap []string           // cameras that ever ran on two nodes at once
	changed chan struct{}
}

type callback struct {
	assign bool
	l      Lease
}

func newRecord() *record {
	return &record{running: map[string][]Lease{}, changed: make(chan struct{})}
}

func (r *record) callbacks() WorkerCallbacks {
	return WorkerCallbacks{
		OnAssign: func(l Lease) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.log = append(r.log, callback{true, l})
			if len(r.running[l.Camera]) > 0 {
				r.overlap = append(r.overlap, l.Camera)
			}
			r.running[l.Camera] = append(r.running[l.Camera], l)
			r.notify()
		},
		OnRevoke: func(l Lease) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.log = append(r.log, callback{false, l})
			r.running[l.Camera] = slices.DeleteFunc(r.running[l.Camera], func(x Lease) bool { return x == l })
			r.notify()
		},
	}
}

func (r *record) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// waitFor waits until cond (called with the lock held) holds.
func (r *record) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok, ch := cond(), r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("timed out waiting for %s; running: %v", what, r.running)
		}
	}
}

// owners returns camera → node for running cameras (callers hold mu).
func (r *record) owners() map[string]string {
	out := map[string]string{}
	for cam, ls := range r.running {
		if len(ls) > 0 {
			out[cam] = ls[0].Node
		}
	}
	return out
}

// testNode is one in-process node: its own connection, its roles' loops.
type testNode struct {
	name   string
	c      *Cluster
	nc     *nats.Conn
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type nodeSpec struct {
	name     string
	roles    []string
	capacity float64
	server   int // which server's URL to list first
}

// testLog writes a node's log to the test's output.
func testLog(t *testing.T, node string) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil)).With("node", node)
}

func startNode(t *testing.T, cl *clustertest.Cluster, r *record, s nodeSpec) *testNode {
	t.Helper()
	return startNodeWith(t, cl, r.callbacks(), s)
}

// startNodeWith starts a node whose worker part (if any) runs cb.
func startNodeWith(t *testing.T, cl *clustertest.Cluster, cb WorkerCallbacks, s nodeSpec) *testNode {
	t.Helper()
	urls := cl.URLs()
	urls = append(urls[s.server:], urls[:s.server]...)
	nc, err := Connect(context.Background(), NATSOptions{URLs: urls, Name: s.name})
	require.NoError(t, err)
	c, err := Open(context.Background(), nc, Options{
		Node: s.name, Replicas: len(cl.Servers), NodeTTL: testNodeTTL, LeaderTTL: testLeaderTTL, MaxDeliver: 3,
		Log: testLog(t, s.name), // shown when the test fails
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	n := &testNode{name: s.name, c: c, nc: nc, cancel: cancel}
	n.goRun(func() error {
		return c.RunHeartbeat(ctx, HeartbeatOptions{Roles: s.roles, Capacity: func() float64 { return s.capacity }})
	})
	if slices.Contains(s.roles, RoleWorker) {
		n.goRun(func() error { return c.RunWorker(ctx, cb) })
	}
	if slices.Contains(s.roles, RoleCoordinator) {
		n.goRun(func() error { return c.RunCoordinator(ctx) })
	}
	t.Cleanup(n.stop)
	return n
}

func (n *testNode) goRun(fn func() error) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		_ = fn()
	}()
}

// stop shuts the node down cleanly (its heartbeat is deleted).
func (n *testNode) stop() {
	n.cancel()
	n.wg.Wait()
	n.nc.Close()
}

// kill is a crash as NATS sees it: the connection drops first, so nothing
// is cleaned up in the buckets; then the node's loops end.
func (n *testNode) kill() {
	n.nc.Close()
	n.cancel()
	n.wg.Wait()
}

func putCameras(t *testing.T, c *Cluster, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("cam-%02d", i)
		ids = append(ids, id)
		_, err := c.Config().PutCamera(context.Background(), CameraConfig{ID: id, FPS: 5})
		require.NoError(t, err)
	}
	return ids
}

// allRunningOnce: every camera runs on exactly one node, none elsewhere.
func allRunningOnce(r *record, cams []string) func() bool {
	return func() bool {
		for _, cam := range cams {
			if len(r.running[cam]) != 1 {
				return false
			}
		}
		return true
	}
}
