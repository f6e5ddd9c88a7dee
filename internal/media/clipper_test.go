package media

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/videoout"
)

const fps = 10 // testFrame's rate

// requireFFmpeg skips tests that encode real MP4s where ffmpeg or ffprobe is
// missing.
func requireFFmpeg(t *testing.T) {
	t.Helper()
	for _, bin := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("skipping: %s not found on PATH (install ffmpeg, e.g. make setup)", bin)
		}
	}
}

// probe returns the width, height and decoded frame count of path's video.
func probe(t *testing.T, path string) (w, h, frames int) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=width,height,nb_read_frames", "-of", "csv=p=0", path).Output()
	require.NoError(t, err, "ffprobe %s", path)
	parts := strings.Split(strings.TrimSpace(string(out)), ",")
	require.Len(t, parts, 3, "ffprobe output %q", out)
	nums := make([]int, 3)
	for i, p := range parts {
		nums[i], err = strconv.Atoi(p)
		require.NoError(t, err, "ffprobe output %q", out)
	}
	return nums[0], nums[1], nums[2]
}

func newTestClipper(t *testing.T, pre, post time.Duration, opts ...ClipperOption) (*Clipper, string) {
	dir := t.TempDir()
	opts = append([]ClipperOption{WithVideoOptions(videoout.WithPreset("ultrafast"))}, opts...)
	return NewClipper(dir, fps, pre, post, nil, opts...), dir
}

// camera feeds frames [from, to) to its ring and the clipper, as the service
// does, calling alert (if set) after frame alertAt reached the ring.
type camera struct {
	name string
	ring *Ring
	c    *Clipper
	w, h int
}

func (cam *camera) feed(from, to int, alerts map[int]func()) {
	for i := from; i < to; i++ {
		f := testFrame(i, cam.w, cam.h)
		cam.ring.Add(f)
		if a := alerts[i]; a != nil {
			a()
		}
		cam.c.Add(cam.name, f)
	}
}

func TestClipperWritesPreAndPostRoll(t *testing.T) {
	requireFFmpeg(t)
	c, dir := newTestClipper(t, time.Second, time.Second)
	cam := &camera{name: "front door", ring: NewRing(3*time.Second, 64<<20), c: c, w: 64, h: 48}
	var path string
	cam.feed(0, 70, map[int]func(){40: func() {
		path = c.Start(context.Background(), cam.name, 7, 4*time.Second, cam.ring)
	}})
	require.NoError(t, c.Close())

	require.Equal(t, filepath.Join(dir, "front_door~"+sanitizedHash(t, "front door"), "clip-7.mp4"), path)
	w, h, n := probe(t, path)
	require.Equal(t, []int{64, 48}, []int{w, h})
	require.Equal(t, 21, n, "frames 30..50: 1 s pre-roll, the alert frame, 1 s post-roll")
	require.NoFileExists(t, path+partSuffix)
	require.Equal(t, ClipStats{Started: 1, Written: 1}, c.Stats())
}

// sanitizedHash is the suffix snapshot.Sanitize adds to a name it changed.
func sanitizedHash(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Base(filepath.Dir(NewClipper("x", 1, 0, 0, nil).Path(name, 1)))
	_, hash, ok := strings.Cut(dir, "~")
	require.True(t, ok, dir)
	return hash
}

func TestClipperPathIsDeterministicAndSafe(t *testing.T) {
	c := NewClipper("/media", fps, 0, 0, nil)
	require.Equal(t, "/media/cam1/clip-42.mp4", c.Path("cam1", 42))
	p := c.Path("../../etc", 1)
	require.True(t, strings.HasPrefix(p, "/media/"), p)
	require.Equal(t, "/media", filepath.Dir(filepath.Dir(p)))
}

func TestClipperConcurrentClips(t *testing.T) {
	requireFFmpeg(t)
	c, _ := newTestClipper(t, time.Second, time.Second, WithMaxEncodes(1))
	a := &camera{name: "a", ring: NewRing(3*time.Second, 64<<20), c: c, w: 32, h: 32}
	b := &camera{name: "b", ring: NewRing(3*time.Second, 64<<20), c: c, w: 48, h: 32}
	paths := map[string]int{} // path → expected frames
	var mu sync.Mutex
	start := func(cam *camera, id int64, frame int) func() {
		return func() {
			p := c.Start(context.Background(), cam.name, id, time.Duration(frame)*100*time.Millisecond, cam.ring)
			mu.Lock()
			paths[p] = 21
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	// Two overlapping alerts on a, one on b, cameras running concurrently.
	wg.Go(func() { a.feed(0, 60, map[int]func(){20: start(a, 1, 20), 25: start(a, 2, 25)}) })
	wg.Go(func() { b.feed(0, 60, map[int]func(){30: start(b, 3, 30)}) })
	wg.Wait()
	require.NoError(t, c.Close())

	require.Len(t, paths, 3)
	for p, want := range paths {
		_, _, n := probe(t, p)
		require.Equal(t, want, n, p)
	}
	require.Equal(t, ClipStats{Started: 3, Written: 3}, c.Stats())
}

func TestClipperCloseFlushesOpenClips(t *testing.T) {
	requireFFmpeg(t)
	c, _ := newTestClipper(t, time.Second, time.Minute)
	cam := &camera{name: "cam", ring: NewRing(3*time.Second, 64<<20), c: c, w: 32, h: 32}
	var path string
	cam.feed(0, 26, map[int]func(){20: func() {
		path = c.Start(context.Background(), cam.name, 1, 2*time.Second, cam.ring)
	}})
	require.NoFileExists(t, path, "post-roll not reached yet")
	require.NoError(t, c.Close())
	_, _, n := probe(t, path)
	require.Equal(t, 16, n, "frames 10..25")

	require.Empty(t, c.Start(context.Background(), "cam", 2, 3*time.Second, cam.ring), "Start after Close")
	c.Add("cam", testFrame(99, 32, 32)) // ignored, must not panic
	require.NoError(t, c.Close(), "second Close")
}

func TestClipperSizeChangeEndsClip(t *testing.T) {
	requireFFmpeg(t)
	c, _ := newTestClipper(t, time.Second, 2*time.Second)
	cam := &camera{name: "cam", ring: NewRing(3*time.Second, 64<<20), c: c, w: 32, h: 32}
	var path string
	cam.feed(0, 45, map[int]func(){40: func() {
		path = c.Start(context.Background(), cam.name, 1, 4*time.Second, cam.ring)
	}})
	cam.w, cam.h = 64, 32
	cam.feed(45, 50, nil) // ends the clip at frame 44
	require.NoError(t, c.Close())
	w, _, n := probe(t, path)
	require.Equal(t, 32, w)
	require.Equal(t, 15, n, "frames 30..44")
}

// The collection rules, without ffmpeg.
func TestClipCollect(t *testing.T) {
	frames := []*decode.Frame{testFrame(8, 2, 2), testFrame(9, 4, 4), testFrame(10, 2, 2), testFrame(11, 2, 2)}
	cl := &clip{ctx: context.Background(), end: 1500 * time.Millisecond, maxFrames: 100}
	cl.takePreRoll(frames, 900*time.Millisecond)
	require.Equal(t, []int{10, 11}, indexes(cl.frames), "newest run of one size, from the pre-roll start")

	require.True(t, cl.add(testFrame(11, 2, 2)), "duplicate PTS is skipped")
	require.True(t, cl.add(testFrame(12, 2, 2)))
	require.False(t, cl.add(testFrame(15, 2, 2)), "reaching the post-roll ends the clip")
	require.Equal(t, []int{10, 11, 12, 15}, indexes(cl.frames))

	cl = &clip{ctx: context.Background(), end: time.Hour, maxFrames: 100}
	require.True(t, cl.add(testFrame(5, 2, 2)))
	require.False(t, cl.add(testFrame(3, 2, 2)), "PTS going back ends the clip")

	cl = &clip{ctx: context.Background(), end: time.Hour, maxFrames: 3}
	for i := range 2 {
		require.True(t, cl.add(testFrame(i, 2, 2)))
	}
	require.False(t, cl.add(testFrame(2, 2, 2)), "frame budget ends the clip")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cl = &clip{ctx: ctx, end: time.Hour, maxFrames: 3}
	require.False(t, cl.add(testFrame(0, 2, 2)), "cancelled clip")
}

// fakeFFmpeg writes a partial output file, waits for the gate file to exist
// and fails, standing in for an encoder that is slow and then breaks.
func fakeFFmpeg(t *testing.T, gate string) string {
	t.Helper()
	script := filepath.Join(t.TempDir(), "ffmpeg")
	body := "#!/bin/sh\nfor a; do out=\"$a\"; done\necho partial > \"$out\"\n" +
		"while [ ! -e '" + gate + "' ]; do sleep 0.02; done\ncat >/dev/null\nexit 1\n"
	require.NoError(t, os.WriteFile(script, []byte(body), 0o755))
	return script
}

func TestClipperDropsWhenBusyAndRemovesFailedClips(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("skipping: no sh for the fake ffmpeg")
	}
	gate := filepath.Join(t.TempDir(), "gate")
	c, _ := newTestClipper(t, 0, 200*time.Millisecond,
		WithMaxEncodes(1), WithMaxQueued(0), WithVideoOptions(videoout.WithFFmpeg(fakeFFmpeg(t, gate))))
	cam := &camera{name: "cam", ring: NewRing(time.Second, 1<<20), c: c, w: 8, h: 8}
	var p1, p2 string
	cam.feed(0, 20, map[int]func(){
		5:  func() { p1 = c.Start(context.Background(), "cam", 1, 500*time.Millisecond, cam.ring) },
		10: func() { p2 = c.Start(context.Background(), "cam", 2, time.Second, cam.ring) },
	})
	// Clip 1 holds the only encoder (blocked on the gate), so clip 2 had
	// nowhere to go.
	require.Equal(t, int64(1), c.Stats().Dropped)
	require.NoError(t, os.WriteFile(gate, nil, 0o644))
	require.NoError(t, c.Close())
	require.Equal(t, ClipStats{Started: 2, Failed: 1, Dropped: 1}, c.Stats())
	for _, p := range []string{p1, p2} {
		require.NoFileExists(t, p)
		require.NoFileExists(t, p+partSuffix)
	}
}

func TestClipperCancelledContextAbandonsClip(t *testing.T) {
	requireFFmpeg(t)
	c, _ := newTestClipper(t, time.Second, time.Minute)
	cam := &camera{name: "cam", ring: NewRing(3*time.Second, 64<<20), c: c, w: 8, h: 8}
	ctx, cancel := context.WithCancel(context.Background())
	var path string
	cam.feed(0, 20, map[int]func(){15: func() { path = c.Start(ctx, "cam", 1, 1500*time.Millisecond, cam.ring) }})
	cancel()
	cam.feed(20, 22, nil)
	require.NoError(t, c.Close())
	require.NoFileExists(t, path)
	require.NoFileExists(t, path+partSuffix)
	require.Equal(t, int64(1), c.Stats().Failed)
}

func TestClipperDuplicateStartAndEmptyClip(t *testing.T) {
	c, _ := newTestClipper(t, time.Second, time.Second)
	p1 := c.Start(context.Background(), "cam", 1, time.Second, nil)
	p2 := c.Start(context.Background(), "cam", 1, time.Second, nil)
	require.Equal(t, p1, p2)
	require.NoError(t, c.Close()) // no frames ever arrived
	require.Equal(t, ClipStats{Started: 1, Failed: 1}, c.Stats())
	require.NoFileExists(t, p1)
}
