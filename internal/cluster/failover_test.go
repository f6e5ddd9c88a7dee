package cluster

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
)

// assignRevisions reads every assignment's node and revision.
func assignRevisions(t *testing.T, c *Cluster) map[string]Placed {
	t.Helper()
	st, err := c.watchPlacementState(t.Context())
	require.NoError(t, err)
	require.NoError(t, st.assign.wait(t.Context()))
	_, _, cur := placementInputs(st)
	return cur
}

func leaderOf(t *testing.T, c *Cluster) string {
	t.Helper()
	e, err := c.leader.Get(context.Background(), leaderKey)
	if err != nil {
		return ""
	}
	return string(e.Value())
}

func TestFailoverCoordinatorDeathKeepsAssignments(t *testing.T) {
	cl := clustertest.Start(t, 3, clustertest.Options{})
	r := newRecord()
	c1 := startNode(t, cl, r, nodeSpec{"coord-1", []string{RoleCoordinator}, 0, 0})
	workers := []*testNode{
		startNode(t, cl, r, nodeSpec{"w1", []string{RoleWorker}, 50, 1}),
		startNode(t, cl, r, nodeSpec{"w2", []string{RoleWorker}, 50, 2}),
	}
	cams := putCameras(t, workers[0].c, 12)
	r.waitFor(t, "cameras placed", allRunningOnce(r, cams))
	require.Equal(t, "coord-1", leaderOf(t, workers[0].c))
	before := assignRevisions(t, workers[0].c)
	read, err := workers[1].c.Assignments(t.Context())
	require.NoError(t, err)
	require.Equal(t, before, read, "Assignments reads what the coordinator placed")

	// A second candidate waits while the first holds the lease.
	c2 := startNode(t, cl, r, nodeSpec{"coord-2", []string{RoleCoordinator}, 0, 1})
	w, err := workers[0].c.leader.Watch(t.Context(), leaderKey)
	require.NoError(t, err)
	c1.kill() // no release: the lease must expire
	for e := range w.Updates() {
		if e != nil && string(e.Value()) == "coord-2" {
			break
		}
	}
	// A KV read may be answered by a replica a moment behind the watch.
	waitCond(t, "coord-2's own read of the lease", func() bool { return leaderOf(t, c2.c) == "coord-2" })

	// The new coordinator has reconciled (a new camera is placed), and
	// nothing that was running moved.
	more := []string{"cam-new"}
	_, err = c2.c.Config().PutCamera(t.Context(), CameraConfig{ID: "cam-new"})
	require.NoError(t, err)
	r.waitFor(t, "new camera placed by the new coordinator", allRunningOnce(r, append(cams, more...)))
	after := assignRevisions(t, workers[0].c)
	for _, cam := range cams {
		require.Equal(t, before[cam], after[cam], "camera %s moved while its node lives", cam)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, cb := range r.log {
		require.True(t, cb.assign, "no camera was revoked: %+v", cb)
	}
}

func TestFailoverWorkerHeartbeatExpiresCamerasMove(t *testing.T) {
	cl := clustertest.Start(t, 3, clustertest.Options{})
	r := newRecord()
	startNode(t, cl, r, nodeSpec{"coord", []string{RoleCoordinator}, 0, 0})
	w1 := startNode(t, cl, r, nodeSpec{"w1", []string{RoleWorker}, 50, 0})
	w2 := startNode(t, cl, r, nodeSpec{"w2", []string{RoleWorker}, 50, 1})
	w3 := startNode(t, cl, r, nodeSpec{"w3", []string{RoleWorker}, 50, 2})
	cams := putCameras(t, w1.c, 15)
	r.waitFor(t, "cameras placed", allRunningOnce(r, cams))
	before := assignRevisions(t, w2.c)
	var lost []string
	for cam, p := range before {
		if p.Node == "w1" {
			lost = append(lost, cam)
		}
	}
	require.NotEmpty(t, lost)

	w1.kill()
	r.waitFor(t, "w1's cameras running elsewhere", func() bool {
		if !allRunningOnce(r, cams)() {
			return false
		}
		for _, cam := range lost {
			if r.running[cam][0].Node == "w1" {
				return false
			}
		}
		return true
	})
	after := assignRevisions(t, w3.c)
	for cam, p := range before {
		if p.Node != "w1" {
			require.Equal(t, p, after[cam], "camera %s on a live node stayed", cam)
			continue
		}
		require.Greater(t, after[cam].Rev, p.Rev, "the new owner's fence is larger")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Empty(t, r.overlap, "no camera ran on two nodes at once")
	// Fencing: w1 stopped each camera (self-fenced) before another node started it.
	for _, cam := range lost {
		revoked := -1
		for i, cb := range r.log {
			if cb.l.Camera != cam {
				continue
			}
			if !cb.assign && cb.l.Node == "w1" {
				revoked = i
			}
			if cb.assign && cb.l.Node != "w1" {
				require.GreaterOrEqual(t, revoked, 0, "%s started on %s before w1 stopped it", cam, cb.l.Node)
			}
		}
	}
}
