package service

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/httpapi"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

// extractFrames writes seconds of vtest.avi from from on as PNG images
// (lossless, so the detector sees the video's own pixels).
func extractFrames(t *testing.T, from, seconds float64) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "frames")
	require.NoError(t, os.Mkdir(dir, 0o755))
	out, err := exec.CommandContext(t.Context(), "ffmpeg", "-hide_banner", "-loglevel", "error", "-ss", fmt.Sprint(from),
		"-i", vtest, "-t", fmt.Sprint(seconds), filepath.Join(dir, "f%04d.png")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return dir
}

// nightLawnScene is the PETS09 scene with its lawn intrusion rule active
// only at night (22:00–06:00 UTC).
func nightLawnScene(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../scenes/pets09-s2l1.yaml")
	require.NoError(t, err)
	s := string(data)
	rule := "{type: intrusion, zone: lawn, classes: [person], min_dwell: 1s, severity: high}"
	require.Contains(t, s, rule)
	s = strings.Replace(s, rule, "{type: intrusion, zone: lawn, schedule: night, classes: [person], min_dwell: 1s, severity: high}", 1)
	s += "\nschedules:\n  - name: night\n    timezone: UTC\n    windows:\n      - {days: [daily], from: \"22:00\", to: \"06:00\"}\n"
	path := filepath.Join(t.TempDir(), "night.yaml")
	require.NoError(t, os.WriteFile(path, []byte(s), 0o644))
	return path
}

// playOnce runs the service with one image-folder camera played once and
// returns its alerts and status once it has analysed every frame.
func playOnce(t *testing.T, model Model, frames, sceneFile, startTime string) ([]store.Alert, CameraStatusView) {
	t.Helper()
	var status httpapi.CameraStatus
	var ok bool
	alerts := playFiles(t, model, fmt.Sprintf(`version: 1
data_dir: %s
anomaly: {disabled: true}
cameras:
  - {id: plaza, url: %s, loop: false, fps: 10, image_fps: 10, classes: person, scene: %s, start_time: %q}
`, t.TempDir(), frames, sceneFile, startTime), []string{"plaza"}, func(svc *Service) { status, ok = svc.Status("plaza") })
	require.True(t, ok)
	return alerts, CameraStatusView{State: status.State, Reason: status.Reason, Detected: status.FramesDetected, Dropped: status.FramesDropped}
}

// playFiles runs the service configured by cfgYAML until each of cameras
// has analysed its whole file, calls atEnd (nil: none) while it still
// runs, stops it and returns the stored alerts.
func playFiles(t *testing.T, model Model, cfgYAML string, cameras []string, atEnd func(*Service)) []store.Alert {
	t.Helper()
	cfg, err := config.Parse([]byte(cfgYAML), "t.yaml")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "vigil.db"))
	require.NoError(t, err)
	defer st.Close()
	svc, err := New(cfg, Deps{Store: st, Model: model})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, listen(t)) }()
	for _, cam := range cameras {
		var finished <-chan struct{}
		require.Eventually(t, func() bool { finished = svc.Finished(cam); return finished != nil }, hangTimeout, 10*time.Millisecond)
		select {
		case <-finished:
		case <-time.After(hangTimeout):
			t.Fatalf("camera %s did not finish its input", cam)
		}
	}
	if atEnd != nil {
		atEnd(svc)
	}
	cancel()
	require.NoError(t, <-done)
	alerts, err := st.ListAlerts(context.Background(), store.AlertFilter{Limit: 500})
	require.NoError(t, err)
	return alerts
}

// CameraStatusView is the part of a camera's status these tests check.
type CameraStatusView struct {
	State, Reason     string
	Detected, Dropped int64
}

func countRule(alerts []store.Alert, rule string) int {
	n := 0
	for _, a := range alerts {
		if a.Event.Rule == rule {
			n++
		}
	}
	return n
}

// A night-only intrusion rule follows the camera's clock in vigil serve:
// the same footage recorded at noon raises no intrusion, recorded at
// 23:00 it does. A file played once is analysed in full and then stops.
func TestServeScheduleFollowsTheCameraClock(t *testing.T) {
	model := testModel(t)
	frames := extractFrames(t, 49, 8) // two people cross the lawn at 52–54 s
	sc := nightLawnScene(t)
	night, status := playOnce(t, model, frames, sc, "2026-03-02T23:00:00Z")
	require.Equal(t, CameraStatusView{State: "stopped", Reason: "end of input", Detected: 80}, status)
	require.Positive(t, countRule(night, "intrusion"), "at 23:00 the night rule is active")
	noon, _ := playOnce(t, model, frames, sc, "2026-03-02T12:00:00Z")
	require.Zero(t, countRule(noon, "intrusion"), "at noon it is not")
	require.Equal(t, countRule(night, "jaywalking"), countRule(noon, "jaywalking"), "unscheduled rules do not care")
	for _, a := range night {
		require.Equal(t, "plaza", a.Event.Camera)
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln
}
