package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/service"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

// TestServeAnalyzeParity plays the same footage once through `vigil
// serve` (a file camera with loop: false) and through `vigil analyze`,
// with the same scene: both run the one analysis chain, so they must
// raise the same alerts — same rule, place, class and start within one
// frame. Track ids are compared too: with every frame analysed (the
// camera is lossless) the detections are the same, and so are the ids.
func TestServeAnalyzeParity(t *testing.T) {
	skipShort(t)
	needSetup(t)
	t.Run("pets09", func(t *testing.T) {
		parity(t, vtest, petsScene, "person", 10)
	})
	t.Run("highway-reversed", func(t *testing.T) {
		parity(t, reversedImages(t, shared(t, "data/cdnet-highway/input")), highwayScene, "vehicle", 25)
	})
}

func parity(t *testing.T, input, sceneFile, classes string, fps float64) {
	dir := t.TempDir()
	analyzed := filepath.Join(dir, "analyze.jsonl")
	analyze(t, "--classes", classes, "--scene", sceneFile, "--events", analyzed, "--image-fps", fmt.Sprint(fps), input)
	want := readEvents(t, analyzed)
	got := serveOnce(t, dir, input, sceneFile, classes, fps)
	t.Logf("%s: analyze raised %d alerts, serve %d", filepath.Base(input), len(want), len(got))
	require.NotEmpty(t, want)
	require.Len(t, got, len(want), "the same number of alerts")
	sortEvents(want)
	sortEvents(got)
	for i := range want {
		w, g := want[i], got[i]
		require.Equal(t, w.Rule, g.Rule, "alert %d", i)
		require.Equal(t, w.Place(), g.Place(), "alert %d", i)
		require.Equal(t, w.Class, g.Class, "alert %d", i)
		require.InDelta(t, w.Start, g.Start, 1/fps+1e-6, "alert %d (%s) starts within one frame", i, w.Rule)
		require.Equal(t, w.Tracks, g.Tracks, "alert %d: the same detections give the same track ids", i)
	}
}

func sortEvents(evs []event.Event) {
	slices.SortFunc(evs, func(a, b event.Event) int {
		return strings.Compare(fmt.Sprintf("%010.3f %s %s %v", a.Start, a.Rule, a.Place(), a.Tracks),
			fmt.Sprintf("%010.3f %s %s %v", b.Start, b.Rule, b.Place(), b.Tracks))
	})
}

// serveOnce runs `vigil serve` with one file camera played once and
// returns the alerts it stored once the camera has finished.
func serveOnce(t *testing.T, dir, input, sceneFile, classes string, fps float64) []event.Event {
	t.Helper()
	scenePath, err := filepath.Abs(sceneFile)
	require.NoError(t, err)
	cfg, err := config.Parse([]byte(fmt.Sprintf(`version: 1
data_dir: %s
cameras:
  - {id: cam, url: %s, loop: false, fps: %v, image_fps: %v, classes: %s, scene: %s}
`, filepath.Join(dir, "serve"), input, fps, fps, classes, scenePath)), "parity.yaml")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(t, os.MkdirAll(cfg.DataDir, 0o700))
	st, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "vigil.db"))
	require.NoError(t, err)
	defer st.Close()
	model, err := openServeModel(cfg.Detector)
	require.NoError(t, err)
	defer model.Close()
	svc, err := service.New(cfg, service.Deps{Store: st, Model: model})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, ln) }()
	waitStopped(t, svc, "cam")
	cancel()
	require.NoError(t, <-done)
	alerts, err := st.ListAlerts(context.Background(), store.AlertFilter{Limit: 1000})
	require.NoError(t, err)
	evs := make([]event.Event, len(alerts))
	for i, a := range alerts {
		evs[i] = a.Event
	}
	return evs
}

// waitStopped waits until the camera has analysed its whole input. The
// deadline only keeps a hung run from hanging the suite.
func waitStopped(t *testing.T, svc *service.Service, camera string) {
	t.Helper()
	var finished <-chan struct{}
	require.Eventually(t, func() bool { finished = svc.Finished(camera); return finished != nil }, hangTimeout, 10*time.Millisecond)
	select {
	case <-finished:
	case <-time.After(hangTimeout):
		t.Fatal("the camera did not finish its input")
	}
	st, ok := svc.Status(camera)
	require.True(t, ok)
	require.Equal(t, "stopped", string(st.State))
	require.Equal(t, "end of input", st.Reason)
	require.Zero(t, st.FramesDropped, "a file played once loses no frame")
}

// reversedImages links an image sequence's frames into a new folder in
// reverse order: the same footage played backwards, as a folder of links.
func reversedImages(t *testing.T, dir string) string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.jpg"))
	require.NoError(t, err)
	require.NotEmpty(t, names)
	slices.Sort(names)
	out := filepath.Join(t.TempDir(), "reversed")
	require.NoError(t, os.Mkdir(out, 0o755))
	for i, n := range slices.Backward(names) {
		abs, err := filepath.Abs(n)
		require.NoError(t, err)
		require.NoError(t, os.Symlink(abs, filepath.Join(out, fmt.Sprintf("r%06d.jpg", len(names)-1-i))))
	}
	return out
}
