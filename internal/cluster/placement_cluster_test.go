package cluster

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
)

func TestClusterPlacementByCapacityAndCAS(t *testing.T) {
	cl := clustertest.Start(t, 3, clustertest.Options{})
	r := newRecord()
	nodes := []*testNode{
		startNode(t, cl, r, nodeSpec{"w1", []string{RoleWorker, RoleCoordinator}, 100, 0}),
		startNode(t, cl, r, nodeSpec{"w2", []string{RoleWorker}, 50, 1}),
		startNode(t, cl, r, nodeSpec{"w3", []string{RoleWorker}, 0, 2}),
	}
	cams := putCameras(t, nodes[0].c, 30)
	r.waitFor(t, "30 cameras running once", allRunningOnce(r, cams))

	r.mu.Lock()
	per := map[string]int{}
	for _, node := range r.owners() {
		per[node]++
	}
	require.Empty(t, r.overlap)
	r.mu.Unlock()
	require.Equal(t, map[string]int{"w1": 20, "w2": 10}, per, "100 and 50 fps of capacity hold 20 and 10 cameras at 5 fps; w3 has none to give")

	// A write at a stale revision is refused.
	ctx := context.Background()
	e, err := nodes[1].c.assign.Get(ctx, cams[0])
	require.NoError(t, err)
	stale := e.Revision()
	// cams[1] is assigned and configured, so the coordinator leaves its entry
	// alone; a stray entry could be removed between two writes.
	err = nodes[1].c.applyMove(ctx, Move{Camera: cams[1], To: "w3"})
	require.True(t, isConflict(err), "create over an existing entry: %v", err)
	err = nodes[1].c.applyMove(ctx, Move{Camera: cams[0], To: "w3", Rev: stale - 1})
	require.True(t, isConflict(err), "update at an old revision: %v", err)
	err = nodes[1].c.applyMove(ctx, Move{Camera: cams[0], Rev: stale + 100})
	require.True(t, isConflict(err), "delete at a wrong revision: %v", err)
	got, err := nodes[1].c.assign.Get(ctx, cams[0])
	require.NoError(t, err)
	require.Equal(t, stale, got.Revision(), "nothing changed the entry")

	// The coordinator deletes the assignment of a camera nobody configured.
	require.NoError(t, nodes[1].c.applyMove(ctx, Move{Camera: "cam-x", To: "w3"}))
	r.waitFor(t, "stray assignment removed", func() bool {
		_, err := nodes[1].c.assign.Get(ctx, "cam-x")
		return err != nil
	})

	// Removing a camera from the config stops it.
	require.NoError(t, nodes[0].c.Config().Delete(ctx, ConfigCamera, cams[3]))
	r.waitFor(t, "removed camera stopped", func() bool { return len(r.running[cams[3]]) == 0 })
	var a Assignment
	_ = json.Unmarshal(got.Value(), &a)
	require.NotEmpty(t, a.Node)
}
