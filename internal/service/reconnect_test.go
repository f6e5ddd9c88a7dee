package service

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/ingest/rtsptest"
)

// TestRTSPCameraReconnectsAndAlertsResume: an RTSP camera (a real RTSP
// server in the test, H.264 made from vtest.avi) streams and raises
// alerts; the server goes away (20 s, 3 s with -short); the state changes
// appear on the SSE stream, the camera reconnects by itself and alerts
// resume. The camera password never appears on the stream.
func TestRTSPCameraReconnectsAndAlertsResume(t *testing.T) {
	outage := 20 * time.Second
	if testing.Short() {
		outage = 3 * time.Second
	}
	model := testModel(t)
	dir := t.TempDir()
	clip := filepath.Join(dir, "clip.h264")
	require.NoError(t, rtsptest.MakeClip(context.Background(), vtest, clip, 20, 25, 12))
	srv, err := rtsptest.Start(clip, rtsptest.Options{Path: "cam", FPS: 25, User: "op", Pass: "pw-s3cret"})
	require.NoError(t, err)
	defer srv.Close()
	url := strings.Replace(srv.URL(), "rtsp://", "rtsp://op:pw-s3cret@", 1)
	base, stop := startService(t, model, `version: 1
data_dir: `+dir+`
cameras:
  - {id: gate, url: "`+url+`", fps: 5, classes: person, scene: ../../scenes/pets09-s2l1.yaml}
`)
	events := subscribe(t, base)

	waitFor(t, events, func(e sseEvent) bool { return e.typ == "alert" }, hangTimeout)
	srv.Stop()
	down := waitFor(t, events, func(e sseEvent) bool {
		return e.typ == "camera_state" && (e.state() == "failed" || e.state() == "stalled")
	}, hangTimeout)
	require.NotContains(t, down.data, "pw-s3cret")
	time.Sleep(outage)
	require.NoError(t, srv.Restart())
	waitFor(t, events, func(e sseEvent) bool { return e.typ == "camera_state" && e.state() == "streaming" }, hangTimeout)
	waitFor(t, events, func(e sseEvent) bool { return e.typ == "alert" }, hangTimeout)

	require.NoError(t, stop())
}

type sseEvent struct{ typ, data string }

func (e sseEvent) state() string {
	var d struct {
		State string `json:"state"`
	}
	_ = json.Unmarshal([]byte(e.data), &d)
	return d.State
}

func sseEvents(resp *http.Response) <-chan sseEvent {
	out := make(chan sseEvent, 256)
	go func() {
		defer close(out)
		buf := make([]byte, 0, 64*1024)
		typ := ""
		tmp := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(tmp)
			buf = append(buf, tmp[:n]...)
			for {
				i := strings.IndexByte(string(buf), '\n')
				if i < 0 {
					break
				}
				line := string(buf[:i])
				buf = buf[i+1:]
				switch {
				case strings.HasPrefix(line, "event: "):
					typ = strings.TrimPrefix(line, "event: ")
				case strings.HasPrefix(line, "data: "):
					select {
					case out <- sseEvent{typ: typ, data: strings.TrimPrefix(line, "data: ")}:
					default:
					}
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return out
}

func waitFor(t *testing.T, events <-chan sseEvent, match func(sseEvent) bool, timeout time.Duration) sseEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case e, ok := <-events:
			require.True(t, ok, "event stream ended")
			if match(e) {
				return e
			}
		case <-deadline:
			t.Fatalf("no matching event within %s", timeout)
		}
	}
}
