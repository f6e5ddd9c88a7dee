package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster"
	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

func TestClusterStatusCommand(t *testing.T) {
	cl := clustertest.Start(t, 1, clustertest.Options{})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vigil.yaml")
	require.NoError(t, os.WriteFile(cfg, fmt.Appendf(nil, `version: 1
cluster:
  node: ops
  roles: [api]
  replicas: 1
  nats: {urls: [%q]}
`, cl.URLs()[0]), 0o600))

	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "vigil.db"))
	require.NoError(t, err)
	defer s.Close()
	assigned := make(chan cluster.Lease, 10)
	node, err := cluster.Start(ctx, cluster.NodeConfig{
		Options:  cluster.Options{Node: "box-1", MaxDeliver: 2},
		NATS:     cluster.NATSOptions{URLs: cl.URLs()},
		Roles:    []string{cluster.RoleWorker, cluster.RoleAPI, cluster.RoleCoordinator},
		Capacity: func() float64 { return 60 },
		Worker:   cluster.WorkerCallbacks{OnAssign: func(l cluster.Lease) { assigned <- l }, OnRevoke: func(cluster.Lease) {}},
		Consumer: cluster.ConsumerOptions{Writer: cluster.StoreWriter{Store: s}},
	})
	require.NoError(t, err)
	defer func() { require.NoError(t, node.Close()) }()
	for _, id := range []string{"gate-1", "gate-2"} {
		_, err := node.Config().PutCamera(ctx, cluster.CameraConfig{ID: id, FPS: 5})
		require.NoError(t, err)
	}
	for range 2 {
		select {
		case <-assigned:
		case <-time.After(time.Minute):
			t.Fatal("cameras not assigned")
		}
	}
	poison := nats.NewMsg(cluster.Subject(cluster.KindEvent, "gate-1"))
	poison.Data = []byte("not json")
	poison.Header.Set(cluster.HeaderCamera, "gate-1")
	poison.Header.Set(jetstream.MsgIDHeader, "p1")
	_, err = node.JS.PublishMsg(ctx, poison)
	require.NoError(t, err)

	var out string
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) { // until the poison has been tried twice and moved
		code, stdout, stderr := vigil(t, "cluster", "status", "--config", cfg)
		require.Equal(t, 0, code, stderr)
		if out = stdout; strings.Contains(out, "dead letters: 1") {
			break
		}
	}
	require.Contains(t, out, "coordinator: box-1")
	require.Regexp(t, `box-1\s+worker,api,coordinator\s+60\s+2\s+10\s+\d`, out) // running: as of the last beat
	require.Contains(t, out, "cameras: 2 configured, 0 not on a live node")
	require.Contains(t, out, "VIGIL_EVENTS")
	require.Contains(t, out, "vigil.dead.events.gate-1: 1")

	code, stdout, _ := vigil(t, "cluster", "status", "--config", cfg, "--json")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, `"coordinator": "box-1"`)
}

func TestClusterStatusCommandFailsFast(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "vigil.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("version: 1\ncluster: {node: ops, roles: [api], nats: {urls: ['nats://127.0.0.1:1']}}\n"), 0o600))
	code, _, stderr := vigil(t, "cluster", "status", "--config", cfg)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "cannot reach any NATS server at nats://127.0.0.1:1")

	single := filepath.Join(t.TempDir(), "vigil.yaml")
	require.NoError(t, os.WriteFile(single, []byte("version: 1\n"), 0o600))
	code, _, stderr = vigil(t, "cluster", "status", "--config", single)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "no cluster section")
}
