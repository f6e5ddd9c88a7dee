package decode

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/ingest/rtsptest"
)

// h264Clip encodes seconds of vtest.avi at fps as Annex-B H.264 (no
// B-frames, a key picture every gop frames), as a camera would send it.
func h264Clip(t *testing.T, seconds, fps float64, gop int) string {
	t.Helper()
	needFFmpeg(t)
	needFile(t, vtest)
	dst := filepath.Join(t.TempDir(), "clip.h264")
	require.NoError(t, rtsptest.MakeClip(context.Background(), vtest, dst, seconds, fps, gop))
	return dst
}

func ptsList(frames []*Frame) []time.Duration {
	out := make([]time.Duration, len(frames))
	for i, f := range frames {
		out[i] = f.PTS
	}
	return out
}

// Selecting inside ffmpeg must choose exactly the frames the Go selector
// chooses from every decoded frame, and count them the same way.
func TestEarlySelectMatchesGoSelection(t *testing.T) {
	needFFmpeg(t)
	needFile(t, vtest)
	mp4 := filepath.Join(t.TempDir(), "clip25.mp4")
	require.NoError(t, rtsptest.MakeClip(context.Background(), vtest, mp4, 8, 25, 50))
	for _, c := range []struct {
		input string
		fps   float64
		max   int
	}{{vtest, 5, 50}, {vtest, 3, 30}, {mp4, 5, 0}, {mp4, 7, 0}, {mp4, 2.5, 0}} {
		early, es, err := collect(t, c.input, Options{FPS: c.fps, MaxFrames: c.max})
		require.NoError(t, err)
		late, ls, err := collect(t, c.input, Options{FPS: c.fps, MaxFrames: c.max, LateSelect: true})
		require.NoError(t, err)
		require.True(t, es.earlySelect())
		require.Equal(t, ptsList(late), ptsList(early), "%s at %v fps", filepath.Base(c.input), c.fps)
		require.Equal(t, ls.Stats(), es.Stats())
		require.Positive(t, es.Stats().Skipped)
	}
}

func TestEarlySelectOnlyWhenItSaves(t *testing.T) {
	s := &Source{Input: Input{Kind: KindFile}, Info: Info{FPS: 10}}
	for _, c := range []struct {
		opt  Options
		kind Kind
		want bool
	}{
		{Options{FPS: 5}, KindFile, true},
		{Options{FPS: 10}, KindFile, false},
		{Options{FPS: 0}, KindFile, false},
		{Options{FPS: 5, LateSelect: true}, KindFile, false},
		{Options{FPS: 5}, KindImages, false},
		{Options{FPS: 5}, KindRTSP, true},
	} {
		s.opt, s.Input.Kind = c.opt, c.kind
		require.Equal(t, c.want, s.earlySelect(), "%+v %v", c.opt, c.kind)
		require.Equal(t, c.want, strings.Contains(s.filterChain(), "select="))
	}
}

// ffmpeg prints pts_time with six significant digits; the integer pts in
// microseconds stays exact hours into a stream.
func TestParsePTSLineIsExactAfterHours(t *testing.T) {
	ev, ok := parsePTSLine("[metadata@vigil_frame @ 0x55] frame:1    pts:12345080000 pts_time:12345.1")
	require.True(t, ok)
	require.True(t, ev.selected && ev.ok)
	require.Equal(t, 12345080*time.Millisecond, ev.pts)

	ev, ok = parsePTSLine("[metadata@vigil_decoded @ 0x55] frame:7    pts:280000  pts_time:0.28")
	require.True(t, ok)
	require.False(t, ev.selected)
	require.Equal(t, 280*time.Millisecond, ev.pts)

	ev, ok = parsePTSLine("[metadata@vigil_frame @ 0x55] frame:2    pts:NOPTS   pts_time:NOPTS")
	require.True(t, ok, "a frame without a timestamp is still a frame")
	require.False(t, ev.ok)

	for _, l := range []string{"[metadata@vigil_frame @ 0x55] vigil=1", "frame=  10 fps=0.0", "[Parsed_metadata_1 @ 0x1] frame:0 pts:0"} {
		_, ok := parsePTSLine(l)
		require.False(t, ok, l)
	}
}

func FuzzParsePTSLine(f *testing.F) {
	f.Add("[metadata@vigil_frame @ 0x55] frame:1    pts:12345080000 pts_time:12345.1")
	f.Add("[metadata@vigil_decoded @ 0x1] frame:0 pts:-9223372036854775808")
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > 4096 {
			return
		}
		ev, ok := parsePTSLine(line)
		if !ok {
			require.Zero(t, ev)
		}
	})
}

func startCamera(t *testing.T, fps float64, opt rtsptest.Options) *rtsptest.Server {
	t.Helper()
	clip := h264Clip(t, 4, fps, int(fps))
	opt.FPS = fps
	srv, err := rtsptest.Start(clip, opt)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	return srv
}

func withCreds(url, user, pass string) string {
	return strings.Replace(url, "rtsp://", "rtsp://"+user+":"+pass+"@", 1)
}

// An RTSP camera is read in-process: ffmpeg decodes from its stdin, so the
// password is never on a command line; the compressed pictures reach
// OnAccessUnit on the same time line as the decoded frames.
func TestRTSPReadInProcess(t *testing.T) {
	srv := startCamera(t, 25, rtsptest.Options{User: "admin", Pass: "s3cret"})
	var mu sync.Mutex
	var aus []AccessUnit
	// Backlog: a starved machine may start ffmpeg late; every picture is
	// still expected here (the drop policy has its own test).
	opt := Options{FPS: 5, MaxFrames: 6, Timeout: time.Minute, Backlog: time.Hour, OnAccessUnit: func(au AccessUnit) {
		mu.Lock()
		aus = append(aus, au)
		mu.Unlock()
	}}
	ctx := context.Background()
	src, err := Open(ctx, withCreds(srv.URL(), "admin", "s3cret"), opt)
	require.NoError(t, err)
	require.Equal(t, Info{Width: 768, Height: 576, FPS: 25, Codec: "h264"}, src.Info)
	args, err := src.ffmpegArgs()
	require.NoError(t, err)
	require.NotContains(t, strings.Join(args, " "), "s3cret")
	require.NotContains(t, strings.Join(args, " "), "rtsp://")
	ch, err := src.Start(ctx)
	require.NoError(t, err)
	var frames []*Frame
	for f := range ch {
		frames = append(frames, f)
	}
	require.NoError(t, src.Wait())
	require.Len(t, frames, 6)
	for i, f := range frames {
		require.Equal(t, time.Duration(i)*200*time.Millisecond, f.PTS, "5 fps from 25 on the timestamp grid")
	}
	st := src.Stats()
	require.Equal(t, int64(26), st.Decoded, "frames 0..25, every fifth kept")
	require.Equal(t, int64(20), st.Skipped)

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, aus)
	require.True(t, aus[0].Key)
	require.Zero(t, aus[0].PTS)
	require.Equal(t, uint8(7), aus[0].NALUs[0][0]&0x1f, "a key picture starts with its SPS")
	byPTS := map[time.Duration]bool{}
	for _, au := range aus {
		byPTS[au.PTS] = true
		require.LessOrEqual(t, au.DTS, au.PTS)
	}
	for _, f := range frames {
		require.True(t, byPTS[f.PTS], "frame %v has the PTS of a compressed picture", f.PTS)
	}
}

func TestRTSPWrongPasswordIsNamedNotShown(t *testing.T) {
	srv := startCamera(t, 10, rtsptest.Options{User: "admin", Pass: "right"})
	_, err := Open(context.Background(), withCreds(srv.URL(), "admin", "hunter2"), Options{Timeout: 3 * time.Second})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
	require.Contains(t, strings.ToLower(err.Error()), "401")
}

// A camera that goes away ends the source with an error naming the
// stream, not as a clean end of input.
func TestRTSPServerGoneIsAnError(t *testing.T) {
	srv := startCamera(t, 10, rtsptest.Options{})
	ctx := context.Background()
	src, err := Open(ctx, srv.URL(), Options{Timeout: 2 * time.Second})
	require.NoError(t, err)
	ch, err := src.Start(ctx)
	require.NoError(t, err)
	<-ch
	srv.Stop()
	for range ch {
	}
	err = src.Wait()
	require.Error(t, err)
	require.Contains(t, err.Error(), "rtsp://")
}
