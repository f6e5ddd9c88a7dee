package service

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
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
	alerts := playFiles(t, model, fmt.Sprintf(`version: 1
data_dir: %s
anomaly: {disabled: true}
cameras:
  - {id: replay, url: %s, loop: false, fps: 10, image_fps: 10, scene: %s, recorded: %s, start_time: "2026-01-05T12:00:00Z"}
  - {id: plain, url: %s, loop: false, fps: 10, image_fps: 10, scene: %s, start_time: "2026-01-05T12:00:00Z"}
`, dir, frames, sceneFile, tracks, frames, sceneFile), []string{"replay", "plain"}, nil)
	per := map[string]int{}
	for _, a := range alerts {
		per[a.Event.Camera]++
	}
	require.Equal(t, map[string]int{"replay": 4}, per, "the scenario's four crossings on the replay camera only")
}
