package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
)

func TestClusterConfigPropagatesByWatch(t *testing.T) {
	cl := clustertest.Start(t, 3, clustertest.Options{})
	api, worker := openNode(t, cl, "api", 0), openNode(t, cl, "w1", 2)
	ctx := context.Background()
	_, err := api.Config().Put(ctx, ConfigScene, "cam-1", []byte("version: 1\n"))
	require.NoError(t, err)

	changes := make(chan ConfigChange, 16)
	ready := make(chan struct{})
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- worker.Config().Watch(wctx, func(c ConfigChange) { changes <- c }, func() { close(ready) })
	}()
	next := func() ConfigChange {
		select {
		case c := <-changes:
			return c
		case <-time.After(waitLimit):
			t.Fatal("no config change arrived")
			return ConfigChange{}
		}
	}
	first := next()
	require.Equal(t, ConfigScene, first.Kind)
	require.Equal(t, "cam-1", first.ID)
	require.Equal(t, "version: 1\n", string(first.Value))
	<-ready

	rev, err := api.Config().Put(ctx, ConfigProtocol, "fire", []byte(`{"steps":["call"]}`))
	require.NoError(t, err)
	c := next()
	require.Equal(t, ConfigChange{Kind: ConfigProtocol, ID: "fire", Value: []byte(`{"steps":["call"]}`), Rev: rev}, c)
	require.NoError(t, api.Config().Delete(ctx, ConfigScene, "cam-1"))
	c = next()
	require.True(t, c.Deleted)
	require.Equal(t, "cam-1", c.ID)
	_, _, err = worker.Config().Get(ctx, ConfigScene, "cam-1")
	require.ErrorIs(t, err, ErrNotFound)
	_, err = api.Config().Put(ctx, "bogus", "x", nil)
	require.ErrorContains(t, err, "unknown config kind")

	cancel()
	require.NoError(t, <-done)
}

func TestClusterMetricsRegister(t *testing.T) {
	cl := clustertest.Start(t, 1, clustertest.Options{})
	c := openNode(t, cl, "w1", 0)
	reg := prometheus.NewRegistry()
	require.NoError(t, c.Register(reg))
	c.metrics.published.WithLabelValues("events").Inc()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
		for _, m := range mf.GetMetric() {
			node := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "node" {
					node = l.GetValue()
				}
			}
			require.Equal(t, "w1", node, "every metric names its node")
		}
	}
	require.True(t, names["vigil_cluster_published_total"])
	require.True(t, names["vigil_cluster_coordinator"])
	require.Error(t, c.Register(reg), "registering twice is refused")
}

func TestFailoverGracefulLeaveMovesCamerasAtOnce(t *testing.T) {
	cl := clustertest.Start(t, 3, clustertest.Options{})
	r := newRecord()
	startNode(t, cl, r, nodeSpec{"coord", []string{RoleCoordinator}, 0, 0})
	w1 := startNode(t, cl, r, nodeSpec{"w1", []string{RoleWorker}, 50, 1})
	startNode(t, cl, r, nodeSpec{"w2", []string{RoleWorker}, 50, 2})
	cams := putCameras(t, w1.c, 6)
	r.waitFor(t, "placed", allRunningOnce(r, cams))
	w1.stop() // cancels: cameras revoked, then the heartbeat deleted
	r.waitFor(t, "all on w2", func() bool {
		if !allRunningOnce(r, cams)() {
			return false
		}
		for _, cam := range cams {
			if r.running[cam][0].Node != "w2" {
				return false
			}
		}
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Empty(t, r.overlap)
}
