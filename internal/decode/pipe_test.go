package decode

import (
	"context"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The frame pipe is grown from the kernel's 64 KiB to a frame's size.
func TestGrowPipe(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("F_SETPIPE_SZ is Linux-only")
	}
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	require.Equal(t, 1<<16, pipeSize(r))
	growPipe(r, maxPipe)
	require.Equal(t, maxPipe, pipeSize(r))
	require.Equal(t, maxPipe, (&Source{Info: Info{Width: 768, Height: 576}}).pipeBytes())
	require.Equal(t, 320*240*3, (&Source{Info: Info{Width: 320, Height: 240}}).pipeBytes())
}

// BenchmarkFramePipe decodes 30 s of vtest.avi at 5 fps, as a camera is
// analysed, with the kernel's pipe and with one grown to a frame, and
// reports the CPU of Vigil and of ffmpeg per frame (getrusage):
//
//	go test -run '^$' -bench FramePipe -benchtime 5x ./internal/decode/
func BenchmarkFramePipe(b *testing.B) {
	needFFmpeg(b)
	needFile(b, vtest)
	for _, c := range []struct {
		name string
		buf  int
	}{{"kernel-64KiB", -1}, {"grown", 0}} {
		b.Run(c.name, func(b *testing.B) {
			var self, kids time.Duration
			frames := 0
			for b.Loop() {
				s0, k0 := rusage(syscall.RUSAGE_SELF), rusage(syscall.RUSAGE_CHILDREN)
				frames += decodeCount(b, c.buf)
				self += rusage(syscall.RUSAGE_SELF) - s0
				kids += rusage(syscall.RUSAGE_CHILDREN) - k0
			}
			b.ReportMetric(float64(self.Microseconds())/1e3/float64(frames), "go-ms/frame")
			b.ReportMetric(float64(kids.Microseconds())/1e3/float64(frames), "ffmpeg-ms/frame")
		})
	}
}

func decodeCount(b *testing.B, pipeBuf int) int {
	ctx := context.Background()
	src, err := Open(ctx, vtest, Options{FPS: 5, MaxFrames: 150})
	require.NoError(b, err)
	src.pipeBuf = pipeBuf
	ch, err := src.Start(ctx)
	require.NoError(b, err)
	n := 0
	for range ch {
		n++
	}
	if err := src.Wait(); err != nil && err != errMaxFrames {
		require.NoError(b, err)
	}
	return n
}

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
