package videoout

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func needFFmpeg(t *testing.T) {
	t.Helper()
	for _, bin := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (not on PATH); run make setup to run the videoout encoding tests", bin)
		}
	}
}

// frame is a w×h RGB24 test pattern that moves with i.
func frame(w, h, i int) []byte {
	pix := make([]byte, w*h*3)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := (y*w + x) * 3
			pix[o] = byte(x*4 + i*8)
			pix[o+1] = byte(y * 4)
			pix[o+2] = byte((x + y + i) * 2)
		}
	}
	return pix
}

// probe returns frames, width and height of the first video stream.
func probe(t *testing.T, path string) (n, w, h int) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames,width,height", "-of", "csv=p=0", path).CombinedOutput()
	require.NoError(t, err, "ffprobe: %s", out)
	f := strings.Split(strings.TrimSpace(string(out)), ",")
	require.Len(t, f, 3, "ffprobe output %q", out)
	w, err = strconv.Atoi(f[0])
	require.NoError(t, err)
	h, err = strconv.Atoi(f[1])
	require.NoError(t, err)
	n, err = strconv.Atoi(f[2])
	require.NoError(t, err)
	return n, w, h
}

func TestWrite20Frames(t *testing.T) {
	needFFmpeg(t)
	for _, tc := range []struct{ w, h, wantW, wantH int }{
		{64, 48, 64, 48},
		{65, 47, 66, 48}, // odd dimensions are padded to even
	} {
		t.Run(strconv.Itoa(tc.w)+"x"+strconv.Itoa(tc.h), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.mp4")
			wr, err := Open(context.Background(), path, tc.w, tc.h, 15)
			require.NoError(t, err)
			for i := 0; i < 20; i++ {
				require.NoError(t, wr.WriteFrame(frame(tc.w, tc.h, i)))
			}
			require.Equal(t, 20, wr.Frames())
			require.NoError(t, wr.Close())
			require.NoError(t, wr.Close(), "Close is idempotent")
			require.ErrorIs(t, wr.WriteFrame(frame(tc.w, tc.h, 0)), ErrClosed)
			n, w, h := probe(t, path)
			require.Equal(t, 20, n)
			require.Equal(t, tc.wantW, w)
			require.Equal(t, tc.wantH, h)
		})
	}
}

func TestFractionalFrameRate(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "ntsc.mp4")
	wr, err := Open(context.Background(), path, 32, 32, 30000.0/1001, WithCRF(30), WithPreset("ultrafast"))
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		require.NoError(t, wr.WriteFrame(frame(32, 32, i)))
	}
	require.NoError(t, wr.Close())
	n, _, _ := probe(t, path)
	require.Equal(t, 5, n)
}

func TestBadOutputDirectory(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "out.mp4")
	_, err := Open(context.Background(), path, 64, 48, 15)
	require.Error(t, err)
	require.Contains(t, err.Error(), "output directory")
	require.ErrorIs(t, err, os.ErrNotExist)

	// A directory ffmpeg cannot write into fails with ffmpeg's own reason.
	if os.Geteuid() == 0 {
		return // root can write anywhere
	}
	ro := t.TempDir()
	require.NoError(t, os.Chmod(ro, 0o555))
	t.Cleanup(func() { _ = os.Chmod(ro, 0o755) })
	wr, err := Open(context.Background(), filepath.Join(ro, "out.mp4"), 64, 48, 15)
	require.NoError(t, err)
	for i := 0; i < 5 && err == nil; i++ {
		err = wr.WriteFrame(frame(64, 48, i))
	}
	cerr := wr.Close()
	require.Error(t, errors.Join(err, cerr))
	require.Contains(t, errors.Join(err, cerr).Error(), "ffmpeg")
}

func TestValidation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := filepath.Join(dir, "x.mp4")
	for name, f := range map[string]func() error{
		"empty path": func() error { _, err := Open(ctx, "", 64, 48, 15); return err },
		"zero width": func() error { _, err := Open(ctx, p, 0, 48, 15); return err },
		"neg height": func() error { _, err := Open(ctx, p, 64, -2, 15); return err },
		"huge":       func() error { _, err := Open(ctx, p, MaxDim+1, 48, 15); return err },
		"zero fps":   func() error { _, err := Open(ctx, p, 64, 48, 0); return err },
		"nan fps":    func() error { _, err := Open(ctx, p, 64, 48, nan()); return err },
		"bad crf":    func() error { _, err := Open(ctx, p, 64, 48, 15, WithCRF(99)); return err },
		"dir path":   func() error { _, err := Open(ctx, dir, 64, 48, 15); return err },
		"nil ctx":    func() error { _, err := Open(nil, p, 64, 48, 15); return err }, //nolint:staticcheck // testing validation
	} {
		require.Error(t, f(), name)
	}
}

func nan() float64 { z := 0.0; return z / z }

func TestMissingBinary(t *testing.T) {
	_, err := Open(context.Background(), filepath.Join(t.TempDir(), "x.mp4"), 64, 48, 15, WithFFmpeg("vigil-no-such-ffmpeg"))
	require.EqualError(t, err, `ffmpeg not found on PATH (looked for "vigil-no-such-ffmpeg"); run make setup`)
	require.NotContains(t, err.Error(), "\n")
}

func TestWrongFrameSize(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "out.mp4")
	wr, err := Open(context.Background(), path, 64, 48, 15)
	require.NoError(t, err)
	err = wr.WriteFrame(make([]byte, 64*48*3-1))
	require.ErrorContains(t, err, "want 9216")
	require.Error(t, wr.WriteFrame(nil))
	require.NoError(t, wr.WriteFrame(frame(64, 48, 0)), "a bad frame does not break the writer")
	require.NoError(t, wr.Close())
	n, _, _ := probe(t, path)
	require.Equal(t, 1, n)
}

func TestNoFrames(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "out.mp4")
	wr, err := Open(context.Background(), path, 64, 48, 15)
	require.NoError(t, err)
	require.ErrorIs(t, wr.Close(), ErrNoFrames)
	require.NoFileExists(t, path)
}

func TestFFmpegFailureIncludesStderr(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "out.mp4")
	wr, err := Open(context.Background(), path, 64, 48, 15, WithPreset("no-such-preset"))
	require.NoError(t, err)
	for i := 0; i < 3 && err == nil; i++ {
		err = wr.WriteFrame(frame(64, 48, i))
	}
	cerr := wr.Close()
	require.Error(t, cerr)
	require.Contains(t, cerr.Error(), "ffmpeg failed")
	require.Contains(t, strings.ToLower(cerr.Error()), "preset", "stderr tail included: %v", cerr)
}

// processGone reports whether pid no longer exists (reaped, not a zombie).
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func TestCancelKillsFFmpeg(t *testing.T) {
	needFFmpeg(t)
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wr, err := Open(ctx, filepath.Join(t.TempDir(), "out.mp4"), 64, 48, 15)
	require.NoError(t, err)
	pid := wr.cmd.Process.Pid
	require.NoError(t, wr.WriteFrame(frame(64, 48, 0)))
	cancel()
	select {
	case <-wr.done:
	case <-time.After(2 * time.Minute): // a hang guard, not a speed target
		t.Fatal("ffmpeg still running 2 min after cancel")
	}
	require.ErrorIs(t, wr.WriteFrame(frame(64, 48, 1)), context.Canceled)
	require.ErrorIs(t, wr.Close(), context.Canceled)
	require.True(t, processGone(pid), "ffmpeg pid %d still exists (zombie?)", pid)
}

func TestCancelWithoutCloseReaps(t *testing.T) {
	needFFmpeg(t)
	ctx, cancel := context.WithCancel(context.Background())
	wr, err := Open(ctx, filepath.Join(t.TempDir(), "out.mp4"), 64, 48, 15)
	require.NoError(t, err)
	pid := wr.cmd.Process.Pid
	cancel()
	require.Eventually(t, func() bool { return processGone(pid) }, 2*time.Minute, 10*time.Millisecond,
		"ffmpeg must be killed and reaped without Close")
	goleak.VerifyNone(t)
}

func TestCancelledBeforeOpen(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Open(ctx, filepath.Join(t.TempDir(), "out.mp4"), 64, 48, 15)
	require.ErrorIs(t, err, context.Canceled)
}

func BenchmarkWriteFrame768x576(b *testing.B) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		b.Skip("ffmpeg not installed")
	}
	wr, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.mp4"), 768, 576, 15)
	if err != nil {
		b.Fatal(err)
	}
	frames := [][]byte{frame(768, 576, 0), frame(768, 576, 1), frame(768, 576, 2)}
	b.SetBytes(768 * 576 * 3)
	i := 0
	for b.Loop() {
		if err := wr.WriteFrame(frames[i%3]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if err := wr.Close(); err != nil {
		b.Fatal(err)
	}
}
