package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
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
	"github.com/vigil-cctv/vigil/internal/secrets"
)

// The scenario every replay camera plays: its recorded tracks are the
// detections, a grey picture per frame is the video.
const (
	failoverScenario = "../../testdata/scenarios/line-crossing"
	failoverFrames   = 301 // frames in its tracks.txt
)

// vigilProc is one `vigil serve` process.
type vigilProc struct {
	node   string
	cmd    *exec.Cmd
	addr   string
	log    string
	killed bool
}

// The failover test's cameras: 28 replay cameras and 2 of footage,
// vtest.avi (PETS09-S2L1, Debian's opencv-doc) from 49 s for 8 s, two
// people crossing the lawn, through yolov8n and the PETS09 scene.
const (
	vtestAVI       = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
	petsSceneFile  = "../../scenes/pets09-s2l1.yaml"
	footageSeconds = 8
	videoFrames    = 80 // footageSeconds at 10 fps
	replayCameras  = 28
	// replayFrames is the first 15 s of the replay scenario: its first
	// three crossings, half the cost of the whole.
	replayFrames = 151
	videoCameras = 2
	failoverFPS  = 10.0
	// failoverLimit is the bound from the kill to the cameras
	// running elsewhere.
	failoverLimit = 15 * time.Second
	// killTTL is every node's node_ttl and leader_ttl: well within the
	// 15 s, and long enough that no worker fences itself on a loaded box.
	killTTL = 8 * time.Second
	// handoverMinMT is what each of the victim's cameras has learned
	// before the kill: well inside what the 8 s video camera learns in one
	// pass (about 2 s of model time), which an idle box plays through
	// before a 2 s threshold is sure to be seen.
	handoverMinMT = time.Second
	finishLimit   = 10 * time.Minute // bounds a hung run only
)

// TestClusterFailoverServeKill9 runs real `vigil serve` processes: three
// workers and one api+coordinator node over a 3-server NATS cluster, with
// PostgreSQL as the store, and 30 cameras: 28 replay cameras (recorded
// detections through the full analysis chain, each a file played once)
// and 2 cameras of real footage through yolov8n. The worker running the
// first footage camera is killed with -9 once it has handed over what its
// cameras learned. Its cameras must run elsewhere within 15 s, continue
// learning from the handed-over baselines, and the alerts in PostgreSQL
// must be exactly those of the undisturbed cameras by deterministic key:
// none lost, none duplicated.
func TestClusterFailoverServeKill9(t *testing.T) {
	c := newProcCluster(t, killTTL)
	video := footage(t)
	grey := greyFrames(t, replayFrames, 48, 32) // the recorded boxes stay in the scene's 1000×800 coordinates
	tracks := absPath(t, filepath.Join(failoverScenario, "tracks.txt"))
	replayScene := absPath(t, filepath.Join(failoverScenario, "scene.yaml"))
	wantPerCamera := scenarioAlerts(t, float64(replayFrames-1)/failoverFPS)

	// The footage cameras sort first, so the coordinator places them
	// first, on two different workers (cluster.Plan).
	var cams strings.Builder
	frames := map[string]int{}
	var ids, replays []string
	for i := range videoCameras {
		id := fmt.Sprintf("cam-v%d", i+1)
		ids, frames[id] = append(ids, id), videoFrames
		cams.WriteString(videoCamera(id, video, absPath(t, petsSceneFile)))
	}
	for i := range replayCameras {
		id := fmt.Sprintf("rep-%02d", i+1)
		ids, replays, frames[id] = append(ids, id), append(replays, id), replayFrames
		cams.WriteString(replayCamera(id, grey, replayScene, tracks))
	}
	workers := []string{"w1", "w2", "w3"}
	for _, n := range workers {
		c.start(n, nodeOpts{roles: "[worker]", detector: "detector: {threads: 1}", anomaly: "anomaly: {save_every: 1s}"})
	}
	waitFor(t, "three workers' heartbeats", 2*time.Minute, func() bool { return len(liveNodes(t, c.obs)) == 3 })
	c.start("api", nodeOpts{roles: "[api, coordinator]", store: fmt.Sprintf("store: {driver: postgres, dsn: %q}", c.dsn), cameras: cams.String()})
	c.waitPlaced(ids, workers...)

	st := c.status()
	victim := st.Cameras["cam-v1"]
	require.NotEqual(t, victim, st.Cameras["cam-v2"], "the footage cameras are placed on different workers")
	moved := c.byNode()[victim]
	c.waitHandedOver(victim, moved)

	killedAt := c.kill(victim)
	started := c.waitStarted(victim, moved, killedAt)
	t.Logf("killed %s (%d cameras: %v); they were started on the others %v after the kill (node TTL %v)",
		victim, len(moved), moved, started.Round(time.Millisecond), killTTL)
	require.Less(t, started, failoverLimit, "cameras run elsewhere within 15 s")
	unheld := c.waitAnalysing(victim, moved, killedAt)
	for _, cam := range moved {
		t.Logf("gap: %s analysed no frame for %v after the kill (%.0f frames at %.0f fps: a file camera replays them, a live one loses them)",
			cam, unheld[cam].Round(time.Millisecond), unheld[cam].Seconds()*failoverFPS, failoverFPS)
	}

	c.waitFinished(ids, frames, finishLimit, func(got map[string][]clusterAlert) string {
		for _, id := range replays {
			if len(got[id]) < wantPerCamera {
				return fmt.Sprintf("%s has %d of %d alerts", id, len(got[id]), wantPerCamera)
			}
		}
		if len(got["cam-v2"]) == 0 || len(got["cam-v1"]) != len(got["cam-v2"]) {
			return fmt.Sprintf("footage alerts: cam-v1 %v, cam-v2 %v", tuples(got["cam-v1"]), tuples(got["cam-v2"]))
		}
		return ""
	})

	ref := ""
	for _, id := range replays {
		if !slices.Contains(moved, id) {
			ref = id
			break
		}
	}
	c.requireUndisturbedAlerts(replays, ref, wantPerCamera)
	c.requireBaselinesContinued(moved, frames, ref)
}

// waitHandedOver waits until each of the victim's cameras has learned
// handoverMinMT and has a baseline in the handover store, and an alert is
// stored.
func (c *procCluster) waitHandedOver(victim string, moved []string) {
	c.t.Helper()
	last := ""
	waitFor(c.t, "the victim's cameras learning, their baselines handed over, and an alert stored", finishLimit, func() bool {
		learned := cameraMetrics(c.procs[victim].addr)
		for _, cam := range moved {
			ho, _, err := c.obs.Handover().Load(context.Background(), cam)
			if learned[cam].baseline.ModelTime < handoverMinMT || err != nil || len(ho.Baseline) == 0 {
				if why := fmt.Sprintf("%s: learned %v, handover %d bytes (%v)", cam, learned[cam].baseline.ModelTime,
					len(ho.Baseline), err); why != last {
					c.t.Logf("waiting for the handover: %s", why) // says which camera a timeout waited for
					last = why
				}
				return false
			}
		}
		return alertCount(c.t, c.db) > 0
	})
}

// requireUndisturbedAlerts checks that every replay camera has exactly
// the undisturbed camera ref's alerts (the scenario's), the moved footage
// camera cam-v1 exactly cam-v2's, and that each is stored once.
func (c *procCluster) requireUndisturbedAlerts(replays []string, ref string, wantPerCamera int) {
	c.t.Helper()
	got := clusterAlertsByCamera(c.t, c.db)
	require.Len(c.t, got[ref], wantPerCamera, "the undisturbed camera %s raised the scenario's alerts", ref)
	for _, id := range replays {
		requireSameAlerts(c.t, got, id, ref)
	}
	requireSameAlerts(c.t, got, "cam-v1", "cam-v2")
	total := len(replays)*wantPerCamera + videoCameras*len(got["cam-v2"])
	c.requireNoDuplicates(total)
	c.t.Logf("%d alerts: %d per replay camera, %d per footage camera (%v)", total, len(got[ref]), len(got["cam-v2"]), tuples(got["cam-v2"]))
}

// waitStarted waits until every camera the victim held is running on a
// live worker (leased and started there, as the workers' heartbeats
// report) and returns how long after the kill.
func (c *procCluster) waitStarted(victim string, moved []string, killedAt time.Time) time.Duration {
	c.t.Helper()
	waitFor(c.t, "the killed worker's cameras running on the others", 2*time.Minute, func() bool {
		st := c.status()
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
		return running == len(st.Cameras)
	})
	return time.Since(killedAt)
}

// waitAnalysing waits until each camera the victim held has analysed a
// frame on another node and returns, per camera, how long after the kill.
func (c *procCluster) waitAnalysing(victim string, moved []string, killedAt time.Time) map[string]time.Duration {
	c.t.Helper()
	unheld := map[string]time.Duration{}
	waitFor(c.t, "the killed worker's cameras analysing on the others", finishLimit, func() bool {
		st := c.status()
		metrics := map[string]map[string]camMetrics{}
		for _, cam := range moved {
			n := st.Cameras[cam]
			if _, done := unheld[cam]; done || n == "" || n == victim {
				continue
			}
			if metrics[n] == nil {
				metrics[n] = cameraMetrics(c.procs[n].addr)
			}
			if metrics[n][cam].detected > 0 {
				unheld[cam] = time.Since(killedAt)
			}
		}
		return len(unheld) == len(moved)
	})
	return unheld
}

// requireBaselinesContinued checks that each moved camera's baseline went
// on from what the killed node handed over: a file camera replays its
// file from the first frame on the new node, so a baseline learned from
// zero would have one pass of model time, and one continued from the
// handed-over state has more.
func (c *procCluster) requireBaselinesContinued(moved []string, frames map[string]int, ref string) {
	c.t.Helper()
	st := c.status()
	for _, cam := range moved {
		// The gauges are set at each save (anomaly.save_every): wait for
		// the one after the last frame.
		pass := time.Duration(float64(frames[cam]-1) / failoverFPS * float64(time.Second))
		var b baselineState
		waitFor(c.t, cam+"'s baseline beyond one pass of its file, continued from the handed-over one", time.Minute, func() bool {
			b = cameraMetrics(c.procs[st.Cameras[cam]].addr)[cam].baseline
			return b.ModelTime > pass
		})
		refState := cameraMetrics(c.procs[st.Cameras[ref]].addr)[ref].baseline
		c.t.Logf("baseline of %s on %s: %v of model time, %d tracks learned (one pass of its file: %v; undisturbed %s: %v, %d tracks)",
			cam, st.Cameras[cam], b.ModelTime, b.LearnedTracks, pass, ref, refState.ModelTime, refState.LearnedTracks)
	}
}

// footage extracts the failover footage as PNG frames (lossless: the
// detector sees the video's own pixels), skipping without the video or
// the model.
func footage(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(vtestAVI); err != nil {
		t.Skipf("%s missing (Debian package opencv-doc): %v", vtestAVI, err)
	}
	home, err := os.UserHomeDir()
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(home, ".cache/vigil/models/yolov8n.onnx")); err != nil {
		t.Skipf("yolov8n.onnx missing (scripts/setup.sh): %v", err)
	}
	dir := filepath.Join(t.TempDir(), "footage")
	require.NoError(t, os.Mkdir(dir, 0o755))
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-ss", "49", "-i", vtestAVI,
		"-t", strconv.Itoa(footageSeconds), filepath.Join(dir, "f%04d.png")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	n, err := filepath.Glob(filepath.Join(dir, "*.png"))
	require.NoError(t, err)
	require.Len(t, n, videoFrames)
	return dir
}

func absPath(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	require.NoError(t, err)
	return a
}

// scenarioAlerts is how many alerts the replay scenario raises that end
// by second until of its stream.
func scenarioAlerts(t *testing.T, until float64) int {
	t.Helper()
	expected, err := os.ReadFile(filepath.Join(failoverScenario, "expected.jsonl"))
	require.NoError(t, err)
	n := 0
	for line := range strings.Lines(string(expected)) {
		var a struct {
			End float64 `json:"end"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &a))
		if a.End <= until {
			n++
		}
	}
	require.Positive(t, n)
	return n
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
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the test, even one killed before its cleanup
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
			keepLog(t, node, out)
		}
	})
	return p
}

// keepLogsEnv names a folder where a failed test leaves its nodes' whole
// logs: the 4000 characters shown are the end of a run, and a CI failure
// is often decided minutes before it.
const keepLogsEnv = "VIGIL_TEST_KEEP_LOGS"

func keepLog(t *testing.T, node string, out []byte) {
	dir := os.Getenv(keepLogsEnv)
	if dir == "" {
		return
	}
	path := filepath.Join(dir, t.Name()+"-"+node+".log")
	if err := os.MkdirAll(dir, 0o755); err != nil || os.WriteFile(path, out, 0o644) != nil {
		t.Logf("%s: could not keep %s's log in %s", keepLogsEnv, node, dir)
		return
	}
	t.Logf("%s's whole log: %s", node, path)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// observer is a read-only handle on the cluster's buckets for status.
func observer(t *testing.T, urls []string, ttl time.Duration) *cluster.Cluster {
	t.Helper()
	conn, err := cluster.Connect(context.Background(), cluster.NATSOptions{URLs: urls})
	require.NoError(t, err)
	t.Cleanup(conn.Close)
	c, err := cluster.Open(context.Background(), conn, cluster.Options{Node: "test-observer", Replicas: 3, NodeTTL: ttl, LeaderTTL: ttl})
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
	modelMetric   = regexp.MustCompile(`^vigil_baseline_model_seconds\{camera="([^"]+)"\} (\S+)$`)
	learnedMetric = regexp.MustCompile(`^vigil_baseline_learned_tracks\{camera="([^"]+)"\} (\S+)$`)
)

type camMetrics struct {
	detected int
	stopped  bool
	baseline baselineState // as of the last save; zero before one
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
		if m := modelMetric.FindStringSubmatch(sc.Text()); m != nil {
			c := out[m[1]]
			v, _ := strconv.ParseFloat(m[2], 64)
			c.baseline.ModelTime = time.Duration(v * float64(time.Second))
			out[m[1]] = c
		}
		if m := learnedMetric.FindStringSubmatch(sc.Text()); m != nil {
			c := out[m[1]]
			v, _ := strconv.ParseFloat(m[2], 64)
			c.baseline.LearnedTracks = int64(v)
			out[m[1]] = c
		}
	}
	return out
}
