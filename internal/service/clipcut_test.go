package service

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/ingest"
	"github.com/vigil-cctv/vigil/internal/ingest/rtsptest"
)

// An RTSP camera's alert clip is cut from its ring of compressed video:
// the camera's supervisor records the stream's pictures as they arrive,
// and the clip holds 3 s before the alert (from the key picture at or
// before) to 3 s after, as the camera sent it — no decoder, no encoder.
func TestRTSPAlertClipIsCutByStreamCopy(t *testing.T) {
	srv := rtspVtest(t)
	var mu sync.Mutex
	var failed []string
	p := &processor{id: "cam", sinks: Sinks{PreRoll: 3 * time.Second, PostRoll: 3 * time.Second,
		Log: slog.New(slog.DiscardHandler), MediaFailed: func(k string) { mu.Lock(); failed = append(failed, k); mu.Unlock() }}}
	p.useSegRing()
	ctx, frames, stop := supervise(srv, p)
	drained := make(chan struct{})
	defer func() { stop(); <-drained }()

	path := filepath.Join(t.TempDir(), "alert.mp4")
	var at time.Duration
	for f := range frames {
		if f.PTS >= 4*time.Second {
			at = f.PTS
			p.clip(ctx, path, at) // the alert's frame
			break
		}
	}
	go func() { // keep the camera's queue moving while the clip waits
		defer close(drained)
		for range frames {
		}
	}()
	p.cuts.wg.Wait()
	require.Empty(t, failed)

	n := probeH264(t, path)
	// 6 s at 25 fps, plus up to one key interval (1 s) before the pre-roll.
	require.GreaterOrEqual(t, n, 6*25-1, "pictures in the clip")
	require.LessOrEqual(t, n, 7*25+1, "pictures in the clip")
	p.stopCuts()
}

// rtspVtest serves 12 s of vtest.avi as an RTSP camera (25 fps, a key
// picture a second); the test skips without ffprobe or vtest.avi.
func rtspVtest(t *testing.T) *rtsptest.Server {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe not on PATH")
	}
	if _, err := os.Stat(vtest); err != nil {
		t.Skip("vtest.avi missing; run make setup")
	}
	h264 := filepath.Join(t.TempDir(), "clip.h264")
	require.NoError(t, rtsptest.MakeClip(t.Context(), vtest, h264, 12, 25, 25))
	srv, err := rtsptest.Start(h264, rtsptest.Options{Path: "cam", FPS: 25})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	return srv
}

// supervise runs the camera's supervisor at 5 fps, its compressed video
// into p's ring; stop cancels it and waits for it.
func supervise(srv *rtsptest.Server, p *processor) (context.Context, <-chan ingest.Frame, func()) {
	sup := ingest.NewSupervisor(ingest.Camera{ID: "cam", URL: srv.URL(), FPS: 5, Transport: "tcp"},
		ingest.Options{Recorder: p.seg})
	ctx, cancel := context.WithCancel(context.Background())
	frames := make(chan ingest.Frame, 1)
	done := make(chan struct{})
	go func() { defer close(done); defer close(frames); _ = sup.Run(ctx, frames) }()
	return ctx, frames, func() { cancel(); <-done }
}

// probeH264 is the number of pictures of the H.264 video in an MP4 file.
func probeH264(t *testing.T, path string) int {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,nb_read_frames", "-of", "csv=p=0", path).Output()
	require.NoError(t, err)
	parts := strings.Split(strings.TrimSpace(string(out)), ",")
	require.Len(t, parts, 2, "%s", out)
	require.Equal(t, "h264", parts[0])
	n, err := strconv.Atoi(parts[1])
	require.NoError(t, err)
	return n
}
