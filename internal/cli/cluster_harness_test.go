package cli

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster"
	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
)

// procCluster is the harness of the process-level cluster tests: a
// 3-server NATS cluster in this process, a fresh PostgreSQL schema, the
// vigil binary, and the `vigil serve` processes started on them.
type procCluster struct {
	t     *testing.T
	bin   string
	nats  *clustertest.Cluster
	obs   *cluster.Cluster // read-only view of the buckets and streams
	dsn   string           // straight to PostgreSQL
	db    *pgx.Conn
	procs map[string]*vigilProc
	// ttl is every node's node_ttl and leader_ttl, the observer's too:
	// they are properties of the shared buckets (cluster.Options).
	ttl time.Duration
}

// newProcCluster skips without ffmpeg or under -short, and sets up
// everything but the nodes, which will share ttl.
func newProcCluster(t *testing.T, ttl time.Duration) *procCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts vigil serve processes and a NATS cluster; run without -short")
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not on PATH")
	}
	if os.Getenv("VIGIL_TEST_POSTGRES") == "" {
		t.Setenv("VIGIL_TEST_POSTGRES", "postgres://vigil:vigil@127.0.0.1:5432/vigil?sslmode=disable")
	}
	c := &procCluster{t: t, procs: map[string]*vigilProc{}, ttl: ttl}
	c.dsn = clustertest.PostgresSchema(t).String()
	c.nats = clustertest.Start(t, 3, clustertest.Options{})
	c.bin = buildVigil(t)
	c.obs = observer(t, c.nats.URLs(), ttl)
	c.db = pgConn(t, c.dsn)
	return c
}

// nodeOpts is what differs between the nodes' configs.
type nodeOpts struct {
	roles    string // e.g. "[worker]"
	detector string // the detector: line ("" none)
	anomaly  string // the anomaly: line ("" disabled)
	store    string // the store: line ("" the node's own SQLite)
	cameras  string // cameras: entries, one per line
	media    string // the media: line ("" the defaults)
}

// start starts one `vigil serve` node.
func (c *procCluster) start(node string, o nodeOpts) *vigilProc {
	c.t.Helper()
	p := startVigil(c.t, c.bin, node, nodeConfig(c.t, node, c.nats.URLs(), c.ttl, o))
	c.procs[node] = p
	return p
}

// kill kills a node with -9 and returns when.
func (c *procCluster) kill(node string) time.Time {
	c.t.Helper()
	c.procs[node].killed = true
	require.NoError(c.t, c.procs[node].cmd.Process.Signal(syscall.SIGKILL))
	return time.Now()
}

func (c *procCluster) status() cluster.Status {
	c.t.Helper()
	st, err := c.obs.Status(context.Background())
	require.NoError(c.t, err)
	return st
}

// byNode lists each node's cameras.
func (c *procCluster) byNode() map[string][]string {
	out := map[string][]string{}
	for cam, n := range c.status().Cameras {
		out[n] = append(out[n], cam)
	}
	for _, cams := range out {
		slices.Sort(cams)
	}
	return out
}

// waitPlaced waits until all of ids are placed on the given workers, each
// of which holds at least one.
func (c *procCluster) waitPlaced(ids []string, workers ...string) {
	c.t.Helper()
	waitFor(c.t, "cameras placed on every worker", 2*time.Minute, func() bool {
		per := c.byNode()
		for _, w := range workers {
			if len(per[w]) == 0 {
				return false
			}
		}
		n := 0
		for _, w := range workers {
			n += len(per[w])
		}
		return n == len(ids)
	})
}

// waitFinished waits until every camera of ids has analysed all its
// frames (frames[id]) on the node that now holds it, the api node has
// drained every stream, and done(stored alerts by camera) returns "" (else
// what it still waits for). Each change of what it waits for is logged, so
// a timeout says which camera or condition held it.
func (c *procCluster) waitFinished(ids []string, frames map[string]int, limit time.Duration, done func(map[string][]clusterAlert) string) {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	lastKey := ""
	for {
		key, why := c.unfinished(ids, frames)
		if key == "" {
			why = done(clusterAlertsByCamera(c.t, c.db))
			key = why
		}
		if key != lastKey {
			c.t.Logf("waiting for the end: %s", cmpOr(why, "done"))
			lastKey = key
		}
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			c.logCameras(ids, why)
			c.t.Fatalf("timed out waiting for every camera to analyse all its frames and the api to catch up: %s", why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logCameras logs every node's log lines about the cameras of ids that
// why names: the tail each node's log shows on a failure is its last
// seconds, and a camera that went wrong often did so at its start.
func (c *procCluster) logCameras(ids []string, why string) {
	for _, id := range ids {
		if !strings.Contains(why, id+" ") {
			continue
		}
		for _, node := range slices.Sorted(maps.Keys(c.procs)) {
			raw, _ := os.ReadFile(c.procs[node].log)
			var lines []string
			for l := range strings.Lines(string(raw)) {
				about := strings.Contains(l, "camera="+id+" ") || strings.HasSuffix(strings.TrimSpace(l), "camera="+id)
				if about && len(lines) < 80 {
					lines = append(lines, l)
				}
			}
			c.t.Logf("--- %s log, lines about %s ---\n%s", node, id, strings.Join(lines, ""))
		}
	}
}

// unfinished says which camera has not analysed all its frames on the
// node that holds it, or which consumer still has messages: key names it
// (what a change is logged on), why adds the counts; both "" when none.
func (c *procCluster) unfinished(ids []string, frames map[string]int) (key, why string) {
	st := c.status()
	got := map[string]camMetrics{}
	for n, p := range c.procs {
		if p.cmd.ProcessState != nil || p.killed {
			continue
		}
		for cam, m := range cameraMetrics(p.addr) {
			if st.Cameras[cam] == n {
				got[cam] = m
			}
		}
	}
	for _, id := range ids {
		// A camera may have restarted on its node (a worker that could
		// not store its heartbeat in time stops its cameras and starts
		// them again): done is stopped at the end of its input, every
		// frame analysed at least once.
		if m := got[id]; m.detected < frames[id] || !m.stopped {
			key = fmt.Sprintf("camera %s on %q", id, st.Cameras[id])
			return key, fmt.Sprintf("%s: %d of %d frames analysed, stopped %v", key, m.detected, frames[id], m.stopped)
		}
	}
	for _, lag := range st.Consumers {
		if lag.Pending > 0 || lag.AckPending > 0 {
			key = "consumer of " + lag.Stream
			return key, fmt.Sprintf("%s: %+v", key, lag)
		}
	}
	return "", ""
}

// tuples are a camera's alerts by rule, name, track and start, sorted:
// what the deterministic key hashes, without the camera.
func tuples(as []clusterAlert) []string {
	var out []string
	for _, a := range as {
		out = append(out, fmt.Sprintf("%s/%s/%d/%.6f", a.rule, a.name, a.track, a.start))
	}
	slices.Sort(out)
	return out
}

// requireSameAlerts checks that camera id's stored alerts are exactly the
// reference camera's, by deterministic key: none lost, none duplicated.
func requireSameAlerts(t *testing.T, got map[string][]clusterAlert, id, ref string) {
	t.Helper()
	var want, keys []string
	for _, a := range got[ref] {
		want = append(want, cluster.EventKey(id, a.rule, a.name, a.track, a.start))
	}
	for _, a := range got[id] {
		keys = append(keys, a.key)
	}
	slices.Sort(want)
	slices.Sort(keys)
	require.Equal(t, want, keys, "camera %s has exactly the alerts of %s", id, ref)
}

// requireNoDuplicates checks that PostgreSQL holds total alerts, each once.
func (c *procCluster) requireNoDuplicates(total int) {
	c.t.Helper()
	var n, distinct int
	require.NoError(c.t, c.db.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT coalesce(msg_id, event_key)) FROM alerts`).Scan(&n, &distinct))
	require.Equal(c.t, total, n, "none lost, none duplicated")
	require.Equal(c.t, n, distinct)
}

// baselineState is what a camera's baseline learned, as its node's
// metrics report it.
type baselineState struct {
	ModelTime     time.Duration
	LearnedTracks int64
}

// replayCamera is a cameras: entry for a replay camera: grey frames whose
// detections are recorded.
func replayCamera(id, frames, scene, tracks string) string {
	return fmt.Sprintf("  - {id: %s, url: %s, loop: false, fps: 10, image_fps: 10, scene: %s, recorded: %s, start_time: \"2026-01-05T12:00:00Z\"}\n",
		id, frames, scene, tracks)
}

// videoCamera is a cameras: entry for footage through the detector.
func videoCamera(id, frames, scene string) string {
	return fmt.Sprintf("  - {id: %s, url: %s, loop: false, fps: 10, image_fps: 10, classes: person, scene: %s, start_time: \"2026-03-02T12:00:00Z\"}\n",
		id, frames, scene)
}

// nodeConfig writes a cluster node's config.
func nodeConfig(t *testing.T, node string, urls []string, ttl time.Duration, o nodeOpts) string {
	t.Helper()
	dir := t.TempDir()
	var quoted []string
	for _, u := range urls {
		quoted = append(quoted, strconv.Quote(u))
	}
	lines := []string{"version: 1", "listen: " + freeAddr(t), "data_dir: " + dir, "auth: {disabled: true}",
		cmpOr(o.anomaly, "anomaly: {disabled: true}"), o.detector, o.store, o.media,
		"cluster:", "  node: " + node, "  roles: " + o.roles, "  replicas: 3",
		"  node_ttl: " + ttl.String(), "  leader_ttl: " + ttl.String(), "  capacity_fps: 100",
		"  nats: {urls: [" + strings.Join(quoted, ", ") + "]}"}
	if o.cameras != "" {
		lines = append(lines, "cameras:", strings.TrimRight(o.cameras, "\n"))
	}
	lines = slices.DeleteFunc(lines, func(s string) bool { return s == "" })
	path := filepath.Join(dir, "vigil.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	return path
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
