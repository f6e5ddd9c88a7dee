package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	"github.com/vigil-cctv/vigil/internal/secrets"
)

// The scenario every replay camera plays: its recorded tracks are the
// detections, a grey picture per frame is the video.
const (
	failoverScenario = "../../testdata/scenarios/line-crossing"
	failoverFrames   = 301 // frames in its tracks.txt
	failoverCameras  = 6
	failoverTTL      = 5 * time.Second
)

// vigilProc is one `vigil serve` process.
type vigilProc struct {
	node string
	cmd  *exec.Cmd
	addr string
	log  string
}

// TestClusterFailoverServeKill9 runs real `vigil serve` processes: three
// workers and one api+coordinator node over a 3-server NATS cluster, with
// PostgreSQL as the store. Six replay cameras (recorded detections
// through the full analysis chain, each a file played once) are placed on
// the workers; the worker holding the most cameras is killed with -9
// while they run. Its cameras must run elsewhere within 15 s, and the
// alerts in PostgreSQL must be exactly those of the undisturbed cameras,
// camera for camera, by deterministic key: none lost, none duplicated.
func TestClusterFailoverServeKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four vigil processes and a NATS cluster; run without -short")
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not on PATH")
	}
	if os.Getenv("VIGIL_TEST_POSTGRES") == "" {
		t.Setenv("VIGIL_TEST_POSTGRES", "postgres://vigil:vigil@127.0.0.1:5432/vigil?sslmode=disable")
	}
	dsn := clustertest.PostgresSchema(t).String()
	nc := clustertest.Start(t, 3, clustertest.Options{})
	bin := buildVigil(t)
	frames := greyFrames(t, failoverFrames, 48, 32) // the recorded boxes stay in the scene's 1000×800 coordinates
	tracks, err := filepath.Abs(filepath.Join(failoverScenario, "tracks.txt"))
	require.NoError(t, err)
	sceneFile, err := filepath.Abs(filepath.Join(failoverScenario, "scene.yaml"))
	require.NoError(t, err)

	expected, err := os.ReadFile(filepath.Join(failoverScenario, "expected.jsonl"))
	require.NoError(t, err)
	wantPerCamera := strings.Count(string(expected), "\n") // the rule scenario's alerts
	require.Positive(t, wantPerCamera)

	obs := observer(t, nc.URLs())
	workers := map[string]*vigilProc{}
	for _, n := range []string{"w1", "w2", "w3"} {
		workers[n] = startVigil(t, bin, n, nodeYAML(t, n, "[worker]", nc.URLs(), tracks, "", ""))
	}
	waitFor(t, "three workers' heartbeats", time.Minute, func() bool { return len(liveNodes(t, obs)) == 3 })

	var cams strings.Builder
	var ids []string
	for i := range failoverCameras {
		id := fmt.Sprintf("cam-%02d", i+1)
		ids = append(ids, id)
		fmt.Fprintf(&cams, "  - {id: %s, url: %s, loop: false, fps: 10, image_fps: 10, scene: %s, start_time: \"2026-01-05T12:00:00Z\"}\n",
			id, frames, sceneFile)
	}
	startVigil(t, bin, "api", nodeYAML(t, "api", "[api, coordinator]", nc.URLs(), "",
		fmt.Sprintf("store: {driver: postgres, dsn: %q}\n", dsn), "cameras:\n"+cams.String()))

	db := pgConn(t, dsn)
	waitFor(t, "cameras placed on every worker and the first alert stored", time.Minute, func() bool {
		st, err := obs.Status(context.Background())
		require.NoError(t, err)
		per := map[string]int{}
		for _, n := range st.Cameras {
			per[n]++
		}
		return len(st.Cameras) == failoverCameras && len(per) == 3 && !slices.Contains(slices.Collect(maps.Keys(per)), "") &&
			alertCount(t, db) > 0
	})

	// Kill -9 the worker with the most cameras.
	st, err := obs.Status(context.Background())
	require.NoError(t, err)
	per := map[string][]string{}
	for cam, n := range st.Cameras {
		per[n] = append(per[n], cam)
	}
	victim := ""
	for _, n := range []string{"w1", "w2", "w3"} {
		if victim == "" || len(per[n]) > len(per[victim]) {
			victim = n
		}
	}
	moved := per[victim]
	require.NoError(t, workers[victim].cmd.Process.Signal(syscall.SIGKILL))
	killedAt := time.Now()
	waitFor(t, "the killed worker's cameras running on the others", time.Minute, func() bool {
		st, err := obs.Status(context.Background())
		require.NoError(t, err)
		running := 0
		for _, n := range st.Nodes {
			if n.Node == victim {
				return false
			}
			running += n.Cameras
		}
		for _, cam := range moved {
			if n := st.Cameras[cam]; n == "" || n == victim {
				return false
			}
		}
		return running == failoverCameras
	})
	resumed := time.Since(killedAt)
	t.Logf("killed %s (%d cameras: %v); they ran elsewhere after %v (node TTL %v)", victim, len(moved), moved, resumed.Round(time.Millisecond), failoverTTL)
	require.Less(t, resumed, 15*time.Second, "cameras run elsewhere within 15 s")

	// Every camera has played its whole file on a live worker, and the
	// api node has written everything the streams hold.
	waitFor(t, "every camera analysed all its frames and the api caught up", 2*time.Minute, func() bool {
		st, err := obs.Status(context.Background())
		require.NoError(t, err)
		done := map[string]bool{}
		for n, w := range workers {
			if n == victim {
				continue
			}
			for cam, m := range cameraMetrics(w.addr) {
				// A camera may have restarted on its node (a worker that
				// could not store its heartbeat in time stops its cameras
				// and starts them again): done is stopped at the end of
				// its input, every frame analysed at least once.
				if m.detected >= failoverFrames && m.stopped && st.Cameras[cam] == n {
					done[cam] = true
				}
			}
		}
		for _, lag := range st.Consumers {
			if lag.Pending > 0 || lag.AckPending > 0 {
				return false
			}
		}
		if len(done) < failoverCameras {
			return false
		}
		// The last frame is counted before its results are published:
		// wait for the scenario's alerts on every camera too.
		stored := clusterAlertsByCamera(t, db)
		for _, id := range ids {
			if len(stored[id]) < wantPerCamera {
				return false
			}
		}
		return true
	})

	got := clusterAlertsByCamera(t, db)
	var ref string
	for _, id := range ids {
		if !slices.Contains(moved, id) {
			ref = id
			break
		}
	}
	require.Len(t, got[ref], wantPerCamera, "the undisturbed camera %s raised the scenario's alerts", ref)
	total := 0
	for _, id := range ids {
		var want []string
		for _, a := range got[ref] {
			want = append(want, cluster.EventKey(id, a.rule, a.name, a.track, a.start))
		}
		var keys []string
		for _, a := range got[id] {
			keys = append(keys, a.key)
		}
		slices.Sort(want)
		slices.Sort(keys)
		require.Equal(t, want, keys, "camera %s (moved: %v) has exactly the undisturbed alerts", id, slices.Contains(moved, id))
		total += len(keys)
	}
	var n, distinct int
	require.NoError(t, db.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT coalesce(msg_id, event_key)) FROM alerts`).Scan(&n, &distinct))
	require.Equal(t, total, n, "none lost, none duplicated")
	require.Equal(t, n, distinct)
	t.Logf("%d alerts (%d per camera) over %d cameras", n, len(got[ref]), failoverCameras)
}

// buildVigil builds the vigil binary once for the test.
func buildVigil(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vigil")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/vigil").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// greyFrames writes n identical grey PNG frames (hard links of one).
func greyFrames(t *testing.T, n, w, h int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "frames")
	require.NoError(t, os.Mkdir(dir, 0o755))
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	first := filepath.Join(dir, "f0001.png")
	f, err := os.Create(first)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, img))
	require.NoError(t, f.Close())
	for i := 2; i <= n; i++ {
		require.NoError(t, os.Link(first, filepath.Join(dir, fmt.Sprintf("f%04d.png", i))))
	}
	return dir
}

// nodeYAML is a cluster node's config.
func nodeYAML(t *testing.T, node, roles string, urls []string, recorded, store, cameras string) string {
	t.Helper()
	dir := t.TempDir()
	addr := freeAddr(t)
	var quoted []string
	for _, u := range urls {
		quoted = append(quoted, strconv.Quote(u))
	}
	det := ""
	if recorded != "" {
		det = fmt.Sprintf("detector: {recorded: %s}\n", recorded)
	}
	cfg := fmt.Sprintf(`version: 1
listen: %s
data_dir: %s
auth: {disabled: true}
anomaly: {disabled: true}
%s%scluster:
  node: %s
  roles: %s
  replicas: 3
  node_ttl: %s
  leader_ttl: %s
  capacity_fps: 100
  nats: {urls: [%s]}
%s`, addr, dir, det, store, node, roles, failoverTTL, failoverTTL, strings.Join(quoted, ", "), cameras)
	path := filepath.Join(dir, "vigil.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	return path
}

// startVigil starts `vigil serve`; its output goes to a log shown when
// the test fails. It is killed when the test ends.
// clusterKey is the secret key the test's nodes share.
var clusterKey = base64.StdEncoding.EncodeToString(secrets.NewKey().Raw)

func startVigil(t *testing.T, bin, node, cfg string) *vigilProc {
	t.Helper()
	logPath := filepath.Join(filepath.Dir(cfg), "serve.log")
	logf, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Every node holds the same secret key: the api node seals camera URLs
	// in the config bucket, the workers open them.
	cmd.Env = append(os.Environ(), secrets.EnvKey+"="+clusterKey)
	require.NoError(t, cmd.Start())
	raw, err := os.ReadFile(cfg)
	require.NoError(t, err)
	addr := regexp.MustCompile(`(?m)^listen: (\S+)$`).FindStringSubmatch(string(raw))[1]
	p := &vigilProc{node: node, cmd: cmd, addr: addr, log: logPath}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		_ = logf.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("--- %s log ---\n%s", node, tail(string(out), 4000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// observer is a read-only handle on the cluster's buckets for status.
func observer(t *testing.T, urls []string) *cluster.Cluster {
	t.Helper()
	conn, err := cluster.Connect(context.Background(), cluster.NATSOptions{URLs: urls})
	require.NoError(t, err)
	t.Cleanup(conn.Close)
	c, err := cluster.Open(context.Background(), conn, cluster.Options{Node: "test-observer", Replicas: 3, NodeTTL: failoverTTL, LeaderTTL: failoverTTL})
	require.NoError(t, err)
	return c
}

func liveNodes(t *testing.T, c *cluster.Cluster) []string {
	st, err := c.Status(context.Background())
	require.NoError(t, err)
	var out []string
	for _, n := range st.Nodes {
		out = append(out, n.Node)
	}
	return out
}

// waitFor polls cond until it holds; limit only bounds a hung test.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func pgConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func alertCount(t *testing.T, db *pgx.Conn) int {
	var n int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM alerts`).Scan(&n); err != nil {
		return 0 // the api node has not created the schema yet
	}
	return n
}

type clusterAlert struct {
	key, rule, name string
	track           int
	start           float64
}

// clusterAlertsByCamera reads every alert by camera.
func clusterAlertsByCamera(t *testing.T, db *pgx.Conn) map[string][]clusterAlert {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT coalesce(msg_id, event_key), event_json FROM alerts`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string][]clusterAlert{}
	for rows.Next() {
		var key string
		var ev struct {
			Camera string  `json:"camera"`
			Rule   string  `json:"rule"`
			Name   string  `json:"name"`
			Start  float64 `json:"start"`
			Tracks []int   `json:"tracks"`
		}
		require.NoError(t, rows.Scan(&key, &ev))
		track := -1
		if len(ev.Tracks) > 0 {
			track = ev.Tracks[0]
		}
		out[ev.Camera] = append(out[ev.Camera], clusterAlert{key: key, rule: ev.Rule, name: ev.Name, track: track, start: ev.Start})
	}
	require.NoError(t, rows.Err())
	return out
}

var (
	framesMetric  = regexp.MustCompile(`^vigil_frames_total\{camera="([^"]+)",stage="detected"\} (\d+)`)
	stoppedMetric = regexp.MustCompile(`^vigil_camera_state\{camera="([^"]+)",state="stopped"\} 1$`)
)

type camMetrics struct {
	detected int
	stopped  bool
}

// cameraMetrics reads a worker's detected-frame counters and which of its
// cameras are stopped.
func cameraMetrics(addr string) map[string]camMetrics {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil // not serving yet
	}
	defer resp.Body.Close()
	out := map[string]camMetrics{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if m := framesMetric.FindStringSubmatch(sc.Text()); m != nil {
			c := out[m[1]]
			c.detected, _ = strconv.Atoi(m[2])
			out[m[1]] = c
		}
		if m := stoppedMetric.FindStringSubmatch(sc.Text()); m != nil {
			c := out[m[1]]
			c.stopped = true
			out[m[1]] = c
		}
	}
	return out
}
