package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
)

func TestClusterConnectFailsFast(t *testing.T) {
	cl := clustertest.Start(t, 1, clustertest.Options{User: "vigil", Password: "right-secret"})
	ctx := context.Background()

	_, err := Connect(ctx, NATSOptions{URLs: []string{"nats://127.0.0.1:1"}, Timeout: time.Second})
	require.ErrorContains(t, err, "cannot reach any NATS server at nats://127.0.0.1:1")

	t.Setenv("VIGIL_TEST_NATS_PASSWORD", "wrong-secret")
	_, err = Connect(ctx, NATSOptions{URLs: cl.URLs(), User: "vigil", PasswordEnv: "VIGIL_TEST_NATS_PASSWORD", Timeout: time.Second})
	require.ErrorContains(t, err, `refused the credentials for user "vigil"`)
	require.NotContains(t, err.Error(), "wrong-secret")

	_, err = Connect(ctx, NATSOptions{URLs: cl.URLs(), User: "vigil", PasswordEnv: "VIGIL_TEST_UNSET_VARIABLE"})
	require.ErrorContains(t, err, "variable VIGIL_TEST_UNSET_VARIABLE is not set")
	_, err = Connect(ctx, NATSOptions{URLs: cl.URLs(), CredsFile: t.TempDir() + "/missing.creds"})
	require.ErrorContains(t, err, "creds_file")

	pw := t.TempDir() + "/nats.pass"
	require.NoError(t, writeFile(pw, "right-secret\n"))
	nc, err := Connect(ctx, NATSOptions{URLs: cl.URLs(), User: "vigil", PasswordFile: pw})
	require.NoError(t, err, "the password file's trailing newline is not part of it")
	nc.Close()
}

func TestFailoverNATSServerDownNothingLost(t *testing.T) {
	cl := clustertest.Start(t, 3, clustertest.Options{})
	worker, api := openNode(t, cl, "w1", 0), openNode(t, cl, "api", 1)
	s := openSQLite(t)
	cw := newCountingWriter(StoreWriter{Store: s})
	runConsumer(t, api, cw)
	ctx := context.Background()
	l := Lease{Camera: "cam-n", Node: "w1", Fence: 2}
	const n = 40
	for i := range n / 2 {
		require.NoError(t, worker.Publisher().Event(ctx, l, alertFor("cam-n", i)))
	}
	// Stop the server leading the events stream: the hardest one to lose.
	str, err := worker.JS.Stream(ctx, streamName(KindEvent))
	require.NoError(t, err)
	info, err := str.Info(ctx)
	require.NoError(t, err)
	down := map[string]int{"n1": 0, "n2": 1, "n3": 2}[info.Cluster.Leader]
	t.Logf("stopping %s, the stream leader", info.Cluster.Leader)
	cl.Stop(down)

	pctx, cancel := context.WithTimeout(ctx, waitLimit)
	defer cancel()
	for i := n / 2; i < n; i++ {
		require.NoError(t, worker.Publisher().Event(pctx, l, alertFor("cam-n", i)), "publish %d with a server down", i)
	}
	cw.waitWrites(t, n)
	keys := storedKeys(t, s)
	require.Len(t, keys, n)
	for k, c := range keys {
		require.Equal(t, 1, c, k)
	}
}

// A node configured with other TTLs than the running cluster's takes the
// cluster's (changing the shared buckets under live nodes would expire
// their heartbeats early); with no other node live, its own are written.
func TestClusterNodeAdoptsTheRunningClusterTTLs(t *testing.T) {
	cl := clustertest.Start(t, 1, clustertest.Options{})
	ctx := context.Background()
	open := func(node string, ttl time.Duration) *Cluster {
		nc, err := Connect(ctx, NATSOptions{URLs: cl.URLs()})
		require.NoError(t, err)
		t.Cleanup(nc.Close)
		c, err := Open(ctx, nc, Options{Node: node, Replicas: 1, NodeTTL: ttl, LeaderTTL: ttl, Log: testLog(t, node)})
		require.NoError(t, err)
		return c
	}
	bucketTTL := func(c *Cluster) time.Duration {
		st, err := c.nodes.Status(ctx)
		require.NoError(t, err)
		return st.TTL()
	}
	a := open("a", 3*time.Second)
	hctx, stopBeat := context.WithCancel(ctx)
	beat := make(chan error, 1)
	go func() { beat <- a.RunHeartbeat(hctx, HeartbeatOptions{Roles: []string{RoleWorker}}) }()
	require.Eventually(t, func() bool { _, err := a.nodes.Get(ctx, "a"); return err == nil }, time.Minute, 20*time.Millisecond)

	b := open("b", 9*time.Second)
	require.Equal(t, 3*time.Second, b.opts.NodeTTL, "b runs with the cluster's node_ttl")
	require.Equal(t, 3*time.Second, b.opts.LeaderTTL)
	require.Equal(t, 3*time.Second, bucketTTL(b), "the bucket is unchanged")

	stopBeat() // a leaves: its heartbeat is deleted
	require.NoError(t, <-beat)
	c := open("c", 9*time.Second)
	require.Equal(t, 9*time.Second, c.opts.NodeTTL)
	require.Equal(t, 9*time.Second, bucketTTL(c), "nobody live: the new value is written")
}
