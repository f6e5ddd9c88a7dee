package service

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

// A camera with its own recorded detections (cameras[].recorded) is a
// replay camera beside the node's model: its frames get the file's
// detections, while a camera without them on the same node is detected by
// the node's model (here recorded detections of nobody).
func TestReplayCameraBesideTheNodeModel(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "nobody.txt")
	require.NoError(t, os.WriteFile(empty, []byte("1,1,10,10,20,40,0,1,1\n"), 0o644)) // one ignored row
	model, err := NewRecordedModel(empty)
	require.NoError(t, err)
	tracks, err := filepath.Abs(filepath.Join(lineCrossing, "tracks.txt"))
	require.NoError(t, err)
	sceneFile, err := filepath.Abs(filepath.Join(lineCrossing, "scene.yaml"))
	require.NoError(t, err)
	frames := greyFrames(t, 301)
	cfg, err := config.Parse(fmt.Appendf(nil, `version: 1
data_dir: %s
anomaly: {disabled: true}
cameras:
  - {id: replay, url: %s, loop: false, fps: 10, image_fps: 10, scene: %s, recorded: %s, start_time: "2026-01-05T12:00:00Z"}
  - {id: plain, url: %s, loop: false, fps: 10, image_fps: 10, scene: %s, start_time: "2026-01-05T12:00:00Z"}
`, dir, frames, sceneFile, tracks, frames, sceneFile), "t.yaml")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "vigil.db"))
	require.NoError(t, err)
	defer st.Close()
	svc, err := New(cfg, Deps{Store: st, Model: model})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, listen(t)) }()
	for _, cam := range []string{"replay", "plain"} {
		var finished <-chan struct{}
		require.Eventually(t, func() bool { finished = svc.Finished(cam); return finished != nil }, hangTimeout, 10*time.Millisecond)
		select {
		case <-finished:
		case <-time.After(hangTimeout):
			t.Fatalf("camera %s did not finish its input", cam)
		}
	}
	cancel()
	require.NoError(t, <-done)
	alerts, err := st.ListAlerts(context.Background(), store.AlertFilter{Limit: 500})
	require.NoError(t, err)
	per := map[string]int{}
	for _, a := range alerts {
		per[a.Event.Camera]++
	}
	require.Equal(t, map[string]int{"replay": 4}, per, "the scenario's four crossings on the replay camera only")
}
