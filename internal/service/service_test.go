package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/detect/onnx"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

const vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

func testModel(t testing.TB) *onnx.Detector {
	t.Helper()
	if _, err := os.Stat(vtest); err != nil {
		t.Skip("vtest.avi missing; run make setup")
	}
	return yoloModel(t, 2, 640, 480)
}

// yoloModel is the cached yolov8n at w×h with threads intra-op threads,
// closed when the test ends; the test skips when make setup has not run.
func yoloModel(t testing.TB, threads, w, h int) *onnx.Detector {
	return cachedModel(t, "yolov8n.onnx", threads, w, h)
}

// cachedModel is a model file of make setup's cache (VIGIL_CACHE, default
// ~/.cache/vigil).
func cachedModel(t testing.TB, file string, threads, w, h int) *onnx.Detector {
	t.Helper()
	return openCached(t, file, onnx.Config{Threads: threads, InputW: w, InputH: h})
}

// cachedRegionModel is a single-threaded region detector as serve opens
// it: crops up to 320×320, each run at its own size.
func cachedRegionModel(t testing.TB, file string) *onnx.Detector {
	t.Helper()
	return openCached(t, file, onnx.Config{Threads: 1, InputW: 320, InputH: 320, AnySize: true})
}

func openCached(t testing.TB, file string, cfg onnx.Config) *onnx.Detector {
	t.Helper()
	cache := os.Getenv("VIGIL_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "vigil")
	}
	cfg.Model, cfg.Library = filepath.Join(cache, "models", file), filepath.Join(cache, "lib", "libonnxruntime.so.1")
	cfg.Decode = detect.DecodeOptions{Conf: 0.1, IoU: 0.6}
	if err := onnx.CheckFiles(cfg); err != nil {
		t.Skipf("%v", err)
	}
	m, err := onnx.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

// TestServeRaisesAlertsOverSSE runs the whole service on the looping
// sample camera with its scene: the camera streams, alerts are stored,
// arrive on the SSE stream, and the camera URL's password never shows.
func TestServeRaisesAlertsOverSSE(t *testing.T) {
	model := testModel(t)
	dir := t.TempDir()
	base, stop := startService(t, model, plazaConfig(dir, ""))
	events := subscribe(t, base)

	alert := waitFor(t, events, func(e sseEvent) bool { return e.typ == "alert" }, hangTimeout).data
	var a struct {
		ID    int64 `json:"id"`
		Event struct {
			Rule   string `json:"rule"`
			Camera string `json:"camera"`
		} `json:"event"`
		State string `json:"state"`
	}
	require.NoError(t, json.Unmarshal([]byte(alert), &a))
	require.Equal(t, "plaza", a.Event.Camera)
	require.Equal(t, "new", a.State)

	r, err := http.Get(base + "/api/v1/cameras/plaza/status")
	require.NoError(t, err)
	var status struct {
		State          string `json:"state"`
		FramesDetected int64  `json:"frames_detected"`
	}
	require.NoError(t, json.NewDecoder(r.Body).Decode(&status))
	r.Body.Close()
	require.Equal(t, "streaming", status.State)
	require.Positive(t, status.FramesDetected)

	m, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	metrics, err := io.ReadAll(m.Body)
	m.Body.Close()
	require.NoError(t, err)
	for _, want := range []string{`vigil_frames_total{camera="plaza",stage="detected"}`, `vigil_frames_gated_total{camera="plaza"}`,
		`vigil_inference_seconds_bucket{camera="plaza"`, `vigil_alerts_total{camera="plaza"`, `vigil_queue_depth{camera="plaza"}`} {
		require.Contains(t, string(metrics), want)
	}
	require.NotContains(t, string(metrics), vtest, "metric labels carry camera ids, never URLs")

	// The alert's snapshot is served now, its clip once the post-roll has
	// been recorded and encoded.
	snap, err := http.Get(fmt.Sprintf("%s/api/v1/alerts/%d/snapshot", base, a.ID))
	require.NoError(t, err)
	snap.Body.Close()
	require.Equal(t, http.StatusOK, snap.StatusCode)
	require.Eventually(t, func() bool {
		r, err := http.Get(fmt.Sprintf("%s/api/v1/alerts/%d/clip", base, a.ID))
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == http.StatusOK && r.Header.Get("Content-Type") == "video/mp4"
	}, hangTimeout, 250*time.Millisecond, "alert clip")

	require.NoError(t, stop())
}

// plazaConfig is a service config with the looping sample camera and its
// scene; extra is added as top-level YAML (e.g. an anomaly section).
func plazaConfig(dir, extra string) string {
	return `version: 1
listen: "127.0.0.1:0"
data_dir: ` + dir + "\n" + extra + `
cameras:
  - id: plaza
    url: ` + vtest + `
    loop: true
    fps: 5
    classes: person
    scene: ../../scenes/pets09-s2l1.yaml
`
}

// startService runs the service on a config; stop ends it and returns
// Run's result.
func startService(t *testing.T, model Model, cfgYAML string) (base string, stop func() error) {
	t.Helper()
	base, _, stop = startServiceOn(t, cfgYAML, Deps{Model: model}, nil)
	return base, stop
}

// startServiceWith is startService with the service's dependencies but
// the store (made here).
func startServiceWith(t *testing.T, cfgYAML string, deps Deps) (base string, stop func() error) {
	t.Helper()
	base, _, stop = startServiceOn(t, cfgYAML, deps, nil)
	return base, stop
}

// startServiceOn is startServiceWith with the store wrapped by wrap (nil:
// as opened), returning the service too.
func startServiceOn(t *testing.T, cfgYAML string, deps Deps, wrap func(*sqlite.Store) store.Store) (base string, svc *Service, stop func() error) {
	t.Helper()
	cfg, err := config.Parse([]byte(cfgYAML), "test.yaml")
	require.NoError(t, err)
	cfg.Auth.Disabled = true // the API is driven without logging in (loopback only)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "vigil.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	deps.Store = st
	if wrap != nil {
		deps.Store = wrap(st)
	}
	svc, err = New(cfg, deps)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, ln) }()
	return "http://" + ln.Addr().String(), svc, func() error { cancel(); return <-done }
}

// subscribe opens the SSE stream.
func subscribe(t *testing.T, base string) <-chan sseEvent {
	t.Helper()
	var resp *http.Response
	require.Eventually(t, func() bool {
		r, err := http.Get(base + "/api/v1/events")
		resp = r
		return err == nil
	}, hangTimeout, 50*time.Millisecond)
	t.Cleanup(func() { resp.Body.Close() })
	require.Equal(t, "text/event-stream", strings.Split(resp.Header.Get("Content-Type"), ";")[0])
	return sseEvents(resp)
}
