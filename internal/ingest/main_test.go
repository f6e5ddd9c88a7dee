package ingest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigil-cctv/vigil/internal/ingest/rtsptest"
)

const vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

var fixtureDir string

// TestMain checks, after every test has finished, that no goroutine and no
// ffmpeg/ffprobe child process is left behind.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vigil-ingest-test-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtureDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
		if kids := childProcesses(); len(kids) > 0 {
			fmt.Fprintln(os.Stderr, "child processes left:", kids)
			code = 1
		}
	}
	os.Exit(code)
}

// childProcesses lists the names of this process's live children.
func childProcesses() []string {
	var kids []string
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	me := strconv.Itoa(os.Getpid())
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == me && f[0] != "Z" {
			kids = append(kids, s[:i+1])
		}
	}
	return kids
}

func needMedia(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(vtest); err != nil {
		t.Skip("vtest.avi not installed (apt-get install opencv-doc)")
	}
	for _, bin := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
}

var (
	clipOnce sync.Once
	clipErr  error
)

// h264Clip is 10 s of vtest.avi as H.264 at 25 fps (ffprobe needs fewer
// seconds to settle on the rate than at vtest's own 10 fps) with a keyframe
// every half second, made once per test run.
func h264Clip(t *testing.T) string {
	needMedia(t)
	path := filepath.Join(fixtureDir, "clip.h264")
	clipOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // hang guard
		defer cancel()
		clipErr = rtsptest.MakeClip(ctx, vtest, path, 10, 25, 12)
	})
	if clipErr != nil {
		t.Fatal(clipErr)
	}
	return path
}

// shortFile makes a small MP4 of vtest.avi, seconds long.
func shortFile(t *testing.T, seconds float64) string {
	needMedia(t)
	path := filepath.Join(t.TempDir(), "short.mp4")
	out, err := exec.CommandContext(t.Context(), "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-i", vtest, "-t", fmt.Sprint(seconds), "-c:v", "libx264", "-preset", "veryfast",
		"-pix_fmt", "yuv420p", "-an", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	return path
}
