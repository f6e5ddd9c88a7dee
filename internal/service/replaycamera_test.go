package service

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/store"
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

// sceneAlerts plays the line-crossing scenario on a replay source camera
// under the config's extra lines and returns its alerts.
func sceneAlerts(t *testing.T, dir, extra string) []store.Alert {
	t.Helper()
	tracks, err := filepath.Abs(filepath.Join(lineCrossing, "tracks.txt"))
	require.NoError(t, err)
	sceneFile, err := filepath.Abs(filepath.Join(lineCrossing, "scene.yaml"))
	require.NoError(t, err)
	model, err := NewRecordedModel(tracks)
	require.NoError(t, err)
	return playFiles(t, model, fmt.Sprintf(`version: 1
data_dir: %s
anomaly: {disabled: true}
%scameras:
  - {id: gen, url: "replay:frames=301,fps=10", loop: false, fps: 10, scene: %s, recorded: %s, start_time: "2026-01-05T12:00:00Z"}
`, dir, extra, sceneFile, tracks), []string{"gen"}, nil)
}

// A replay source camera (url replay:…, frames made in process, no
// decoder) goes through the same chain as a file camera: its recorded
// detections raise the line-crossing scenario's expected alerts.
func TestReplaySourceCameraRaisesTheScenarioAlerts(t *testing.T) {
	alerts := sceneAlerts(t, t.TempDir(), "")
	var got []string
	for _, a := range alerts {
		got = append(got, fmt.Sprintf("%s %s %s %.0f", a.Event.Rule, a.Event.Line, a.Event.Direction, a.Event.Start))
	}
	raw, err := os.ReadFile(filepath.Join(lineCrossing, "expected.jsonl"))
	require.NoError(t, err)
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var e struct {
			Rule, Line, Direction string
			Start                 float64
		}
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		want = append(want, fmt.Sprintf("%s %s %s %.0f", e.Rule, e.Line, e.Direction, e.Start))
	}
	require.ElementsMatch(t, want, got, "rule, line, direction and start (to the second) of every expected alert")
}

// media.no_clips keeps the alerts and their snapshots but encodes no clip.
func TestNoClipsKeepsAlertsWithoutClips(t *testing.T) {
	dir := t.TempDir()
	alerts := sceneAlerts(t, dir, "media: {no_clips: true}\n")
	require.Len(t, alerts, 4)
	var clips, snaps []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		switch {
		case strings.HasSuffix(path, ".mp4"):
			clips = append(clips, path)
		case strings.HasSuffix(path, "-crop.jpg"):
		case strings.HasSuffix(path, ".jpg"):
			snaps = append(snaps, path)
		}
		return err
	}))
	require.Empty(t, clips)
	require.Len(t, snaps, 4, "one snapshot per alert")
}
