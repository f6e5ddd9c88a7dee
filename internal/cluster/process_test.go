package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster"
	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
	"github.com/vigil-cctv/vigil/internal/cluster/replay"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

const helperEnv = "VIGIL_CLUSTER_REPLAY_WORKER"

// helperConfig is what a replay worker process is told.
type helperConfig struct {
	Node    string        `json:"node"`
	URLs    []string      `json:"urls"`
	NodeTTL time.Duration `json:"node_ttl"`
	Replay  replay.Config `json:"replay"`
}

// TestHelperReplayWorker is a worker process of the process-level tests:
// a real node (its own NATS connection, heartbeat, fencing) whose
// cameras replay recorded events. It does nothing in a normal run.
func TestHelperReplayWorker(t *testing.T) {
	raw := os.Getenv(helperEnv)
	if raw == "" {
		t.Skip("helper process for TestFailoverKill9WorkerProcess")
	}
	var hc helperConfig
	if err := json.Unmarshal([]byte(raw), &hc); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	var w *replay.Worker
	cb := cluster.WorkerCallbacks{
		OnAssign: func(l cluster.Lease) { w.Callbacks().OnAssign(l) },
		OnRevoke: func(l cluster.Lease) { w.Callbacks().OnRevoke(l) },
	}
	n, err := cluster.Start(ctx, cluster.NodeConfig{
		Options: cluster.Options{Node: hc.Node, Replicas: len(hc.URLs), NodeTTL: hc.NodeTTL, LeaderTTL: hc.NodeTTL},
		NATS:    cluster.NATSOptions{URLs: hc.URLs}, Roles: []string{cluster.RoleWorker},
		Capacity: func() float64 { return 100 }, Worker: cb,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	w = replay.New(n.Cluster, hc.Replay)
	fmt.Println("worker ready", hc.Node)
	<-ctx.Done()
	_ = n.Close()
	os.Exit(0)
}

// scenarioEvents are the recorded alerts of the rule scenarios.
func scenarioEvents(t testing.TB) []string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	paths, err := filepath.Glob(filepath.Join(filepath.Dir(file), "..", "..", "testdata", "scenarios", "*", "expected.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	return paths
}

func TestFailoverKill9WorkerProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three worker processes; run without -short")
	}
	events, err := replay.LoadEvents(scenarioEvents(t)...)
	require.NoError(t, err)
	cl := clustertest.Start(t, 3, clustertest.Options{})
	const ttl = 3 * time.Second
	rc := replay.Config{Events: events, PerCamera: 50, Every: 100 * time.Millisecond}

	// The api and coordinator run in this process.
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "vigil.db"))
	require.NoError(t, err)
	defer s.Close()
	written := make(chan cluster.Record, 10000)
	api, err := cluster.Start(context.Background(), cluster.NodeConfig{
		Options: cluster.Options{Node: "api", Replicas: 3, NodeTTL: ttl, LeaderTTL: ttl},
		NATS:    cluster.NATSOptions{URLs: cl.URLs()}, Roles: []string{cluster.RoleAPI, cluster.RoleCoordinator},
		Consumer: cluster.ConsumerOptions{Writer: recordingWriter{cluster.StoreWriter{Store: s}, written}},
	})
	require.NoError(t, err)
	defer api.Close()

	procs := map[string]*exec.Cmd{}
	for _, node := range []string{"w1", "w2", "w3"} {
		cfg, _ := json.Marshal(helperConfig{Node: node, URLs: cl.URLs(), NodeTTL: ttl, Replay: rc})
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperReplayWorker$", "-test.count=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the test, even one killed before its cleanup
		cmd.Env = append(os.Environ(), helperEnv+"="+string(cfg))
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		procs[node] = cmd
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	cams := []string{"cam-a", "cam-b", "cam-c", "cam-d", "cam-e", "cam-f"}
	for _, cam := range cams {
		_, err := api.Config().PutCamera(context.Background(), cluster.CameraConfig{ID: cam})
		require.NoError(t, err)
	}

	want := map[string]bool{}
	for _, cam := range cams {
		for i := range rc.PerCamera {
			want[rc.Key(cam, i)] = true
		}
	}
	got := map[string]cluster.Record{}
	deadline := time.After(3 * time.Minute)
	receive := func() {
		select {
		case r := <-written:
			got[r.Key] = r
		case <-deadline:
			t.Fatalf("%d of %d events stored", len(got), len(want))
		}
	}
	// Kill -9 the node that runs cam-a once a fifth of the events are in.
	for len(got) < len(want)/5 {
		receive()
	}
	victim := ""
	for _, r := range got {
		if r.Camera == "cam-a" {
			victim = r.Node
		}
	}
	require.NotEmpty(t, victim)
	killedAt := time.Now()
	require.NoError(t, procs[victim].Process.Signal(syscall.SIGKILL))
	var resumed time.Duration
	for len(got) < len(want) {
		receive()
		for _, r := range got {
			if r.Camera == "cam-a" && r.Node != victim && resumed == 0 {
				resumed = time.Since(killedAt)
			}
		}
	}
	t.Logf("killed %s; cam-a resumed on another node after %v (node TTL %v)", victim, resumed.Round(time.Millisecond), ttl)
	require.Less(t, resumed, 15*time.Second, "cameras run elsewhere within 15 s")

	for k := range want {
		_, ok := got[k]
		require.True(t, ok, "event %s lost", k)
	}
	var n, distinct int
	require.NoError(t, s.R.QueryRow(`SELECT count(*), count(DISTINCT msg_id) FROM alerts`).Scan(&n, &distinct))
	require.Equal(t, len(want), n, "none lost, none duplicated")
	require.Equal(t, n, distinct)
	st, _, err := api.Handover().Load(context.Background(), "cam-a")
	require.NoError(t, err)
	require.Equal(t, fmt.Sprint(rc.PerCamera), string(st.Motion), "the new owner continued from the handed-over position")
}

type recordingWriter struct {
	w   cluster.Writer
	out chan<- cluster.Record
}

func (r recordingWriter) WriteBatch(ctx context.Context, rs []cluster.Record) error {
	if err := r.w.WriteBatch(ctx, rs); err != nil {
		return err
	}
	for _, rec := range rs {
		r.out <- rec
	}
	return nil
}
