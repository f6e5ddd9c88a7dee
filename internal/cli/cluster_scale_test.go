package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
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
	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/motfile"
)

// The scale benchmark's replay input: PETS09-S2L1's ground truth as the
// recorded detections of every camera, with its scene's rules.
const (
	scaleGT    = "../../../shared/data/mot/PETS09-S2L1/gt.txt"
	scaleScene = "../../scenes/pets09-s2l1.yaml"
	scaleFPS   = 5
	scaleTTL   = 15 * time.Second // node and leader TTL: a busy box must not fence its workers
)

// TestClusterScaleBench is the issue's scale benchmark, run by `make
// bench-cluster` and skipped otherwise: real `vigil serve` processes,
// three workers and one api+coordinator node (PostgreSQL store, auth on),
// over an in-process 3-server NATS cluster, with N replay cameras at
// 5 fps (recorded detections through the full analysis chain; as video a
// replay source made in process, or a looping grey image folder decoded by
// ffmpeg), added in batches. After they analyse (or
// a start-up allowance ends) and a warm-up, it measures for a window:
// alerts/s into PostgreSQL, p50/p95 from the event's raise time (camera
// clock) to its PostgreSQL row and to the api node's SSE stream, CPU and RSS per process from /proc, consumer lag
// from the cluster status, and the cameras each worker kept at 5 fps.
//
// VIGIL_BENCH_CLUSTER lists the camera counts (e.g. "305,3000");
// VIGIL_BENCH_DURATION the window (default 60s); VIGIL_BENCH_WARMUP the
// warm-up (default 20s); VIGIL_BENCH_RAMP the batch size (default 20);
// VIGIL_BENCH_LOGS a folder for the nodes' logs; VIGIL_BENCH_SOURCE the
// cameras' video: replay (default: frames made in process, url
// replay:…) or ffmpeg (a looping grey image folder decoded by ffmpeg);
// VIGIL_BENCH_CLIPS=off the workers' alert clips.
func TestClusterScaleBench(t *testing.T) {
	spec := os.Getenv("VIGIL_BENCH_CLUSTER")
	if spec == "" {
		t.Skip("a measurement: run by make bench-cluster (VIGIL_BENCH_CLUSTER=305,3000)")
	}
	if _, err := os.Stat(scaleGT); err != nil {
		t.Skipf("PETS09-S2L1 ground truth not found (%v); the scale benchmark replays it", err)
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil && scaleSource() == "ffmpeg" {
		t.Skip("ffmpeg not on PATH")
	}
	if os.Getenv("VIGIL_TEST_POSTGRES") == "" {
		t.Setenv("VIGIL_TEST_POSTGRES", "postgres://vigil:vigil@127.0.0.1:5432/vigil?sslmode=disable")
	}
	for _, s := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		require.NoError(t, err, "VIGIL_BENCH_CLUSTER: %q", spec)
		t.Run(fmt.Sprint(n), func(t *testing.T) { runScale(t, n) })
	}
}

// scaleRun is one benchmark run's cluster and what it reads.
type scaleRun struct {
	n       int
	workers []*vigilProc
	api     *vigilProc
	obs     *cluster.Cluster
	db      *pgx.Conn
	sse     *sseWatch
	url     string // the replay cameras' video: a replay source or an image folder
	scene   string // their scene file
}

// scalePasses is how many passes of PETS09-S2L1 the recorded detections
// hold: 24 passes of 795 frames, over an hour at 5 fps.
const scalePasses = 24

// scaleSource is VIGIL_BENCH_SOURCE: replay (default) or ffmpeg.
func scaleSource() string {
	if os.Getenv("VIGIL_BENCH_SOURCE") == "ffmpeg" {
		return "ffmpeg"
	}
	return "replay"
}

// scaleMedia is the workers' media: line: VIGIL_BENCH_CLIPS=off turns
// alert clips (an ffmpeg encoder each) off.
func scaleMedia() string {
	if os.Getenv("VIGIL_BENCH_CLIPS") == "off" {
		return "media: {no_clips: true}"
	}
	return ""
}

// scaleVideo is the cameras' video: a replay source as long as the
// recorded detections at 5 fps, or a looping folder of 3,000 images.
func scaleVideo(t *testing.T, frames int) string {
	if scaleSource() == "ffmpeg" {
		return flickerFrames(t, 3000, 48, 32)
	}
	return fmt.Sprintf("replay:frames=%d,size=48x32,fps=%d", frames, scaleFPS)
}

func runScale(t *testing.T, n int) {
	window := envDuration("VIGIL_BENCH_DURATION", time.Minute)
	warmup := envDuration("VIGIL_BENCH_WARMUP", 20*time.Second)
	r := startScale(t, n)
	t0 := time.Now()
	r.rampUp(t)
	t.Logf("%d cameras added, placed and analysing after %v; warm-up %v, window %v", n, time.Since(t0).Round(time.Second), warmup, window)
	time.Sleep(warmup) // part of the measurement design: skip the start burst

	m := r.measure(t, window)
	m.report(t, n)
}

// startScale starts the NATS cluster, the workers, the api node (with no
// camera yet: rampUp adds them) and an SSE client on it.
func startScale(t *testing.T, n int) *scaleRun {
	dsn := clustertest.PostgresSchema(t).String()
	nc := clustertest.Start(t, 3, clustertest.Options{})
	bin := buildVigil(t)
	recorded, frames := scaleRecorded(t, scalePasses)
	scene, err := filepath.Abs(scaleScene)
	require.NoError(t, err)

	r := &scaleRun{n: n, obs: observer(t, nc.URLs(), scaleTTL), url: scaleVideo(t, frames), scene: scene}
	for _, node := range []string{"w1", "w2", "w3"} {
		cfg := nodeConfig(t, node, nc.URLs(), scaleTTL, nodeOpts{roles: "[worker]", detector: "detector: {recorded: " + recorded + "}",
			media: scaleMedia()})
		r.workers = append(r.workers, startVigil(t, bin, node, cfg))
	}
	waitFor(t, "three workers' heartbeats", 3*time.Minute, func() bool { return len(liveNodes(t, r.obs)) == 3 })

	cfg := nodeConfig(t, "api", nc.URLs(), scaleTTL, nodeOpts{roles: "[api, coordinator]",
		store: fmt.Sprintf("store: {driver: postgres, dsn: %q}", dsn)})
	patchConfig(t, cfg, withAuth)
	token := benchToken(t, bin, cfg)
	r.db = pgConn(t, dsn)
	stampInserts(t, r.db)
	r.api = startVigil(t, bin, "api", cfg)
	r.sse = watchSSE(t, r.api.addr, token)
	keepLogs(t, append([]*vigilProc{r.api}, r.workers...))
	t.Cleanup(func() { stopTrees(r.workers) })
	return r
}

// stopTrees kills the workers with their ffmpeg children, which would
// otherwise outlive them and write clips into a data directory being
// removed. Each worker is stopped first so that it starts no child
// while its children are collected.
func stopTrees(procs []*vigilProc) {
	for _, p := range procs {
		pid := p.cmd.Process.Pid
		_ = syscall.Kill(pid, syscall.SIGSTOP)
		for _, child := range childPIDs(pid) {
			_ = syscall.Kill(child, syscall.SIGKILL)
		}
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
}

// keepLogs copies the nodes' logs to VIGIL_BENCH_LOGS, when set, as the
// run ends.
func keepLogs(t *testing.T, procs []*vigilProc) {
	dir := os.Getenv("VIGIL_BENCH_LOGS")
	if dir == "" {
		return
	}
	t.Cleanup(func() {
		for _, p := range procs {
			if raw, err := os.ReadFile(p.log); err == nil {
				_ = os.WriteFile(filepath.Join(dir, p.node+".log"), raw, 0o644)
			}
		}
	})
}

// rampUp adds the cameras to the config bucket in batches, each once
// the cameras before it analyse (or a minute has passed), as an operator
// adding a city's cameras would: hundreds of decoders started at once on
// one busy box time out in their first probe and retry together. Then it
// waits for every camera to analyse, or until the start-up allowance
// ends on a box too busy to start them all: the window measures what
// runs, and says how many do.
func (r *scaleRun) rampUp(t *testing.T) {
	batch := 20
	if v, err := strconv.Atoi(os.Getenv("VIGIL_BENCH_RAMP")); err == nil && v > 0 {
		batch = v
	}
	for added := 0; added < r.n; {
		next := min(r.n, added+batch)
		for i := added; i < next; i++ {
			r.addCamera(t, fmt.Sprintf("cam-%04d", i+1))
		}
		added = next
		r.waitAnalysing(t, added-added/20, time.Minute)
	}
	placed, running := r.waitAnalysing(t, r.n, 2*time.Minute)
	if running < r.n {
		t.Logf("start-up allowance over: %d of %d cameras placed, %d analysing", placed, r.n, running)
	}
}

// waitAnalysing polls until want cameras analyse or limit passes.
func (r *scaleRun) waitAnalysing(t *testing.T, want int, limit time.Duration) (placed, running int) {
	deadline := time.Now().Add(limit)
	for {
		placed, running = r.running(t)
		if running >= want || time.Now().After(deadline) {
			return placed, running
		}
		time.Sleep(time.Second) // polling the cluster's state
	}
}

// addCamera writes a replay camera and its scene to the config bucket,
// as the api node does for a camera configured through its API or file;
// the coordinator places it and its worker starts it.
func (r *scaleRun) addCamera(t *testing.T, id string) {
	spec, err := json.Marshal(config.Camera{ID: id, Name: id, URL: r.url, Loop: true, FPS: scaleFPS, ImageFPS: scaleFPS})
	require.NoError(t, err)
	scene, err := os.ReadFile(r.scene)
	require.NoError(t, err)
	retry(t, "put scene "+id, func(ctx context.Context) error {
		_, err := r.obs.Config().Put(ctx, cluster.ConfigScene, id, scene)
		return err
	})
	retry(t, "put camera "+id, func(ctx context.Context) error {
		_, err := r.obs.Config().PutCamera(ctx, cluster.CameraConfig{ID: id, FPS: scaleFPS, Spec: spec})
		return err
	})
}

// retry runs a cluster call until it succeeds, at most ten times: on a
// busy box a JetStream call may exceed its 5 s timeout.
func retry(t *testing.T, what string, call func(ctx context.Context) error) {
	t.Helper()
	var err error
	for range 10 {
		if err = call(context.Background()); err == nil {
			return
		}
	}
	t.Fatalf("%s: %v", what, err)
}

// running counts the cameras with a node and those analysing frames.
func (r *scaleRun) running(t *testing.T) (placed, running int) {
	st := r.status(t)
	for _, node := range st.Cameras {
		if node != "" {
			placed++
		}
	}
	for _, w := range r.workers {
		for _, frames := range analysedFrames(w.addr) {
			if frames > 0 {
				running++
			}
		}
	}
	return placed, running
}

// withAuth turns authentication on: the SSE client needs a token.
func withAuth(cfg string) string { return strings.Replace(cfg, "auth: {disabled: true}\n", "", 1) }

// patchConfig rewrites a node's config file written by nodeConfig.
func patchConfig(t *testing.T, path string, edits ...func(string) string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	cfg := string(raw)
	for _, edit := range edits {
		next := edit(cfg)
		require.NotEqual(t, cfg, next, "config edit changed nothing:\n%s", cfg)
		cfg = next
	}
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
}

// scaleRecorded writes PETS09-S2L1's ground truth passes times over,
// each pass after the last with fresh track ids, as the workers'
// recorded detections: frame n of every camera is row frame n. It
// returns the file and its number of frames.
func scaleRecorded(t *testing.T, passes int) (string, int) {
	t.Helper()
	rows, err := motfile.ReadFile(scaleGT)
	require.NoError(t, err)
	last, maxID := 0, 0
	for _, r := range rows {
		last, maxID = max(last, r.Frame), max(maxID, r.ID)
	}
	var out []motfile.Row
	for p := range passes {
		for _, r := range rows {
			r.Frame += p * last
			r.ID += p * (maxID + 1)
			out = append(out, r)
		}
	}
	path := filepath.Join(t.TempDir(), "recorded.txt")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, motfile.Write(f, out))
	require.NoError(t, f.Close())
	return path, passes * last
}

// flickerFrames writes n frames alternating between two grey levels
// (hard links of two PNGs): every frame differs from the last, so the
// motion gate of a live camera passes each one to the analysis chain, as
// it would a busy street.
func flickerFrames(t *testing.T, n, w, h int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "frames")
	require.NoError(t, os.Mkdir(dir, 0o755))
	for i := 1; i <= n; i++ {
		name := filepath.Join(dir, fmt.Sprintf("f%05d.png", i))
		if i > 2 {
			require.NoError(t, os.Link(filepath.Join(dir, fmt.Sprintf("f%05d.png", 2-i%2)), name))
			continue
		}
		img := image.NewGray(image.Rect(0, 0, w, h))
		for p := range img.Pix {
			img.Pix[p] = uint8(96 + 64*(i%2))
		}
		f, err := os.Create(name)
		require.NoError(t, err)
		require.NoError(t, png.Encode(f, img))
		require.NoError(t, f.Close())
	}
	return dir
}

// benchToken creates an admin user and a viewer API token in the api
// node's store with `vigil user add` and `vigil token create`.
func benchToken(t *testing.T, bin, cfg string) string {
	t.Helper()
	add := exec.Command(bin, "user", "add", "bench", "--role", "admin", "--config", cfg)
	add.Stdin = strings.NewReader("bench-password-for-the-scale-run\n")
	out, err := add.CombinedOutput()
	require.NoError(t, err, "%s", out)
	tok := exec.Command(bin, "token", "create", "--user", "bench", "--name", "scale-sse", "--role", "viewer", "--config", cfg)
	secret, err := tok.Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(secret))
}

// stampInserts gives the alerts table a column the database fills with
// the time of each row's insert, so event → row needs no clock but the
// machine's. The store names its columns, so the extra one is left to
// its default.
func stampInserts(t *testing.T, db *pgx.Conn) {
	t.Helper()
	_, err := db.Exec(context.Background(), `ALTER TABLE alerts ADD COLUMN bench_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()`)
	require.NoError(t, err)
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

// pctl is the p-quantile of xs (nearest rank); 0 for none.
func pctl(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}
