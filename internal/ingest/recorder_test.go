package ingest

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/ingest/rtsptest"
	"github.com/vigil-cctv/vigil/internal/media/segring"
)

// An RTSP camera with a recorder keeps its compressed video on the
// continuous time line: a clip cut around a frame's PTS after a reconnect
// holds the pictures of the new session, not the old.
func TestRecorderCutsClipsOnContinuousTime(t *testing.T) {
	t.Parallel()
	srv := startServer(t, rtsptest.Options{User: "cam", Pass: "pw"})
	ring := segring.New(20*time.Second, 64<<20)
	opt := testOptions()
	opt.Recorder = ring
	url := "rtsp://cam:pw@" + srv.Addr() + "/cam"
	h := startCamera(t, Camera{ID: "c1", URL: url, FPS: 5}, opt)
	h.waitFor("2 s of frames", func() bool { return len(h.frames) >= 10 })
	srv.Stop()
	h.waitFor("the camera to notice", func() bool { return h.in(StateFailed, StateStalled) })
	require.NoError(t, srv.Restart())
	h.waitFor("frames of a second session", func() bool {
		n := len(h.frames)
		return n > 0 && h.frames[n-1].Session == 2 && h.frames[n-1].SourcePTS >= 2*time.Second
	})
	_, frames := h.snapshot()
	last := frames[len(frames)-1]
	require.Equal(t, 2, last.Session)
	ctx, cancel := context.WithTimeout(context.Background(), patience) // a hang guard
	defer cancel()
	c, err := ring.Cut(ctx, last.PTS-time.Second, last.PTS, filepath.Join(t.TempDir(), "clip.mp4"))
	require.NoError(t, err)
	require.LessOrEqual(t, c.Start, last.PTS-time.Second)
	require.GreaterOrEqual(t, c.Start, last.PTS-time.Second-600*time.Millisecond, "a key picture every 12 frames (0.48 s)")
	require.GreaterOrEqual(t, c.Pictures, 25, "the clip has every 25 fps picture, not just the 5 fps analysed")
	if err := h.stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}
